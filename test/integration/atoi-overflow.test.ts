/**
 * A `$N` whose number Go's strconv.Atoi refuses (past int64) is no wildcard reference for the jwt
 * library or nats-server but an ordinary token (src/core/atoi.ts). Measured on every pinned line:
 * the server stores an importer whose local subjects carry one, honours both imports and carries
 * their messages, and installs a subject mapping with one in its destination; the engine says the
 * same (it used to call the local subjects invalid and, on 2.15.2's rules, the mapping a reason to
 * refuse the whole JWT). What the server does next is its own bug: a subscription narrower than
 * the stream import's local subject crashes it (the last test).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AccountDirectory, DEFAULT_EXPIRY_WARNING_SECONDS, OperatorTrust, diagnoseAll } from "../../src/core/index.js";
import { parseAccount } from "../../src/core/jwt/claims.js";
import { rulesFor, validateAccount } from "../../src/core/validate.js";
import { TestOperator, nowSec, type TestAccount } from "../support/deployment.js";
import {
  accountInfo,
  connectAs,
  connectSystem,
  lookupWith,
  pushWith,
  startServer,
  type RunningServer,
} from "../support/nats-server.js";
import { pinnedServers } from "../support/tools.js";

/** Past int64 (2^63 - 1 = 9223372036854775807): Atoi refuses it. */
const PAST_INT64 = "$99999999999999999999";

interface Deployment {
  op: TestOperator;
  exporter: TestAccount;
  importer: TestAccount;
  mapper: TestAccount;
}

async function deployment(): Promise<Deployment> {
  const op = await TestOperator.create({ signingKey: true });
  const exporter = await op.account("ATOI-EXP", {
    exports: [
      { subject: "ovf.*", type: "stream" },
      { subject: "ovs.*", type: "service" },
    ],
  });
  const importer = await op.account("ATOI-IMP", {
    imports: [
      { account: exporter.id, subject: "ovf.*", type: "stream", local_subject: `lo.*.${PAST_INT64}` },
      { account: exporter.id, subject: "ovs.*", type: "service", local_subject: `lso.*.${PAST_INT64}` },
    ],
  });
  const mapper = await op.account("ATOI-MAP", { mappings: { "mo.*": [{ subject: `mn.$1.${PAST_INT64}` }] } });
  return { op, exporter, importer, mapper };
}

/** The subjects a user of `to` receives on `listen` when a user of `from` publishes on `publish`. */
async function delivered(
  server: RunningServer,
  from: TestAccount,
  to: TestAccount,
  listen: string,
  publish: string,
): Promise<string[]> {
  const sender = await connectAs(server, from);
  const receiver = await connectAs(server, to);
  try {
    const got: string[] = [];
    receiver.subscribe(listen, { callback: (_e, m) => void got.push(m.subject) });
    await receiver.flush();
    sender.publish(publish, "x");
    // one server routes a message before it answers the publisher's flush, and queues the
    // receiver's PONG behind it (test/support/flow.ts): one round is conclusive
    await sender.flush();
    await receiver.flush();
    return got;
  } finally {
    await Promise.all([sender.close(), receiver.close()]);
  }
}

/** Resolves once `condition` holds (another process's exit: polled). */
async function until(condition: () => boolean, limitMs = 20_000): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("condition not reached");
    await new Promise((r) => setTimeout(r, 25));
  }
}

for (const { version, bin } of pinnedServers()) {
  describe.skipIf(!bin)(
    `a $N past int64 on a real nats-server v${version}${bin ? "" : " (not installed: skipped)"}`,
    () => {
      let d: Deployment;
      let server: RunningServer;
      const pushed: boolean[] = [];

      beforeAll(async () => {
        d = await deployment();
        server = await startServer(d.op, { bin: bin! });
        const nc = await connectSystem(server, d.op);
        try {
          for (const a of [d.exporter, d.importer, d.mapper]) {
            pushed.push((await pushWith(nc, a.jwt)).ok);
            expect(await lookupWith(nc, a.id)).toBe(a.jwt);
          }
        } finally {
          await nc.close();
        }
      }, 60_000);

      afterAll(async () => {
        await server?.stop();
      });

      it("the server stores every JWT, and the engine finds nothing to refuse", () => {
        expect(pushed).toEqual([true, true, true]);
        for (const a of [d.importer, d.mapper]) {
          const parsed = parseAccount(a.jwt);
          if (!parsed.ok) throw new Error(parsed.error);
          const v = validateAccount(parsed.claims, rulesFor(version));
          expect([...v.imports.values()], a.name).toEqual([]);
          expect(v.other, a.name).toEqual([]);
        }
      });

      it("the engine says both imports are active, and the server's INFO lists them (the reference written as *)", async () => {
        const trust = new OperatorTrust();
        trust.addOperator(d.op.jwt);
        trust.rules = rulesFor(version);
        const dir = new AccountDirectory(trust);
        for (const a of [d.exporter, d.importer, d.mapper]) dir.upsert(a.jwt);
        const verdicts = diagnoseAll(dir, { now: nowSec(), expiryWarningSeconds: DEFAULT_EXPIRY_WARNING_SECONDS }, [
          d.importer.id,
        ]);
        expect(verdicts.map((v) => [v.subject, v.status, v.cause])).toEqual([
          ["ovf.*", "active", null],
          ["ovs.*", "active", null],
        ]);

        // connecting a user loads the account, so its INFO exists
        await (await connectAs(server, d.importer)).close();
        const info = await accountInfo(server, d.op, d.importer.id);
        type Listed = { account: string; subject: string; local_subject: string; invalid: boolean };
        const imports = ((info?.["imports"] ?? []) as Listed[])
          .filter((i) => i.account === d.exporter.id)
          .map((i) => [i.subject, i.local_subject, i.invalid])
          .sort();
        expect(imports).toEqual([
          ["ovf.*", "lo.*.*", false],
          ["ovs.*", "lso.*.*", false],
        ]);
      });

      it("stream: a subscriber of the whole local subject gets the exporter's ovf.a on lo.a.$99999999999999999999", async () => {
        // lo.*.* is the local subject as the server registers it; a narrower subscription: the last test
        expect(await delivered(server, d.exporter, d.importer, "lo.*.*", "ovf.a")).toEqual([`lo.a.${PAST_INT64}`]);
      });

      it("service: a request on lso.a.$99999999999999999999 is answered, and reaches the exporter on the literal ovs.*", async () => {
        // The server subscribes the import on lso.*.* and cannot reverse the two-* local subject onto
        // ovs.*, so it forwards every request to the export's subject as written.
        const exp = await connectAs(server, d.exporter);
        const imp = await connectAs(server, d.importer);
        try {
          const seen: string[] = [];
          exp.subscribe("ovs.>", { callback: (_e, m) => void (seen.push(m.subject), m.respond("pong")) });
          await exp.flush();
          const reply = await imp.request(`lso.a.${PAST_INT64}`, "ping", { timeout: 5_000 });
          expect(reply.string()).toBe("pong");
          expect(seen).toEqual(["ovs.*"]);
        } finally {
          await Promise.all([exp.close(), imp.close()]);
        }
      });

      it("mapping: what a client publishes on mo.a lands on mn.a.$99999999999999999999", async () => {
        expect(await delivered(server, d.mapper, d.mapper, ">", "mo.a")).toEqual([`mn.a.${PAST_INT64}`]);
      });

      // Last: it kills the server. A subscription narrower than lo.*.* needs the import's reverse
      // transform, which the server could not build from the two-* local subject; it uses it all the
      // same (a nil pointer in addShadowSub) and the whole process exits. The engine does not warn of it.
      it("a subscriber of the importer on lo.a.$99999999999999999999 crashes the server (nil pointer)", async () => {
        const nc = await connectAs(server, d.importer);
        nc.subscribe(`lo.a.${PAST_INT64}`);
        // never answered: the server is gone first
        void nc.flush().catch(() => undefined);
        await until(() => server.exited);
        expect(server.logs()).toMatch(/panic: runtime error: invalid memory address or nil pointer dereference/);
        expect(server.logs()).toMatch(/addShadowSub/);
        void nc.close().catch(() => undefined);
      });
    },
  );
}
