/**
 * Resync after resync on a memory resolver, the verdicts hold still: each resync reads what the
 * servers are (VARZ) again, and JWTs the servers loaded without a push keep the rules for those
 * (`rulesForLoaded`: a mapping the server cannot install is left out, not a refused JWT). An
 * exporter with such a mapping, preloaded: its importer's stream carries messages, the verdict is
 * `active`, and no event comes while the epoch resyncs run; `check --server` says the same.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { NatsConnection } from "@nats-io/nats-core";
import type { InsightsApp } from "../../src/app.js";
import { TestOperator, type TestAccount } from "../support/deployment.js";
import { streamFlows } from "../support/flow.js";
import { checkUntil, startService, stopStarted } from "../support/live-service.js";
import { connectAs, connectSystem, startServer, type RunningServer } from "../support/nats-server.js";
import { toolPath } from "../support/tools.js";
import { ensureFreshDist, runMain } from "../support/dist.js";
import type { AuditReport } from "../../src/cli/audit.js";

/** The instants of the service's finished resyncs, as its metrics say them. */
async function lastResync(app: InsightsApp): Promise<number> {
  const metric = await app.metrics.registry.getSingleMetric("insights_last_resync_timestamp_seconds")?.get();
  return metric?.values[0]?.value ?? 0;
}

describe.skipIf(!toolPath("nats-server"))("memory resolver: verdicts hold still across resyncs", () => {
  let server: RunningServer;
  let app: InsightsApp;
  let sys: NatsConnection;
  let dir: string;
  let exporter: TestAccount;
  let importer: TestAccount;
  let operator: TestOperator;
  const pinned: NatsConnection[] = [];

  beforeAll(async () => {
    await ensureFreshDist(); // never test a stale dist
    const op = (operator = await TestOperator.create({ signingKey: true }));
    dir = mkdtempSync(join(tmpdir(), "insights-mem-resync-"));
    // A `*` in a destination: 2.15.2 refuses this JWT on a push, and loads it from the preload.
    exporter = await op.account("EXP", {
      exports: [{ name: "all", subject: "s.>", type: "stream" }],
      mappings: { "l.>": [{ subject: "m.*.>" }] },
    });
    importer = await op.account("IMP", {
      imports: [{ name: "all", account: exporter.id, subject: "s.>", type: "stream" }],
    });
    server = await startServer(op, { resolver: "memory", preload: [exporter, importer] });
    pinned.push(await connectAs(server, importer)); // loaded (with its source), so the service sees both
    sys = await connectSystem(server, op);
    app = await startService(op, server.url, dir, "1");
  }, 180_000);

  afterAll(() => stopStarted({ app, pinned, sys, server, dir }));

  it("is active, as the stream's messages say, through three epoch resyncs without an event", async () => {
    expect(await streamFlows(server, exporter, importer, "s.x", "s.x")).toBe(true);
    const verdict = (r: Awaited<ReturnType<typeof checkUntil>>) =>
      r.imports.filter((d) => d.account === importer.id).map((d) => [d.status, d.cause]);
    expect(verdict(await checkUntil(sys, (r) => verdict(r).length === 1))).toEqual([["active", null]]);

    const events: string[] = [];
    const sub = sys.subscribe("insights.events.imports.>", {
      callback: (_e, m) => {
        events.push(`${m.subject} ${m.string()}`);
      },
    });
    await sys.flush();
    const seen = new Set<number>([await lastResync(app)]);
    const deadline = Date.now() + 20_000;
    while (seen.size < 4 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      seen.add(await lastResync(app));
    }
    sub.unsubscribe();
    expect(seen.size).toBe(4);
    expect(events).toEqual([]);
    expect(verdict(await checkUntil(sys, () => true))).toEqual([["active", null]]);
  }, 60_000);

  it("check --server reads the loaded accounts and judges them as loaded, not pushed", async () => {
    const { stdout, code } = await runMain([
      "check",
      "--server",
      server.url,
      "--creds",
      join(dir, "sys.creds"),
      "--json",
    ]);
    expect(code).toBe(0);
    const report = JSON.parse(stdout) as AuditReport;
    expect(report.account_errors).toEqual([]);
    expect(report.imports.map((d) => [d.account_name, d.status, d.cause])).toEqual([["IMP", "active", null]]);
  });

  it("check of the same JWTs at rest says so with --preloaded, and judges them as pushed without it", async () => {
    const jwts = join(dir, "jwts");
    mkdirSync(jwts, { recursive: true });
    writeFileSync(join(jwts, "operator.jwt"), operator.jwt);
    for (const a of [exporter, importer]) writeFileSync(join(jwts, `${a.id}.jwt`), a.jwt);
    const judged = async (...extra: string[]) => {
      const r = await runMain(["check", "--jwt-dir", jwts, "--json", ...extra]);
      const report = JSON.parse(r.stdout) as AuditReport;
      return {
        code: r.code,
        errors: report.account_errors.map((e) => e.account),
        imports: report.imports.map((d) => [d.account_name, d.status]),
      };
    };
    expect(await judged("--preloaded")).toEqual({ code: 0, errors: [], imports: [["IMP", "active"]] });
    // A push of the exporter's JWT would be refused: so says check without the flag.
    expect(await judged()).toEqual({ code: 1, errors: [exporter.id], imports: [["IMP", "inactive"]] });
  });
});
