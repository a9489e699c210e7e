/**
 * Several instances on NATS itself: requests shared through the queue group, and each change
 * published exactly once across instances through a JetStream KV bucket (compare-and-set per
 * import, three replicas), which also carries what was published across restarts. A real 3-node
 * JetStream cluster; three instances run in this process, each connected to its own node.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Msg, NatsConnection } from "@nats-io/nats-core";
import { jetstreamManager } from "@nats-io/jetstream";
import { InsightsApp } from "../../src/app.js";
import { loadConfig } from "../../src/config.js";
import { createLogger } from "../../src/shell/log.js";
import type { ImportEvent } from "../../src/shell/events.js";
import { TestOperator, type ExportClaim, type TestAccount } from "../support/deployment.js";
import { startCluster, type Cluster } from "../support/cluster.js";
import { toolPath } from "../support/tools.js";
import { allCaughtUp } from "../support/caught-up.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(what: string, cond: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(50);
  }
}

/**
 * Whether `account` has JetStream on node `i`: a push is answered by the first node that stored it,
 * and a node that takes the account a moment later refuses its JetStream API until then.
 */
async function jetStreamOn(cluster: Cluster, i: number, account: TestAccount): Promise<string | null> {
  const nc = await cluster.connect(i, account);
  try {
    await (await jetstreamManager(nc)).getAccountInfo();
    return null;
  } catch (e) {
    return (e as Error).message;
  } finally {
    await nc.close().catch(() => {});
  }
}

describe.skipIf(!toolPath("nats-server"))("several instances", () => {
  let op: TestOperator;
  let cluster: Cluster;
  let sys: NatsConnection;
  let dir: string;
  let exporter: TestAccount;
  let importer: TestAccount;
  const apps: InsightsApp[] = [];
  const events: ImportEvent[] = [];

  let next = 0;
  const start = async () => {
    // Each instance on its own node (nats.js shuffles a list of servers, so give it one).
    const urls = cluster.url(next++ % 3);
    const args = [
      "--nats-url",
      urls,
      "--creds",
      join(dir, "sys.creds"),
      "--state-creds",
      join(dir, "state.creds"),
      "--state-replicas",
      "3",
      "--epoch",
      "60",
    ];
    const app = await InsightsApp.start(loadConfig(args, {}), createLogger("silent"));
    apps.push(app);
    return app;
  };
  const count = (subject: string, cause: string | null) =>
    events.filter((e) => e.subject === subject && e.cause === cause).length;
  const verdictOf = (app: InsightsApp, subject: string) =>
    app.diagnoses().find((d) => d.account === importer.id && d.subject === subject);
  /**
   * Every running instance holds this verdict for IMP's import of `subject` (or no longer has the
   * import: "removed"), so each has heard the change and decided whether to publish it, and what
   * each published has reached `sys`: a duplicate would be among the events by then.
   */
  const allDecided = async (subject: string, verdict: string | null) => {
    for (const [i, app] of apps.entries()) {
      await until(`instance ${i} to hold ${subject} ${verdict}`, () =>
        verdict === "removed" ? !verdictOf(app, subject) : verdictOf(app, subject)?.cause === verdict,
      );
    }
    await allCaughtUp(apps, sys);
  };
  const breakAndWait = async (subject: string, cause: string | null) => {
    await until(`an event for ${subject} ${cause}`, () => count(subject, cause) > 0);
    await allDecided(subject, cause);
  };
  const setExports = async (exports: ExportClaim[]) => {
    await exporter.reissue({ exports });
    expect((await cluster.push(1, exporter.jwt)).ok).toBe(true);
  };

  beforeAll(async () => {
    op = await TestOperator.create();
    dir = mkdtempSync(join(tmpdir(), "ha-"));
    cluster = await startCluster(op, { nodes: 3, jetstream: true });
    const state = await op.account("STATE", {
      limits: { mem_storage: -1, disk_storage: -1, streams: -1, consumer: -1 },
    });
    exporter = await op.account("EXP", {
      exports: [
        { name: "a", subject: "a.>", type: "stream" },
        { name: "b", subject: "b.>", type: "stream" },
      ],
    });
    importer = await op.account("IMP", {
      imports: [
        { name: "a", account: exporter.id, subject: "a.1", type: "stream" },
        { name: "b", account: exporter.id, subject: "b.1", type: "stream" },
        { name: "c", account: exporter.id, subject: "c.1", type: "stream" },
      ],
    });
    await cluster.pushAll(0, [state, exporter, importer]);
    // Each instance opens the shared bucket on its own node: every node must give STATE JetStream first.
    for (let i = 0; i < 3; i++) {
      let last: string | null;
      const deadline = Date.now() + 30_000;
      while ((last = await jetStreamOn(cluster, i, state)) !== null) {
        if (Date.now() > deadline) throw new Error(`STATE has no JetStream on node ${i}: ${last}`);
        await sleep(100);
      }
    }
    writeFileSync(join(dir, "sys.creds"), await op.system.userCreds());
    writeFileSync(join(dir, "state.creds"), await state.userCreds());
    sys = await cluster.connect(2);
    sys.subscribe("insights.events.imports.>", {
      callback: (_e: unknown, m: Msg) => void events.push(m.json<ImportEvent>()),
    });
    await sys.flush();
    for (let i = 0; i < 3; i++) await start();
  }, 90_000);

  afterAll(async () => {
    for (const app of apps) await app.stop().catch(() => {});
    await sys?.close();
    await cluster?.stopAll();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("publishes the start events once, not once per instance", async () => {
    await allCaughtUp(apps, sys);
    expect(count("c.1", "export_not_found")).toBe(1);
    expect(events).toHaveLength(1);
  });

  it("shares requests through the queue group, with the instances on different nodes", async () => {
    expect(new Set(apps.map((a) => cluster.indexOf(a.nc.getServer()))).size).toBe(3);
    for (let i = 0; i < 60; i++) await sys.request("insights.imports.check", "{}", { timeout: 3000 });
    const served = await Promise.all(apps.map(async (app) => (await app.statsSnapshot()).requests));
    expect(served.reduce((a, b) => a + b, 0)).toBe(60);
    expect(served.filter((n) => n > 0).length).toBeGreaterThanOrEqual(2);
  });

  it("publishes each change exactly once across the instances", async () => {
    await setExports([{ name: "b", subject: "b.>", type: "stream" }]);
    await breakAndWait("a.1", "export_not_found");
    expect(count("a.1", "export_not_found")).toBe(1);
  });

  it("loses no change when an instance dies", async () => {
    const victim = apps.shift()!;
    await victim.nc.close(); // no drain, no goodbye: as if killed
    await setExports([
      { name: "a", subject: "a.>", type: "stream" },
      { name: "b", subject: "b.>", type: "stream" },
    ]);
    await breakAndWait("a.1", null);
    expect(count("a.1", null)).toBe(1);
    await victim.stop().catch(() => {});
  });

  it("keeps what was published across restarts of every instance", async () => {
    while (apps.length) await apps.shift()!.stop();
    // A change while no instance runs is published once by the next; what was published before is not repeated.
    await setExports([{ name: "a", subject: "a.>", type: "stream" }]);
    const before = events.length;
    await start();
    await start();
    await breakAndWait("b.1", "export_not_found");
    expect(count("b.1", "export_not_found")).toBe(1);
    expect(events.length - before).toBe(1);
  });

  it("publishes an import's removal exactly once across the instances", async () => {
    const before = events.length;
    await importer.reissue({ imports: importer.claims.imports!.filter((i) => i.subject !== "c.1") });
    expect((await cluster.push(1, importer.jwt)).ok).toBe(true);
    await until("a removal event", () => events.some((e) => e.removed));
    await allDecided("c.1", "removed");
    expect(events.slice(before).map((e) => `${e.subject} ${e.status} ${e.cause} ${e.removed}`)).toEqual([
      "c.1 inactive export_not_found import_removed",
    ]);
  });

  it("publishes the removal of an import that disappeared while no instance ran, once", async () => {
    while (apps.length) await apps.shift()!.stop();
    const before = events.length;
    await importer.reissue({ imports: importer.claims.imports!.filter((i) => i.subject !== "b.1") });
    expect((await cluster.push(1, importer.jwt)).ok).toBe(true);
    await start();
    await start();
    await until("a removal event", () => events.slice(before).some((e) => e.removed));
    await allDecided("b.1", "removed");
    expect(
      events.slice(before).map((e) => `${e.account_name} ${e.subject} ${e.status} ${e.cause} ${e.removed}`),
    ).toEqual(["IMP b.1 inactive export_not_found import_removed"]);
  });
});
