/**
 * The metrics endpoint of the live service on a real nats-server, scraped over HTTP: per-import
 * series within their bound (inactive and warning imports kept first, the rest counted), token
 * expiry, the connection and resync gauges through a real disconnect and reconnect (a TCP proxy
 * that refuses connections while the test says so), process metrics; and the Grafana dashboard in
 * deploy/ queries only metrics a real scrape has.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import type { NatsConnection } from "@nats-io/nats-core";
import { InsightsApp } from "../../src/app.js";
import { loadConfig } from "../../src/config.js";
import { createLogger } from "../../src/shell/log.js";
import { TestOperator, activation, nowSec, type TestAccount } from "../support/deployment.js";
import { startFaultProxy, type FaultProxy } from "../support/fault-proxy.js";
import { connectSystem, pushAll, startServer, type RunningServer } from "../support/nats-server.js";
import { REPO_ROOT, toolPath } from "../support/tools.js";
import { freePort } from "../support/cluster.js";

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** A scrape in the text exposition format: its samples and the metric names it declares. */
interface Scrape {
  samples: Sample[];
  names: Set<string>;
}

function parseScrape(text: string): Scrape {
  const samples: Sample[] = [];
  const names = new Set<string>();
  for (const line of text.split("\n")) {
    const type = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (type) {
      const [, name, kind] = type as unknown as [string, string, string];
      names.add(name);
      if (kind === "histogram") for (const s of ["_bucket", "_sum", "_count"]) names.add(name + s);
      if (kind === "summary") for (const s of ["_sum", "_count"]) names.add(name + s);
      continue;
    }
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? "").matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!;
    samples.push({ name: m[1]!, labels, value: Number(m[3] === "+Inf" ? Infinity : m[3]) });
  }
  return { samples, names };
}

const PROMQL_WORDS = new Set([
  "by",
  "without",
  "on",
  "ignoring",
  "group_left",
  "group_right",
  "bool",
  "and",
  "or",
  "unless",
  "offset",
]);

/** The metric names a PromQL expression (or a Grafana `label_values(metric, label)`) reads. */
export function metricNamesIn(expr: string): string[] {
  const lv = /^label_values\(\s*([a-zA-Z_:][\w:]*)/.exec(expr);
  if (lv) return [lv[1]!];
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, " ")
    .replace(/\[[^\]]*\]/g, " ")
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, " ");
  return [...stripped.matchAll(/(?<![\w:$.])([a-zA-Z_:][\w:]*)(?![\w:])(?!\s*\()/g)]
    .map((m) => m[1]!)
    .filter((w) => !PROMQL_WORDS.has(w));
}

describe.skipIf(!toolPath("nats-server"))("metrics of the live service, scraped", () => {
  let op: TestOperator;
  let server: RunningServer;
  let proxy: FaultProxy;
  let app: InsightsApp;
  let sys: NatsConnection;
  let dir: string;
  let exporter: TestAccount;
  let shipping: TestAccount;
  let billing: TestAccount;
  let port = 0;
  let startedAt = 0;
  const tokenExp = nowSec() + 2 * 86400; // within the 7-day warning: a warning

  const scrape = async (): Promise<Scrape> =>
    parseScrape(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text());
  const value = (s: Scrape, name: string, labels: Record<string, string> = {}) =>
    s.samples.find((x) => x.name === name && Object.entries(labels).every(([k, v]) => x.labels[k] === v))?.value;
  /** Scrape until `pred` holds (the condition, not a fixed wait). */
  const scrapeUntil = async (what: string, pred: (s: Scrape) => boolean, timeoutMs = 15_000): Promise<Scrape> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const s = await scrape();
      if (pred(s)) return s;
      if (Date.now() > deadline) throw new Error(`no scrape with ${what} within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };

  beforeAll(async () => {
    op = await TestOperator.create({ signingKey: true });
    server = await startServer(op);
    proxy = await startFaultProxy(server.port);
    exporter = await op.account("ORDERS", {
      exports: [
        { name: "orders", subject: "orders.>", type: "stream", token_req: true },
        { name: "pub", subject: "pub.>", type: "stream" },
      ],
    });
    shipping = await op.account("SHIPPING");
    await shipping.reissue({
      imports: [
        {
          name: "us",
          account: exporter.id,
          subject: "orders.us",
          type: "stream",
          token: await activation(exporter, shipping.id, "orders.us", "stream", { exp: tokenExp }),
        },
        {
          name: "eu",
          account: exporter.id,
          subject: "orders.eu",
          type: "stream",
          token: await activation(exporter, shipping.id, "orders.eu", "stream"),
        },
        { name: "pub", account: exporter.id, subject: "pub.x", type: "stream", to: "local.x" },
      ],
    });
    billing = await op.account("BILLING", {
      imports: [{ name: "missing", account: exporter.id, subject: "orders.billing", type: "stream" }],
    });
    await pushAll(server, [exporter, shipping, billing]);

    dir = mkdtempSync(join(tmpdir(), "insights-metrics-"));
    const creds = join(dir, "sys.creds");
    writeFileSync(creds, await op.system.userCreds());
    sys = await connectSystem(server, op);
    port = await freePort();
    startedAt = Date.now();
    // Through the proxy, so the test can take the connection away; two per-import series for four imports.
    const config = loadConfig(
      ["--nats-url", proxy.url, "--creds", creds, "--metrics-port", String(port), "--metrics-imports", "2"],
      {},
    );
    app = await InsightsApp.start(config, createLogger(process.env.TEST_LOG ?? "silent"));
  }, 60_000);

  afterAll(async () => {
    await app?.stop();
    await sys?.close();
    await proxy?.close();
    await server?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("gives per-import series to the inactive and warning imports first, and counts the imports left out", async () => {
    const s = await scrape();
    const series = s.samples.filter((x) => x.name === "insights_import_status");
    expect(
      series.map((x) => [x.labels["account_name"], x.labels["import"], x.labels["status"], x.labels["cause"], x.value]),
    ).toEqual([
      ["BILLING", `stream orders.billing from ${exporter.id}`, "inactive", "missing_activation_token", 1],
      ["SHIPPING", `stream orders.us from ${exporter.id}`, "warning", "activation_expiring_soon", 1],
    ]);
    expect(series.map((x) => x.labels["account"])).toEqual([billing.id, shipping.id]);
    expect(value(s, "insights_import_series_omitted")).toBe(2);
    const expiries = s.samples.filter((x) => x.name === "insights_import_token_expiry_timestamp_seconds");
    expect(expiries.map((x) => [x.labels["import"], x.value])).toEqual([
      [`stream orders.us from ${exporter.id}`, tokenExp],
    ]);
  });

  it("reports the soonest token expiry, the connection, the last resync and the process", async () => {
    const s = await scrape();
    expect(value(s, "insights_next_token_expiry_timestamp_seconds")).toBe(tokenExp);
    expect(value(s, "insights_imports", { status: "inactive", cause: "missing_activation_token" })).toBe(1);
    expect(value(s, "insights_connected")).toBe(1);
    const last = value(s, "insights_last_resync_timestamp_seconds")!;
    expect(last * 1000).toBeGreaterThanOrEqual(startedAt);
    expect(last * 1000).toBeLessThanOrEqual(Date.now());
    expect(value(s, "insights_seconds_since_last_resync")).toBeGreaterThanOrEqual(0);
    expect(value(s, "insights_seconds_since_last_resync")).toBeLessThan((Date.now() - startedAt) / 1000 + 1);
    expect(value(s, "insights_resync_failures_total")).toBe(0);
    for (const name of [
      "process_cpu_seconds_total",
      "process_resident_memory_bytes",
      "process_start_time_seconds",
      "nodejs_eventloop_lag_p99_seconds",
      "nodejs_heap_size_used_bytes",
    ]) {
      expect(value(s, name), name).toBeGreaterThan(0);
    }
    // The micro STATS data carries the same figures.
    const stats = (await sys.request("$SRV.STATS.insights", "", { timeout: 3000 })).json<{
      endpoints: { data: Record<string, unknown> }[];
    }>();
    expect(stats.endpoints[0]!.data).toMatchObject({
      imports: { active: 2, inactive: 1, warning: 1 },
      next_token_expiry: new Date(tokenExp * 1000).toISOString(),
      last_resync: new Date(Math.round(last * 1000)).toISOString(),
      resync_failures: 0,
    });
  });

  it("says 0 while the connection is down, and 1 with a fresh resync once it is back", async () => {
    const before = await scrape();
    const lastBefore = value(before, "insights_last_resync_timestamp_seconds")!;
    proxy.refuse = true;
    proxy.disconnect();
    const down = await scrapeUntil("insights_connected 0", (s) => value(s, "insights_connected") === 0);
    expect(value(down, "insights_last_resync_timestamp_seconds")).toBe(lastBefore);
    proxy.refuse = false;
    // A reconnect resyncs: the gauge comes back to 1 and the last resync moves on.
    const back = await scrapeUntil(
      "a resync after the reconnect",
      (s) => value(s, "insights_connected") === 1 && value(s, "insights_last_resync_timestamp_seconds")! > lastBefore,
    );
    expect(value(back, "insights_seconds_since_last_resync")).toBeLessThan(
      value(down, "insights_seconds_since_last_resync")!,
    );
  }, 40_000);

  it("the Grafana dashboard is valid JSON and queries only metrics a real scrape has", async () => {
    const dashboard = JSON.parse(readFileSync(join(REPO_ROOT, "deploy/grafana/nats-insights.json"), "utf8")) as {
      uid: string;
      panels: { id: number; type: string; datasource?: { uid: string }; targets?: { expr: string }[] }[];
      templating: { list: { query: string | { query: string } }[] };
    };
    expect(dashboard.uid).toBe("nats-insights");
    const ids = dashboard.panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    const exprs = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr));
    for (const p of dashboard.panels.filter((x) => x.type !== "row"))
      expect(p.datasource?.uid, `panel ${p.id}`).toBe("${datasource}");
    exprs.push(
      ...dashboard.templating.list
        .map((v) => (typeof v.query === "string" ? v.query : v.query.query))
        .filter((q) => q.startsWith("label_values(")),
    );
    const queried = new Set(exprs.flatMap(metricNamesIn));
    // Every metric the service defines is on the dashboard, and the dashboard names nothing else.
    const s = await scrape();
    const ours = [...s.names].filter((n) => n.startsWith("insights_") && !/_(bucket|sum|count)$/.test(n));
    for (const name of ours)
      expect(
        [...queried].some((q) => q === name || q.startsWith(`${name}_`)),
        `${name} on the dashboard`,
      ).toBe(true);
    expect([...queried].filter((n) => !s.names.has(n))).toEqual([]);
    expect(queried.size).toBeGreaterThan(10);
  });

  it("the alert rules read only metrics a real scrape has, and the counters they watch start at 0", async () => {
    const rules = parseYaml(readFileSync(join(REPO_ROOT, "deploy/prometheus/alerts.yml"), "utf8")) as {
      groups: { rules: { alert: string; expr: string }[] }[];
    };
    const exprs = rules.groups.flatMap((g) => g.rules.map((r) => r.expr));
    const read = new Set(exprs.flatMap(metricNamesIn));
    read.delete("up"); // Prometheus's own, per scrape target
    const s = await scrape();
    expect([...read].filter((n) => !s.names.has(n))).toEqual([]);
    expect(read.size).toBeGreaterThanOrEqual(6);
    // increase() cannot see a counter's first event unless the series existed before it.
    const pushRejected = s.samples.find(
      (x) => x.name === "insights_updates_total" && x.labels.kind === "push_rejected",
    );
    expect(pushRejected?.value).toBe(0);
  });
});

describe("metricNamesIn", () => {
  it.each([
    ['sum by (cause) (insights_imports{instance=~"$instance",status!="active"})', ["insights_imports"]],
    [
      'histogram_quantile(0.99, sum by (le) (rate(insights_evaluation_seconds_bucket{a="b"}[$__rate_interval])))',
      ["insights_evaluation_seconds_bucket"],
    ],
    [
      "bottomk(20, insights_import_token_expiry_timestamp_seconds) * 1000",
      ["insights_import_token_expiry_timestamp_seconds"],
    ],
    ["a_total / on (x) group_left b_total", ["a_total", "b_total"]],
    ["label_values(insights_connected, instance)", ["insights_connected"]],
  ])("%s reads %j", (expr, names) => {
    expect(metricNamesIn(expr)).toEqual(names);
  });
});
