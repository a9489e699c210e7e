/**
 * The server's cycle walk refuses an import past its search depth (MaxAccountCycleSearchDepth, 1,024
 * accounts: ErrCycleSearchDepth), measured on every pinned line with a chain of 1,026 accounts
 * (test/support/chain.ts) in a full resolver's store: the first client of C0 loads the whole chain,
 * the tail first. The importer's account INFO lists exactly the imports the server honours: C1's
 * walk enters C1025 holding 1,024 accounts and is refused (both its stream and its service import);
 * C2's holds 1,023 and C0's stops at C1, so theirs stand. A stream import of C2's under a local
 * subject C2 does not export (Y) is refused too, walked on the source's subject alone; the same of
 * C3's (Z) stands. The engine says the same from the JWTs.
 * (The diamond, the walk's other refusal without a cycle, is in the scenario catalogue.)
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { NatsConnection } from "@nats-io/nats-core";
import { AccountDirectory, DEFAULT_EXPIRY_WARNING_SECONDS, OperatorTrust, diagnoseAll } from "../../src/core/index.js";
import { importChain } from "../support/chain.js";
import { TestOperator, type TestAccount } from "../support/deployment.js";
import { connectAs, connectSystem, startServer, type RunningServer } from "../support/nats-server.js";
import { pinnedServers } from "../support/tools.js";

const LINKS = 1025;

let op: TestOperator;
let chain: TestAccount[];
/**
 * Y imports C2's `chain.>` under `elsewhere.>`, which C2 does not export: only the walk on the
 * source's subject goes on. Z imports C3's the same way (one account fewer on its walk).
 */
let y: TestAccount;
let z: TestAccount;
beforeAll(async () => {
  op = await TestOperator.create();
  chain = await importChain(op, LINKS);
  y = await op.account("chain-Y", {
    imports: [{ account: chain[2]!.id, subject: "chain.>", type: "stream", local_subject: "elsewhere.>" }],
  });
  z = await op.account("chain-Z", {
    imports: [{ account: chain[3]!.id, subject: "chain.>", type: "stream", local_subject: "elsewhere.>" }],
  });
}, 600_000);

/** The imports (type and subject) the server's account INFO lists for each account, in order. */
async function honoured(server: RunningServer, accounts: TestAccount[]): Promise<string[][]> {
  const nc = await connectSystem(server, op);
  try {
    const out: string[][] = [];
    for (const a of accounts) {
      const msg = await nc.request(`$SYS.REQ.ACCOUNT.${a.id}.INFO`, "", { timeout: 30_000 });
      const info = (JSON.parse(msg.string()) as { data?: { imports?: { subject: string; type: string }[] } }).data;
      const mine = (info?.imports ?? []).filter((i) => i.subject.startsWith("chain."));
      out.push(mine.map((i) => `${i.type} ${i.subject}`).sort());
    }
    return out;
  } finally {
    await nc.close();
  }
}

describe("the cycle walk's search depth", () => {
  it("the engine refuses C1's imports and no other, from the JWTs", () => {
    const trust = new OperatorTrust();
    trust.addOperator(op.jwt);
    const dir = new AccountDirectory(trust);
    for (const a of [...chain, y, z]) dir.upsert(a.jwt);
    const opts = { now: Math.floor(Date.now() / 1000), expiryWarningSeconds: DEFAULT_EXPIRY_WARNING_SECONDS };
    expect(
      diagnoseAll(
        dir,
        opts,
        [...chain.slice(0, 3), y, z].map((a) => a.id),
      ).map((d) => `${d.account_name} ${d.type} ${d.status} ${d.cause}`),
    ).toEqual([
      "chain-C0 stream active null",
      "chain-C0 service active null",
      "chain-C1 stream inactive cycle_search_refused",
      "chain-C1 service inactive cycle_search_refused",
      "chain-C2 stream active null",
      "chain-C2 service active null",
      "chain-Y stream inactive cycle_search_refused",
      "chain-Z stream active null",
    ]);
  }, 120_000);

  for (const line of pinnedServers())
    describe.skipIf(!line.bin)(`nats-server ${line.version}`, () => {
      let server: RunningServer;
      let client: NatsConnection | undefined;
      const others: NatsConnection[] = [];
      beforeAll(async () => {
        server = await startServer(op, { bin: line.bin!, stored: [...chain, y, z], debug: false });
      }, 120_000);
      afterAll(async () => {
        await client?.close().catch(() => undefined);
        for (const c of others) await c.close().catch(() => undefined);
        await server?.stop();
      });

      it("honours C0's and C2's imports and refuses C1's, once a client of C0 has loaded the chain", async () => {
        client = await connectAs(server, chain[0]!, { timeout: 120_000 });
        const both = ["service chain.svc.>", "stream chain.>"];
        expect(await honoured(server, chain.slice(0, 3))).toEqual([both, [], both]);
        // Y's walk on C2's subject holds Y and C2 … C1024 when it enters C1025 (its local subject's walk
        // stops at C2 at once): refused, as C1's. Z's holds one account fewer: added.
        for (const a of [y, z]) others.push(await connectAs(server, a, { timeout: 120_000 }));
        expect(await honoured(server, [y, z])).toEqual([[], ["stream chain.>"]]);
      }, 300_000);
    });
});
