/**
 * Which import of a cycle nats-server refuses, measured: the JWTs do not say, the load order on
 * each node does. A and B import each other's `loop.>`; C imports A's. On every node the account
 * of the cycle looked up first (whatever looks it up: a client's connect, or loading another
 * account that imports from it) is fetched, and fetching it loads the other one through its
 * import before its own imports are added, so the other's import goes in first and its own
 * closes the cycle: refused. Each node decides for itself; pushes keep what it decided (a re-check
 * walks the other account's import, which is still there); a restart decides again. Flow is measured with both clients on the node under test.
 *
 * So the engine calls both imports `undetermined` from the JWTs alone, and `check --server` asks
 * the servers: `inactive` where every server that has the importer loaded refuses it, `warning`
 * where one honours it (the servers' count in the message).
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { NatsConnection } from "@nats-io/nats-core";
import type { AuditReport } from "../../src/cli/audit.js";
import { runCheck } from "../../src/cli/check.js";
import { AccountDirectory, DEFAULT_EXPIRY_WARNING_SECONDS, OperatorTrust, diagnoseAll } from "../../src/core/index.js";
import { startCluster, type Cluster } from "../support/cluster.js";
import { TestOperator, type TestAccount } from "../support/deployment.js";
import { streamFlows } from "../support/flow.js";
import { toolPath } from "../support/tools.js";

interface Cycle {
  op: TestOperator;
  a: TestAccount;
  b: TestAccount;
  c: TestAccount;
}

async function cycle(): Promise<Cycle> {
  const op = await TestOperator.create();
  const [a, b, c] = [await op.account("A"), await op.account("B"), await op.account("C")];
  const loop = (from: TestAccount) => ({
    exports: [{ subject: "loop.>", type: "stream" as const }],
    imports: [{ account: from.id, subject: "loop.>", type: "stream" as const }],
  });
  await a.reissue(loop(b));
  await b.reissue(loop(a));
  await c.reissue({ imports: [{ account: a.id, subject: "loop.>", type: "stream" }] });
  return { op, a, b, c };
}

/** Which import of the cycle node i refuses, by flow through it on that node: "A", "B", or what else flows. */
async function refusedOn(cluster: Cluster, i: number, { a, b }: Cycle): Promise<string> {
  const at = { url: cluster.url(i) };
  const window = cluster.servers.length > 1 ? 1_000 : 0;
  const aImportFlows = await streamFlows(at, b, a, "loop.x", "loop.x", window);
  const bImportFlows = await streamFlows(at, a, b, "loop.y", "loop.y", window);
  if (aImportFlows && !bImportFlows) return "B";
  if (bImportFlows && !aImportFlows) return "A";
  return `A's import ${aImportFlows ? "flows" : "is refused"}, B's ${bImportFlows ? "flows" : "is refused"}`;
}

/** The engine from the JWTs alone: (status, cause) of A's and B's imports. */
function offline({ op, a, b, c }: Cycle): string[] {
  const trust = new OperatorTrust();
  trust.addOperator(op.jwt);
  const dir = new AccountDirectory(trust);
  for (const x of [op.system, a, b, c]) dir.upsert(x.jwt);
  const opts = { now: Math.floor(Date.now() / 1000), expiryWarningSeconds: DEFAULT_EXPIRY_WARNING_SECONDS };
  return diagnoseAll(dir, opts, [a.id, b.id]).map((d) => `${d.account_name} ${d.status} ${d.cause}`);
}

/** `nats-insights check --server <node i> --json` in-process: (account, status, cause, message) of A's and B's imports. */
async function checkServer(
  cluster: Cluster,
  i: number,
  { op, a, b }: Cycle,
): Promise<{ code: number; found: string[]; messages: string[] }> {
  const dir = mkdtempSync(join(tmpdir(), "insights-cycle-order-"));
  try {
    const creds = join(dir, "sys.creds");
    writeFileSync(creds, await op.system.userCreds());
    let out = "";
    const io = { stdout: { write: (s: string) => ((out += s), true) }, stderr: { write: () => true }, env: {} };
    const code = await runCheck(["--server", cluster.url(i), "--creds", creds, "--json"], io);
    const report = JSON.parse(out) as AuditReport;
    const mine = report.imports.filter((d) => d.account === a.id || d.account === b.id);
    mine.sort((x, y) => (x.account_name ?? "").localeCompare(y.account_name ?? ""));
    return {
      code,
      found: mine.map((d) => `${d.account_name} ${d.status} ${d.cause}`),
      messages: mine.map((d) => d.message),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe.skipIf(!toolPath("nats-server"))("which import of a cycle the server refuses", () => {
  const pinned: NatsConnection[] = [];
  const pin = async (cluster: Cluster, i: number, account: TestAccount) =>
    pinned.push(await cluster.connect(i, account, { timeout: 10_000 }));
  const unpin = async () => {
    for (const nc of pinned.splice(0)) await nc.close().catch(() => undefined);
  };

  describe("one server", () => {
    let cluster: Cluster;
    let d: Cycle;

    beforeAll(async () => {
      d = await cycle();
      cluster = await startCluster(d.op, { nodes: 1, debug: false });
      await cluster.pushAll(0, [d.a, d.b, d.c]);
    }, 60_000);

    afterAll(async () => {
      await unpin();
      await cluster?.stopAll();
    });

    it("the account whose client connects first loses its import; pushes keep it; a restart decides again", async () => {
      await pin(cluster, 0, d.b);
      await pin(cluster, 0, d.a);
      expect(await refusedOn(cluster, 0, d)).toBe("B");
      // Pushing either account again (re-signed, or the same JWT) re-checks its imports against the other's: no change.
      await d.a.reissue();
      await d.b.reissue();
      for (const acc of [d.a, d.b, d.a, d.b]) expect((await cluster.push(0, acc.jwt)).ok).toBe(true);
      expect(await refusedOn(cluster, 0, d)).toBe("B");
      await unpin();
      await cluster.stop(0);
      await cluster.start(0);
      await pin(cluster, 0, d.a);
      expect(await refusedOn(cluster, 0, d)).toBe("A");
      // The JWTs alone cannot tell; the server can.
      expect(offline(d)).toEqual(["A undetermined import_cycle", "B undetermined import_cycle"]);
      const check = await checkServer(cluster, 0, d);
      expect(check.found).toEqual(["A inactive import_cycle", "B warning import_cycle"]);
      expect(check.messages[0]).toMatch(/All 1 server\(s\) that have A loaded refuse this import/);
      expect(check.messages[1]).toMatch(
        /1 of 1 server\(s\) loaded the accounts in another order and honour this import/,
      );
      expect(check.code).toBe(1);
    }, 60_000);

    it("loading another account that imports from one of the cycle loads that one first", async () => {
      await unpin();
      await cluster.stop(0);
      await cluster.start(0);
      // C's connect loads C, whose import loads A, whose import loads B: A is first.
      await pin(cluster, 0, d.c);
      await pin(cluster, 0, d.b);
      expect(await refusedOn(cluster, 0, d)).toBe("A");
    }, 60_000);
  });

  describe("a 3-node cluster", () => {
    let cluster: Cluster;
    let d: Cycle;

    beforeAll(async () => {
      d = await cycle();
      cluster = await startCluster(d.op, { nodes: 3, debug: false });
      await cluster.pushAll(0, [d.a, d.b, d.c]);
      const deadline = Date.now() + 10_000;
      while (![0, 1, 2].every((i) => [d.a, d.b, d.c].every((x) => cluster.storedJwt(i, x.id) === x.jwt))) {
        if (Date.now() > deadline) throw new Error("the pushes did not reach every node");
        await new Promise((r) => setTimeout(r, 50));
      }
    }, 90_000);

    afterAll(async () => {
      await unpin();
      await cluster?.stopAll();
    });

    it("each node refuses the import of the account it loaded first, whatever the others did", async () => {
      await pin(cluster, 0, d.a);
      await pin(cluster, 1, d.b);
      await pin(cluster, 2, d.c);
      for (let i = 0; i < 3; i++) for (const x of [d.a, d.b]) await pin(cluster, i, x);
      expect([await refusedOn(cluster, 0, d), await refusedOn(cluster, 1, d), await refusedOn(cluster, 2, d)]).toEqual([
        "A",
        "B",
        "A",
      ]);
      // Each import works on some node: both are warnings, each naming how many nodes honour it.
      const check = await checkServer(cluster, 2, d);
      expect(check.found).toEqual(["A warning import_cycle", "B warning import_cycle"]);
      expect(check.messages[0]).toMatch(/ 1 of 3 server\(s\) loaded the accounts in another order/);
      expect(check.messages[1]).toMatch(/ 2 of 3 server\(s\) loaded the accounts in another order/);
      // Another account's interest crossing the routes first (a subscription of A on node 0 makes
      // node 1 register A as a placeholder) does not change whom node 1 then refuses when restarted.
      await unpin();
      await cluster.stop(1);
      await cluster.start(1);
      await cluster.waitForCluster();
      const sub = await cluster.connect(0, d.a);
      sub.subscribe("loop.interest");
      await sub.flush();
      pinned.push(sub);
      // Wait until node 1 has registered A from that interest (its ACCOUNTZ lists it).
      const deadline = Date.now() + 10_000;
      while (
        !(
          (await (await fetch(`${cluster.servers[1]!.monitorUrl}/accountz`)).json()) as { accounts?: string[] }
        ).accounts?.includes(d.a.id)
      ) {
        if (Date.now() > deadline) throw new Error("node 1 never registered A from the remote interest");
        await new Promise((r) => setTimeout(r, 50));
      }
      await pin(cluster, 1, d.a);
      expect(await refusedOn(cluster, 1, d)).toBe("A");
    }, 90_000);
  });
});
