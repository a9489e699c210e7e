/**
 * The live bench's push → event and check measurements alone, with the evidence of each slow push
 * (issue 19, docs/decisions.md 41):
 *
 *   npm run build && node dist/bench/push.js --size 100000 [--pushes 200] [--checks 10000] [--out DIR]
 *
 * As bench/live.ts runs them (a real nats-server with every account JWT in its full resolver, the
 * real service as a child process, the pushes once the start-up's events are out), plus: the
 * service runs with --trace-gc, its output kept in DIR/service.log with the wall clock of its
 * start (`timeOrigin …`), and each push's timeline (bench/live.ts PushTimeline) in
 * DIR/pushes.jsonl, with its wall clock (`started_at` of the first push in DIR/summary.json), so a
 * slow push can be lined up with the collections and the LOOKUPs around it.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { deployment } from "./generate.js";
import { builtParts, runLive } from "./live.js";

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, "..", "..");
const log = (line: string) => process.stderr.write(`${new Date().toISOString()} ${line}\n`);

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      size: { type: "string", default: "10000" },
      seed: { type: "string", default: "1" },
      pushes: { type: "string", default: "200" },
      checks: { type: "string", default: "10000" },
      settle: { type: "string", default: "45000" },
      main: { type: "string" },
      out: { type: "string" },
      "no-trace-gc": { type: "boolean", default: false },
      /** More node flags for the service, space-separated (e.g. "--cpu-prof": its profile goes to DIR). */
      "node-args": { type: "string", default: "" },
    },
  });
  const size = Number(values.size);
  const out = resolve(values.out ?? join(tmpdir(), `nats-insights-push-${process.pid}`));
  mkdirSync(out, { recursive: true });
  const dep = deployment(join(ROOT, "node_modules", ".cache", "nats-insights-bench"), size, Number(values.seed));
  const load = () =>
    loadavg()
      .map((l) => l.toFixed(2))
      .join(" ");
  log(`${size} accounts; load average ${load()}; output in ${out}`);
  const wallOrigin = Date.now() - performance.now();
  const traceGc = values["no-trace-gc"]
    ? []
    : ["--trace-gc", "--import", "data:text/javascript,console.error('timeOrigin', performance.timeOrigin)"];
  const started = Date.now();
  const live = await runLive(dep.deployment, {
    ...builtParts(values.main),
    pushes: Number(values.pushes),
    checkRate: 1000,
    checkCount: Number(values.checks),
    checkMaxMs: 10_000,
    serviceRequestTimeoutMs: 2000,
    startTimeoutMs: 1_200_000,
    settleMs: Number(values.settle),
    serviceNodeArgs: [...traceGc, ...values["node-args"].split(" ").filter((a) => a !== "")],
    serviceCwd: out,
    serviceLog: join(out, "service.log"),
    pushTimeline: join(out, "pushes.jsonl"),
    log,
  });
  const summary = { size, started_at: started, bench_time_origin: wallOrigin, load_at_end: load(), ...live };
  writeFileSync(join(out, "summary.json"), JSON.stringify(summary, null, 2));
  log(
    `push p50 ${live.push_event_p50_ms.toFixed(1)} p99 ${live.push_event_p99_ms.toFixed(1)} max ${live.push_event_max_ms.toFixed(1)} ms ` +
      `(${live.push_event_over_50ms} over 50 ms); check p50 ${live.check_p50_ms.toFixed(1)} p99 ${live.check_p99_ms.toFixed(1)} ms ` +
      `at ${live.check_rate.toFixed(0)}/s; load average ${load()}`,
  );
}

await main();
