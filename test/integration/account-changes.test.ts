/**
 * Events a consumer can keep a view by (issue 15): an import that leaves its JWT, an account deleted
 * with the real `nsc push --prune` (`$SYS.REQ.CLAIMS.DELETE`), and an operator whose signing key is
 * removed across a server restart. The live service runs in this process against real servers;
 * events are asserted as exact sequences, in arrival order.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createOperator } from "@nats-io/jwt";
import type { Msg, NatsConnection, Subscription } from "@nats-io/nats-core";
import { InsightsApp } from "../../src/app.js";
import { loadConfig } from "../../src/config.js";
import { createLogger } from "../../src/shell/log.js";
import type { ImportEvent } from "../../src/shell/events.js";
import { startCluster, type Cluster } from "../support/cluster.js";
import { TestOperator, type TestAccount } from "../support/deployment.js";
import { streamFlows } from "../support/flow.js";
import { connectAs, connectSystem, lookupAccount, startServer, type RunningServer } from "../support/nats-server.js";
import { Nsc } from "../support/nsc.js";
import { toolPath } from "../support/tools.js";
import { caughtUp, type Instance } from "../support/caught-up.js";

const note = (...args: unknown[]) =>
  process.env["ACCOUNT_CHANGES_VERBOSE"] && console.log("[account-changes]", ...args);
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** "<account name> <subject> <status> <cause>", and " removed:<why>" for a removal. */
const show = (e: ImportEvent) =>
  `${e.account_name} ${e.subject} ${e.status} ${e.cause ?? "none"}${e.removed ? ` removed:${e.removed}` : ""}`;

/** Events in arrival order; `mark()` says where a step begins. */
class Events {
  readonly items: { at: number; event: ImportEvent }[] = [];
  constructor(sub: Subscription) {
    sub.callback = (_err: unknown, msg: Msg) =>
      void this.items.push({ at: Date.now(), event: msg.json<ImportEvent>() });
  }
  mark(): number {
    return this.items.length;
  }
  /**
   * Waits until `count` events arrived from `mark`, then until `app` has settled and all it
   * published has reached `collector` (nothing more will come); the events since `mark`.
   */
  async since(
    mark: number,
    count: number,
    app: Instance,
    collector: NatsConnection,
    timeoutMs = 8_000,
  ): Promise<{ at: number; event: ImportEvent }[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.items.length - mark < count && Date.now() < deadline) await sleep(20);
    await caughtUp(app, collector);
    return this.items.slice(mark);
  }
}

async function startService(op: TestOperator, urls: string[]): Promise<{ app: InsightsApp; dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), "insights-account-changes-"));
  writeFileSync(join(dir, "sys.creds"), await op.system.userCreds());
  const config = loadConfig(["--nats-url", urls.join(","), "--creds", join(dir, "sys.creds")], {});
  return { app: await InsightsApp.start(config, createLogger(process.env.TEST_LOG ?? "silent")), dir };
}

describe.skipIf(!toolPath("nsc") || !toolPath("nats-server"))(
  "imports that disappear and accounts deleted with nsc push --prune",
  () => {
    let nsc: Nsc;
    let op: TestOperator;
    let server: RunningServer;
    let app: InsightsApp;
    let sys: NatsConnection;
    let events: Events;
    let dir: string;
    let exp: TestAccount;
    let imp: TestAccount;
    /** When each delete request nsc sent was seen on the wire (the clock the 1 s is measured from). */
    const deletesSeen: number[] = [];

    beforeAll(async () => {
      nsc = Nsc.create();
      await nsc.run("add", "operator", "--generate-signing-key", "--sys", "--name", "OP");
      await nsc.run("add", "account", "--name", "EXP");
      await nsc.run("add", "account", "--name", "IMP");
      await nsc.run("add", "export", "--account", "EXP", "--subject", "pub.>");
      await nsc.run("add", "export", "--account", "EXP", "--subject", "keep.>");
      const expId = await nsc.accountId("EXP");
      await nsc.run("add", "import", "--account", "IMP", "--src-account", expId, "--remote-subject", "pub.x");
      await nsc.run("add", "import", "--account", "IMP", "--src-account", expId, "--remote-subject", "keep.x");
      op = await nsc.testOperator();
      server = await startServer(op, { allowDelete: true });
      await nsc.run("edit", "operator", "--service-url", server.url, "--account-jwt-server-url", server.url);
      await nsc.run("push", "-A");
      exp = await nsc.testAccount(op, "EXP");
      imp = await nsc.testAccount(op, "IMP");
      sys = await connectSystem(server, op);
      events = new Events(sys.subscribe("insights.events.imports.>"));
      sys.subscribe("$SYS.REQ.CLAIMS.DELETE", { callback: () => void deletesSeen.push(Date.now()) });
      await sys.flush();
      ({ app, dir } = await startService(op, [server.url]));
    }, 60_000);

    afterAll(async () => {
      await app?.stop();
      await sys?.close();
      await server?.stop();
      await nsc?.cleanup();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    it("at start every import is active: no event", async () => {
      expect(await streamFlows(server, exp, imp, "pub.x", "pub.x", 3_000)).toBe(true);
      expect((await events.since(0, 0, app, sys)).map((e) => show(e.event))).toEqual([]);
    });

    it("an import deleted from its JWT is published as removed", async () => {
      const m = events.mark();
      await nsc.run("delete", "import", "--account", "IMP", "--subject", "keep.x");
      await nsc.run("push", "--account", "IMP");
      const seen = await events.since(m, 1, app, sys);
      expect(seen.map((e) => show(e.event))).toEqual(["IMP keep.x active none removed:import_removed"]);
      expect(seen[0]!.event).toMatchObject({ previous_status: "active", previous_cause: null, remediation: [] });
    });

    it("the exporter deleted with nsc push --prune: the importer's import is dead within 1 s", async () => {
      await nsc.run("delete", "account", "--name", "EXP");
      const m = events.mark();
      const pruned = await nsc.run("push", "--prune");
      const sent = deletesSeen.at(-1)!;
      expect(pruned.stdout + pruned.stderr).toMatch(/deleted 1 accounts/);
      expect(deletesSeen).toHaveLength(1);
      expect(await lookupAccount(server, op, exp.id)).toBeNull();
      const seen = await events.since(m, 1, app, sys);
      expect(seen.map((e) => show(e.event))).toEqual(["IMP pub.x inactive source_account_not_found"]);
      note("exporter deleted: event", seen[0]!.at - sent, "ms after nsc's delete request");
      expect(seen[0]!.at - sent).toBeLessThan(1_000);
      // The oracle: the deleted account's users are refused.
      await expect(connectAs(server, exp)).rejects.toThrow();
    });

    it("the importer deleted with nsc push --prune: its import is published as removed within 1 s", async () => {
      await nsc.run("delete", "account", "--name", "IMP");
      const m = events.mark();
      const heard = deletesSeen.length;
      await nsc.run("push", "--prune");
      expect(deletesSeen.length).toBe(heard + 1);
      const sent = deletesSeen.at(-1)!;
      const seen = await events.since(m, 1, app, sys);
      expect(seen.map((e) => show(e.event))).toEqual([
        "IMP pub.x inactive source_account_not_found removed:account_deleted",
      ]);
      note("importer deleted: event", seen[0]!.at - sent, "ms after nsc's delete request");
      expect(seen[0]!.at - sent).toBeLessThan(1_000);
      const reply = (await sys.request("insights.imports.check", "{}", { timeout: 3000 })).json<{
        summary: { imports: number };
      }>();
      expect(reply.summary.imports).toBe(0);
    });
  },
);

describe.skipIf(!toolPath("nats-server"))("the operator's signing key removed across a server restart", () => {
  let op: TestOperator;
  let cluster: Cluster;
  let app: InsightsApp;
  let sys: NatsConnection;
  let events: Events;
  let dir: string;
  let exp: TestAccount;
  let imp: TestAccount;
  const sk2 = createOperator();

  beforeAll(async () => {
    op = await TestOperator.create({ signingKey: true });
    await op.reissue({ signing_keys: [sk2.getPublicKey()] }); // trusts its signing key and sk2
    exp = await op.account("EXP", { exports: [{ name: "pub", subject: "pub.>", type: "stream" }] }, { issuer: sk2 });
    imp = await op.account("IMP", { imports: [{ name: "pub", account: exp.id, subject: "pub.x", type: "stream" }] });
    cluster = await startCluster(op, { nodes: 1 });
    await cluster.pushAll(0, [exp, imp]);
    sys = await cluster.connect(0, op.system, { reconnect: true, maxReconnectAttempts: -1, reconnectTimeWait: 50 });
    events = new Events(sys.subscribe("insights.events.imports.>"));
    await sys.flush();
    ({ app, dir } = await startService(op, cluster.urls));
  }, 60_000);

  afterAll(async () => {
    await app?.stop();
    await sys?.close();
    await cluster?.stopAll();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("the service re-reads the operator on reconnect and reports the accounts that no longer load", async () => {
    const node = cluster.servers[0]!;
    const url = node.url;
    const server = { url } as RunningServer;
    expect(await streamFlows(server, exp, imp, "pub.x", "pub.x", 3_000)).toBe(true);
    expect((await events.since(0, 0, app, sys)).map((e) => show(e.event))).toEqual([]);

    const m = events.mark();
    await cluster.stop(0);
    const before = op.jwt;
    await op.reissue(); // sk2 removed: only the operator's own signing key stays
    writeFileSync(node.configPath, readFileSync(node.configPath, "utf8").replace(before, op.jwt));
    await cluster.start(0);
    const restarted = Date.now();

    const seen = await events.since(m, 1, app, sys, 15_000);
    expect(seen.map((e) => show(e.event))).toEqual(["IMP pub.x inactive source_account_not_found"]);
    expect(seen[0]!.event.message).toMatch(/will not load it/);
    note("operator changed: event", seen[0]!.at - restarted, "ms after the server restarted");
    // The oracle: EXP's users are refused by the restarted server, so nothing can cross the import.
    await expect(connectAs(server, exp)).rejects.toThrow();
  });
});
