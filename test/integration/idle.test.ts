/**
 * Idle imports on a real two-node cluster: a service import is idle while its exporter has no
 * responder on any node, a stream import while no client of the importer subscribes on any node.
 * The clients sit on the node the service is not connected to, so only asking every server finds
 * them; the real server's message flow confirms each verdict (a request through the import is
 * answered, or finds no responders).
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { NatsConnection } from "@nats-io/nats-core";
import { InsightsApp } from "../../src/app.js";
import { loadConfig } from "../../src/config.js";
import { createLogger } from "../../src/shell/log.js";
import { startCluster, type Cluster } from "../support/cluster.js";
import { TestOperator, type TestAccount } from "../support/deployment.js";
import { toolPath } from "../support/tools.js";

describe.skipIf(!toolPath("nats-server"))("idle imports across a two-node cluster", () => {
  let cluster: Cluster;
  let app: InsightsApp;
  let dir: string;
  let exporter: TestAccount;
  let importer: TestAccount;
  let sys: NatsConnection;

  beforeAll(async () => {
    const op = await TestOperator.create();
    cluster = await startCluster(op, { nodes: 2 });
    exporter = await op.account("EXP", {
      exports: [
        { name: "svc", subject: "svc.>", type: "service" },
        { name: "ping", subject: "lit.ping", type: "service" },
        { name: "ev", subject: "ev.>", type: "stream" },
        { name: "wild", subject: "wild.>", type: "stream" },
      ],
    });
    importer = await op.account("IMP", {
      imports: [
        { name: "svc", account: exporter.id, subject: "svc.a", type: "service" },
        { name: "ping", account: exporter.id, subject: "lit.ping", type: "service" },
        { name: "ev", account: exporter.id, subject: "ev.x", type: "stream" },
        { name: "wild", account: exporter.id, subject: "wild.>", type: "stream" },
      ],
    });
    await cluster.pushAll(0, [exporter, importer]);
    dir = mkdtempSync(join(tmpdir(), "idle-"));
    writeFileSync(join(dir, "sys.creds"), await op.system.userCreds());
    app = await InsightsApp.start(
      loadConfig(["--nats-url", cluster.url(0), "--creds", join(dir, "sys.creds")], {}),
      createLogger(process.env["TEST_LOG"] ?? "silent"),
    );
    sys = await cluster.connect(0);
  }, 90_000);

  afterAll(async () => {
    await sys?.close();
    await app?.stop();
    await cluster?.stopAll();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** A cross-check now, then each import's (status, idle) by subject. */
  async function idleNow(): Promise<Record<string, [string, string | null]>> {
    app.resync("test");
    await app.settled();
    return Object.fromEntries(app.diagnoses().map((d) => [d.local_subject ?? d.subject, [d.status, d.idle]]));
  }

  async function askedIdle(): Promise<string[]> {
    const reply = await sys.request("insights.imports.check", JSON.stringify({ idle: true }), { timeout: 5000 });
    return reply
      .json<{ imports: { subject: string; local_subject: string | null }[] }>()
      .imports.map((d) => d.local_subject ?? d.subject)
      .sort();
  }

  async function idleMetric(): Promise<Record<string, number>> {
    const { text } = await app.metrics.exposition();
    return Object.fromEntries(
      [...text.matchAll(/^insights_imports_idle\{reason="(\w+)"\} (\d+)$/gm)].map((m) => [m[1]!, Number(m[2])]),
    );
  }

  it("without clients every import is idle, and still active", async () => {
    expect(await idleNow()).toEqual({
      "svc.a": ["active", "no_responders"],
      "lit.ping": ["active", "no_responders"],
      "ev.x": ["active", "no_subscribers"],
      "wild.>": ["active", "no_subscribers"],
    });
    expect(await askedIdle()).toEqual(["ev.x", "lit.ping", "svc.a", "wild.>"]);
    expect(await idleMetric()).toEqual({ no_responders: 2, no_subscribers: 2 });
  });

  it("a responder and a subscriber on the other node make their imports carry something; the rest stay idle", async () => {
    const responder = await cluster.connect(1, exporter);
    const listener = await cluster.connect(1, importer);
    const requester = await cluster.connect(0, importer);
    try {
      responder.subscribe("svc.*", {
        callback: (_e, m) => {
          m.respond("pong");
        },
      });
      listener.subscribe("wild.eu"); // a subscriber on part of a wildcard import counts
      await responder.flush();
      await listener.flush();
      // The real server: a request on node 0 through the import reaches the responder on node 1 ...
      await waitFor(
        async () =>
          (await requester.request("svc.a", "", { timeout: 1000 }).then(
            (m) => m.string(),
            () => null,
          )) === "pong",
      );
      // ... and one through the import whose exporter has no responder finds none.
      await expect(requester.request("lit.ping", "", { timeout: 1000 })).rejects.toThrow(/503|no responders/i);

      expect(await idleNow()).toEqual({
        "svc.a": ["active", null],
        "lit.ping": ["active", "no_responders"],
        "ev.x": ["active", "no_subscribers"],
        "wild.>": ["active", null],
      });
      expect(await askedIdle()).toEqual(["ev.x", "lit.ping"]);
      expect(await idleMetric()).toEqual({ no_responders: 1, no_subscribers: 1 });
    } finally {
      await responder.close();
      await listener.close();
      await requester.close();
    }
    // Gone from node 1 (its SUBSZ no longer lists them): idle again at the next cross-check.
    await waitFor(
      async () =>
        JSON.stringify(await idleNow()) ===
        JSON.stringify({
          "svc.a": ["active", "no_responders"],
          "lit.ping": ["active", "no_responders"],
          "ev.x": ["active", "no_subscribers"],
          "wild.>": ["active", "no_subscribers"],
        }),
    );
  }, 60_000);
});

async function waitFor(condition: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > until) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 100));
  }
}
