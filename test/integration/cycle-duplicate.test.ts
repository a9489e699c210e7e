/**
 * A stream imported twice from one account (isStreamImportDuplicate: the server keeps the first it
 * added) where a cycle walk refuses the first, measured on every pinned line. The walk runs before
 * the duplicate test (AddMappedStreamImportWithClaim), so a refused first import is never added and
 * the second one is no duplicate.
 *
 * A walk that refuses the first on every load order (a diamond) leaves the second active: catalogue
 * scenario "… the first refused by the cycle search". A cycle (EXP imports IMP's `cl.>`, into which
 * IMP's first import delivers) is refused in the account looked up first (decision 23): when IMP is
 * loaded first its first import is refused and its second added; when EXP is loaded first IMP's
 * first import is added while EXP loads, and the second is refused as its duplicate. The JWTs do
 * not say which, so the second import is as undetermined as the cycle (duplicate_of_cycle_import;
 * the engine called it active before).
 */
import { beforeAll, describe, expect, it } from "vitest";
import type { NatsConnection } from "@nats-io/nats-core";
import { AccountDirectory, DEFAULT_EXPIRY_WARNING_SECONDS, OperatorTrust, diagnoseAll } from "../../src/core/index.js";
import { TestOperator, type TestAccount } from "../support/deployment.js";
import { connectAs, connectSystem, startServer, type RunningServer } from "../support/nats-server.js";
import { pinnedServers } from "../support/tools.js";

let op: TestOperator;
let cyc: { imp: TestAccount; exp: TestAccount };

beforeAll(async () => {
  op = await TestOperator.create();
  const exp = await op.account("cdup-EXP");
  const imp = await op.account("cdup-IMP");
  await exp.reissue({
    exports: [
      { subject: "cd.>", type: "stream" },
      { subject: "cl.>", type: "stream" },
    ],
    imports: [{ account: imp.id, subject: "cl.>", type: "stream" }],
  });
  await imp.reissue({
    exports: [{ subject: "cl.>", type: "stream" }],
    imports: [
      { name: "first", account: exp.id, subject: "cd.>", type: "stream", local_subject: "cl.>" },
      { name: "second", account: exp.id, subject: "cd.>", type: "stream", local_subject: "cm.>" },
    ],
  });
  cyc = { imp, exp };
}, 60_000);

/** The local subjects of the stream imports IMP's account INFO lists: the ones the server honours. */
async function honoured(server: RunningServer): Promise<string[]> {
  const nc = await connectSystem(server, op);
  try {
    const msg = await nc.request(`$SYS.REQ.ACCOUNT.${cyc.imp.id}.INFO`, "", { timeout: 30_000 });
    const info = (JSON.parse(msg.string()) as { data?: { imports?: { type: string; local_subject?: string }[] } }).data;
    return (info?.imports ?? []).filter((i) => i.type === "stream").map((i) => i.local_subject ?? "");
  } finally {
    await nc.close();
  }
}

describe("a stream imported twice, the first on a cycle", () => {
  it("the engine calls the second undetermined, as the cycle", () => {
    const trust = new OperatorTrust();
    trust.addOperator(op.jwt);
    const dir = new AccountDirectory(trust);
    for (const a of [op.system, cyc.exp, cyc.imp]) dir.upsert(a.jwt);
    const opts = { now: Math.floor(Date.now() / 1000), expiryWarningSeconds: DEFAULT_EXPIRY_WARNING_SECONDS };
    expect(
      diagnoseAll(dir, opts, [cyc.imp.id, cyc.exp.id]).map(
        (d) => `${d.account_name} ${d.local_subject ?? d.subject} ${d.status} ${d.cause}`,
      ),
    ).toEqual([
      "cdup-IMP cl.> undetermined import_cycle",
      "cdup-IMP cm.> undetermined duplicate_of_cycle_import",
      "cdup-EXP cl.> undetermined import_cycle",
    ]);
  });

  for (const line of pinnedServers())
    describe.skipIf(!line.bin)(`nats-server ${line.version}`, () => {
      // IMP first: its first import closes the cycle (refused), the second is added. EXP first: IMP's
      // first import goes in while EXP loads, the second is its duplicate.
      for (const [first, listed] of [
        ["IMP", ["cm.>"]],
        ["EXP", ["cl.>"]],
      ] as const)
        it(`${first} loaded first: IMP's INFO lists only its import under ${listed[0]}`, async () => {
          const server = await startServer(op, { bin: line.bin!, stored: [cyc.exp, cyc.imp], debug: false });
          const clients: NatsConnection[] = [];
          try {
            const order = first === "IMP" ? [cyc.imp, cyc.exp] : [cyc.exp, cyc.imp];
            for (const a of order) clients.push(await connectAs(server, a, { timeout: 30_000 }));
            expect(await honoured(server)).toEqual(listed);
          } finally {
            for (const c of clients) await c.close().catch(() => undefined);
            await server.stop();
          }
        }, 60_000);
    });
});
