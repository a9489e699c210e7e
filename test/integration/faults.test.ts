/**
 * The live service under faults of a real deployment (issue 6, item 1), against real nats-server
 * processes (test/support/cluster.ts): a restart of its only server with an import broken while
 * it was down; a 3-node cluster with the service's node killed and restarted; $SYS replies that do
 * not come in time (LOOKUPs lost, the service's node paused); an account missing from the resolver.
 * Each time: no change missed, no event lost or duplicated. The service runs in this process and
 * talks to the servers only over NATS, as `npm start` does; events are collected on
 * `insights.events.imports.>` and counted per (account, subject, status, cause) once the service
 * has settled and a marker it sent after its events has reached the collector
 * (test/support/caught-up.ts): no window of time is waited out.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Msg, NatsConnection, Subscription } from "@nats-io/nats-core";
import { InsightsApp } from "../../src/app.js";
import { CONFIRM_DELAYS_MS } from "../../src/live/push-confirmer.js";
import { loadConfig } from "../../src/config.js";
import { createLogger } from "../../src/shell/log.js";
import type { ImportEvent } from "../../src/shell/events.js";
import { TestOperator, type TestAccount } from "../support/deployment.js";
import { startCluster, type Cluster } from "../support/cluster.js";
import { startFaultProxy, type FaultProxy } from "../support/fault-proxy.js";
import { streamFlows } from "../support/flow.js";
import type { RunningServer } from "../support/nats-server.js";
import { toolPath } from "../support/tools.js";
import { caughtUp, markerThrough } from "../support/caught-up.js";

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

// ---- helpers ---------------------------------------------------------------------------------

type Item = { at: number; event: ImportEvent };
const key = (e: ImportEvent) => `${e.account_name} ${e.subject} ${e.status} ${e.cause ?? "none"}`;

/**
 * Collects events in arrival order. A mark (`mark()`, an index into that order, not a time: two
 * events can share a millisecond) says where a step of a test begins.
 */
class EventLog {
  readonly events: Item[] = [];
  private waiters: { pred: (e: ImportEvent) => boolean; from: number; resolve: (e: Item) => void }[] = [];
  constructor(sub: Subscription) {
    sub.callback = (_err: unknown, msg: Msg) => {
      const item = { at: Date.now(), event: msg.json<ImportEvent>() };
      this.events.push(item);
      const index = this.events.length - 1;
      this.waiters = this.waiters.filter((w) =>
        index >= w.from && w.pred(item.event) ? (w.resolve(item), false) : true,
      );
    };
  }
  mark(): number {
    return this.events.length;
  }
  since(mark: number): Item[] {
    return this.events.slice(mark);
  }
  /** The first event from `mark` on (past or future) that matches. */
  next(pred: (e: ImportEvent) => boolean, timeoutMs: number, mark = 0): Promise<Item> {
    const seen = this.since(mark).find((e) => pred(e.event));
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const t = setTimeout(
        () =>
          reject(
            new Error(
              `no matching event within ${timeoutMs} ms; saw ${JSON.stringify(this.since(mark).map((e) => key(e.event)))}`,
            ),
          ),
        timeoutMs,
      );
      this.waiters.push({ pred, from: mark, resolve: (e) => (clearTimeout(t), resolve(e)) });
    });
  }
  /** Once `app` has settled and all it published has reached `collector`: the events from `mark` on, as sorted keys. */
  async settledSince(mark: number, app: InsightsApp, collector: NatsConnection): Promise<string[]> {
    await caughtUp(app, collector);
    return this.since(mark)
      .map((e) => key(e.event))
      .sort();
  }
}

/** The service's connection status changes, with their times. */
function watchStatus(nc: NatsConnection): { type: string; at: number; server: string }[] {
  const seen: { type: string; at: number; server: string }[] = [];
  void (async () => {
    for await (const s of nc.status()) seen.push({ type: s.type, at: Date.now(), server: nc.getServer() });
  })();
  return seen;
}

/** Resolves once a whole resync has run after the call: the second to finish from then on (one runs at a time). */
async function aResyncAfter(app: InsightsApp, timeoutMs: number): Promise<void> {
  const last = () => app.metrics.snapshot().last_resync as string | null;
  const before = last();
  const finished = new Set<string>();
  await until(
    "a whole resync to run",
    () => {
      const t = last();
      if (t !== null && t !== before) finished.add(t);
      return finished.size >= 2;
    },
    timeoutMs,
  );
}

async function until<T>(what: string, fn: () => T | undefined | false, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(25);
  }
}

interface Harness {
  op: TestOperator;
  cluster: Cluster;
  exporter: TestAccount;
  importer: TestAccount;
  app: InsightsApp;
  collector: NatsConnection;
  events: EventLog;
  cleanup(): Promise<void>;
}

/**
 * EXP exports public streams `pub.>` and `keep.>`; IMP imports `pub.x` and `keep.x` from it (both
 * active). Breaking = re-issuing EXP without `pub.>` (IMP's `pub.x` → export_not_found).
 */
async function deployment(op: TestOperator): Promise<{ exporter: TestAccount; importer: TestAccount }> {
  const exporter = await op.account("EXP", { exports: exportsOf(true) });
  const importer = await op.account("IMP");
  await importer.reissue({
    imports: [
      { name: "pub", account: exporter.id, subject: "pub.x", type: "stream" },
      { name: "keep", account: exporter.id, subject: "keep.x", type: "stream" },
    ],
  });
  return { exporter, importer };
}

function exportsOf(withPub: boolean) {
  return [
    ...(withPub ? [{ name: "pub", subject: "pub.>", type: "stream" as const }] : []),
    { name: "keep", subject: "keep.>", type: "stream" as const },
  ];
}

async function startService(
  op: TestOperator,
  urls: string[],
  flags: string[] = [],
): Promise<{ app: InsightsApp; dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), "insights-faults-"));
  const creds = join(dir, "sys.creds");
  writeFileSync(creds, await op.system.userCreds());
  const config = loadConfig(["--nats-url", urls.join(","), "--creds", creds, ...flags], {});
  const app = await InsightsApp.start(config, createLogger(process.env.TEST_LOG ?? "silent"));
  return { app, dir };
}

/** Start a cluster, push the deployment, connect a collector to `collectorNode`, start the service. */
async function setUp(opts: {
  nodes: number;
  serviceUrls: (c: Cluster) => string[] | Promise<string[]>;
  flags?: string[];
  collectorNode?: (c: Cluster) => number;
  accounts?: (op: TestOperator) => Promise<TestAccount[]>;
}): Promise<Harness> {
  const op = await TestOperator.create({ signingKey: true });
  const { exporter, importer } = await deployment(op);
  const cluster = await startCluster(op, { nodes: opts.nodes });
  const undo: (() => Promise<unknown>)[] = [() => cluster.stopAll()];
  const cleanup = async () => {
    for (const u of undo.reverse()) await u().catch(() => {});
  };
  try {
    await cluster.pushAll(0, [exporter, importer, ...(opts.accounts ? await opts.accounts(op) : [])]);
    // Every node stores the deployment before the service starts.
    await until(
      "every node to store the deployment",
      () => cluster.servers.every((_, i) => cluster.storedJwt(i, importer.id) === importer.jwt),
      5000,
    );
    const collectorNode = opts.collectorNode?.(cluster) ?? 0;
    const collector = await cluster.connect(collectorNode, op.system, {
      reconnect: true,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 50,
    });
    undo.push(() => collector.close());
    const events = new EventLog(collector.subscribe("insights.events.imports.>"));
    await collector.flush();
    const { app, dir } = await startService(op, await opts.serviceUrls(cluster), opts.flags);
    undo.push(async () => rmSync(dir, { recursive: true, force: true }));
    undo.push(() => app.stop());
    return { op, cluster, exporter, importer, app, collector, events, cleanup };
  } catch (e) {
    await cleanup();
    throw e;
  }
}

async function check(nc: NatsConnection, body: object): Promise<{ imports: ImportEvent[] }> {
  return (await nc.request("insights.imports.check", JSON.stringify(body), { timeout: 3000 })).json();
}

const broken = (e: ImportEvent) => e.account_name === "IMP" && e.subject === "pub.x" && e.cause === "export_not_found";
const recovered = (e: ImportEvent) => e.account_name === "IMP" && e.subject === "pub.x" && e.status === "active";
const log = (...args: unknown[]) => {
  if (process.env.FAULTS_VERBOSE) console.log("[faults]", ...args);
};

// ---- the faults ------------------------------------------------------------------------------

describe.skipIf(!toolPath("nats-server"))("faults: the live service against real nats-server processes", () => {
  describe("a. its only server restarts with an import broken while it was down", () => {
    let h: Harness;
    beforeAll(async () => {
      h = await setUp({ nodes: 1, serviceUrls: (c) => c.urls });
    }, 30_000);
    afterAll(() => h?.cleanup());

    it("reconnects, resyncs and publishes exactly one event for the broken import; check answers", async () => {
      const { cluster, app, events, exporter, collector } = h;
      const status = watchStatus(app.nc);
      // Whatever the service published so far has reached the collector (one server: its flush
      // orders the service's messages before the collector's PONG).
      await app.settled();
      await app.nc.flush();
      await collector.flush();
      expect(events.since(0).map((e) => key(e.event))).toEqual([]); // everything active at start

      const m0 = events.mark();
      await cluster.stop(0);
      // While it is down, the JWT it will load on restart no longer exports pub.>.
      const jwt = await exporter.reissue({ exports: exportsOf(false) });
      cluster.writeJwt(0, exporter.id, jwt);
      await until("the service to notice its server is gone", () => status.find((s) => s.type === "disconnect"), 8000);
      await cluster.start(0);
      const restarted = Date.now();

      const reconnect = await until(
        "the service to reconnect",
        () => status.find((s) => s.type === "reconnect" && s.at >= restarted),
        8000,
      );
      const e = await events.next(broken, 5000, m0);
      log("a:", { reconnectAfterRestartMs: reconnect.at - restarted, eventAfterReconnectMs: e.at - reconnect.at });
      expect(e.at - reconnect.at).toBeLessThan(3000);
      expect(e.event.previous_status).toBe("active");
      expect(e.event.status).toBe("inactive");

      expect(await events.settledSince(m0, app, collector)).toEqual(["IMP pub.x inactive export_not_found"]);
      const reply = await check(collector, { account: "IMP" });
      expect(reply.imports.map((d) => `${d.subject} ${d.status} ${d.cause ?? "none"}`).sort()).toEqual([
        "keep.x active none",
        "pub.x inactive export_not_found",
      ]);
    }, 30_000);
  });

  describe("b. 3-node cluster: the service's node is killed and restarted", () => {
    let h: Harness;
    beforeAll(async () => {
      // Which node the service uses is known only after it starts: the test collects on another one.
      h = await setUp({ nodes: 3, serviceUrls: (c) => c.urls, flags: ["--epoch", "3"] });
    }, 45_000);
    afterAll(() => h?.cleanup());

    it("a push while the service's node is down gives exactly one event; the fix after its restart exactly one recovery", async () => {
      const { cluster, app, exporter, op } = h;
      const status = watchStatus(app.nc);
      const serviceNode = cluster.indexOf(app.nc.getServer());
      expect(serviceNode).toBeGreaterThanOrEqual(0);
      // Collect on a node that stays up.
      const collectorNode = (serviceNode + 1) % 3;
      const pushNode = (serviceNode + 2) % 3;
      const collector2 = await cluster.connect(collectorNode, op.system);
      const log2 = new EventLog(collector2.subscribe("insights.events.imports.>"));
      await collector2.flush();
      try {
        const t0 = Date.now();
        const m0 = log2.mark();
        await cluster.kill(serviceNode);
        const jwt = await exporter.reissue({ exports: exportsOf(false) });
        const r = await cluster.push(pushNode, jwt);
        expect(r.ok).toBe(true);
        const e = await log2.next(broken, 8000, m0);
        const reconnect = status.find((s) => s.type === "reconnect" && s.at >= t0);
        log("b break:", { eventAfterKillMs: e.at - t0, reconnectAfterKillMs: reconnect ? reconnect.at - t0 : null });
        expect(reconnect).toBeDefined();
        const now = cluster.indexOf(app.nc.getServer());
        expect(now).not.toBe(serviceNode);
        expect(cluster.servers[now]!.running).toBe(true);
        expect(e.event.previous_status).toBe("active");
        expect(await log2.settledSince(m0, app, collector2)).toEqual(["IMP pub.x inactive export_not_found"]);

        await cluster.start(serviceNode);
        await cluster.waitForCluster();
        const t1 = Date.now();
        const m1 = log2.mark();
        const fix = await exporter.reissue({ exports: exportsOf(true) });
        expect((await cluster.push(serviceNode, fix)).ok).toBe(true);
        const back = await log2.next(recovered, 5000, m1);
        log("b fix:", { eventAfterPushMs: back.at - t1 });
        expect(back.event.previous_cause).toBe("export_not_found");
        // A whole epoch resync after the recovery must not publish anything again.
        await aResyncAfter(app, 15_000);
        expect(await log2.settledSince(m1, app, collector2)).toEqual(["IMP pub.x active none"]);
        const reply = await check(collector2, { account: "IMP" });
        expect(reply.imports.map((d) => `${d.subject} ${d.status}`).sort()).toEqual(["keep.x active", "pub.x active"]);
      } finally {
        await collector2.close();
      }
    }, 40_000);
  });

  describe("c. $SYS replies that do not come in time (--epoch 2)", () => {
    let h: Harness;
    let proxy: FaultProxy;
    beforeAll(async () => {
      // The service reaches node 0 only, through a proxy that can lose the replies to its requests.
      h = await setUp({
        nodes: 3,
        serviceUrls: async (c) => {
          proxy = await startFaultProxy(c.servers[0]!.port);
          return [proxy.url];
        },
        flags: ["--epoch", "2", "--request-timeout-ms", "500"],
        collectorNode: () => 1,
      });
    }, 45_000);
    afterAll(async () => {
      await h?.cleanup();
      await proxy?.close();
    });

    it("a push heard while every LOOKUP reply is lost: no wrong event, one event once the fault clears", async () => {
      const { cluster, app, events, exporter, collector } = h;
      const m0 = events.mark();
      proxy.drop = "replies";
      const t0 = Date.now();
      const jwt = await exporter.reissue({ exports: exportsOf(false) });
      expect((await cluster.push(1, jwt)).ok).toBe(true);
      // The service's whole confirmation goes unanswered (every LOOKUP it makes), then the resync it
      // falls back on fails too: the fault lasts through every path that could give a verdict.
      const lookup = `$SYS.REQ.ACCOUNT.${exporter.id}.CLAIMS.LOOKUP`;
      await until(
        "every confirming LOOKUP to be sent",
        () => proxy.published.filter((p) => p.at >= t0 && p.subject === lookup).length >= CONFIRM_DELAYS_MS.length,
        15_000,
      );
      const failures = app.metrics.snapshot().resync_failures as number;
      await until(
        "a resync to fail for want of replies",
        () => (app.metrics.snapshot().resync_failures as number) > failures,
        15_000,
      );
      proxy.drop = "none";
      const cleared = Date.now();
      log("c1: replies dropped", proxy.dropped);
      expect(proxy.dropped).toBeGreaterThan(0);
      const e = await events.next(broken, 8000, m0);
      log("c1:", { eventAfterClearMs: e.at - cleared, events: events.since(m0).map((x) => key(x.event)) });
      expect(await events.settledSince(m0, app, collector)).toEqual(["IMP pub.x inactive export_not_found"]);
      expect(e.at - cleared).toBeLessThan(5000);
      const reply = await check(collector, { account: "IMP" });
      expect(reply.imports.map((d) => `${d.subject} ${d.status} ${d.cause ?? "none"}`).sort()).toEqual([
        "keep.x active none",
        "pub.x inactive export_not_found",
      ]);
    }, 30_000);

    it("a push while the service's node is paused (SIGSTOP): exactly one event after it resumes", async () => {
      const { cluster, app, events, exporter, collector } = h;
      const m0 = events.mark();
      cluster.pause(0);
      const paused = Date.now();
      let resumed: number;
      try {
        const fix = await exporter.reissue({ exports: exportsOf(true) });
        expect((await cluster.push(1, fix)).ok).toBe(true);
        // The pause lasts until the rest of the cluster has the fix and the service has asked its
        // frozen node for something (an epoch resync's PACK) that cannot be answered.
        await until(
          "the running nodes to store the fix",
          () => cluster.storedJwt(1, exporter.id) === fix && cluster.storedJwt(2, exporter.id) === fix,
          10_000,
        );
        await until(
          "the service to ask its paused node",
          () => proxy.published.some((p) => p.at >= paused && p.subject === "$SYS.REQ.CLAIMS.PACK"),
          10_000,
        );
      } finally {
        cluster.resume(0);
        resumed = Date.now();
      }
      const e = await events.next(recovered, 8000, m0);
      log("c2:", { eventAfterResumeMs: e.at - resumed });
      expect(await events.settledSince(m0, app, collector)).toEqual(["IMP pub.x active none"]);
      expect(e.at - resumed).toBeLessThan(5000);
    }, 30_000);
  });

  describe("c. a reconnect while a resync waits for a reply that was lost (--epoch 2, default request time-out)", () => {
    let h: Harness;
    let proxy: FaultProxy;
    beforeAll(async () => {
      h = await setUp({
        nodes: 1,
        serviceUrls: async (c) => {
          proxy = await startFaultProxy(c.servers[0]!.port);
          return [proxy.url];
        },
        flags: ["--epoch", "2"],
      });
    }, 30_000);
    afterAll(async () => {
      await h?.cleanup();
      await proxy?.close();
    });

    it("an import broken while the service heard nothing is reported within a few seconds of the reconnect", async () => {
      const { cluster, app, events, exporter, collector } = h;
      const status = watchStatus(app.nc);
      const t0 = Date.now();
      const m0 = events.mark();
      // The service hears nothing from here on, and does not know it; wait for an epoch resync to ask for the PACK.
      proxy.drop = "all";
      await until(
        "an epoch resync to send CLAIMS.PACK",
        () => proxy.published.some((p) => p.at >= t0 && p.subject === "$SYS.REQ.CLAIMS.PACK"),
        5000,
      );
      const jwt = await exporter.reissue({ exports: exportsOf(false) });
      const pushed = Date.now();
      expect((await cluster.push(0, jwt)).ok).toBe(true);
      // The push reached the service's connection and was lost; a marker the service sends after
      // that arrives after anything it published before: nothing.
      await until(
        "the push to the service to be lost",
        () => proxy.droppedMessages.some((m) => m.at >= pushed && m.subject.endsWith("CLAIMS.UPDATE")),
        5000,
      );
      await markerThrough(app.nc, collector);
      expect(events.since(m0)).toEqual([]);
      // The connection breaks; the service reconnects (through the proxy, which now passes everything).
      proxy.drop = "none";
      proxy.disconnect();
      const cut = Date.now();
      const reconnect = await until(
        "the service to reconnect",
        () => status.find((s) => s.type === "reconnect" && s.at >= cut),
        8000,
      );
      const e = await events.next(broken, 6000, m0).catch((err: Error) => err);
      log("c reconnect:", {
        reconnectAfterCutMs: reconnect.at - cut,
        eventAfterReconnectMs: e instanceof Error ? null : e.at - reconnect.at,
      });
      if (e instanceof Error) throw e;
      expect(e.at - reconnect.at).toBeLessThan(3000);
      expect(await events.settledSince(m0, app, collector)).toEqual(["IMP pub.x inactive export_not_found"]);
    }, 30_000);
  });

  describe("d. an account missing from the resolver", () => {
    let h: Harness;
    let source: TestAccount;
    let early: TestAccount;
    let late: TestAccount;
    beforeAll(async () => {
      h = await setUp({
        nodes: 1,
        serviceUrls: (c) => c.urls,
        accounts: async (op) => {
          // SRC is never pushed before the service starts; EARLY imports from it.
          source = await op.account("SRC", { exports: [{ name: "s", subject: "src.>", type: "stream" }] });
          early = await op.account("EARLY", {
            imports: [{ name: "a", account: source.id, subject: "src.a", type: "stream" }],
          });
          late = await op.account("LATE", {
            imports: [{ name: "b", account: source.id, subject: "src.b", type: "stream" }],
          });
          return [early];
        },
      });
    }, 30_000);
    afterAll(() => h?.cleanup());

    it("importers of a never-pushed account are source_account_not_found; pushing it gives exactly one recovery each", async () => {
      const { cluster, app, collector, events } = h;
      const atStart = await events.next((e) => e.account_name === "EARLY", 3000);
      expect([key(atStart.event), atStart.event.previous_status]).toEqual([
        "EARLY src.a inactive source_account_not_found",
        null,
      ]);

      const m0 = events.mark();
      expect((await cluster.push(0, late.jwt)).ok).toBe(true);
      const lateEvent = await events.next((e) => e.account_name === "LATE", 3000, m0);
      expect(lateEvent.event.previous_status).toBeNull();
      expect(await events.settledSince(m0, app, collector)).toEqual(["LATE src.b inactive source_account_not_found"]);

      const m1 = events.mark();
      expect((await cluster.push(0, source.jwt)).ok).toBe(true);
      await events.next((e) => e.account_name === "EARLY" && e.status === "active", 3000, m1);
      await events.next((e) => e.account_name === "LATE" && e.status === "active", 3000, m1);
      expect(await events.settledSince(m1, app, collector)).toEqual([
        "EARLY src.a active none",
        "LATE src.b active none",
      ]);
      for (const e of events.since(m1)) expect(e.event.previous_cause).toBe("source_account_not_found");

      // The server agrees: messages cross both imports now.
      const server = { url: cluster.url(0) } as RunningServer;
      expect(await streamFlows(server, source, early, "src.a", "src.a")).toBe(true);
      expect(await streamFlows(server, source, late, "src.b", "src.b")).toBe(true);
    }, 30_000);
  });
});
