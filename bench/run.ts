/**
 * `npm run bench`: what the service costs at the size of a large deployment (issue 5).
 *
 *   npm run bench                      1,000 and 10,000 accounts; table on stdout, bench/results.json
 *   npm run bench -- --json            the JSON report on stdout instead (the table goes to stderr)
 *   npm run bench -- --smoke           200 accounts, few requests, seconds: for CI (its report goes
 *                                      to the temp dir unless --out, never over bench/results.json)
 *   options: --sizes 1000,10000  --seed 1  --out <file>  --no-live  --no-nsc  --repeat <n>
 *
 * For each size: cold full evaluation (fresh worker threads, median of --repeat; as the service
 * does it, and on one thread), the raw Ed25519 verification floor (node:crypto, and the verifier in
 * use when that is sodium-native; the report's "ed25519" names it), the incremental cost of one
 * exporter with 100 importers changing, push → event and check latencies through a real
 * nats-server and the real service (`node dist/src/main.js`), the service's RSS (right after the
 * load, and once it has settled), and `nsc validate -A` on the same JWTs. Deployments are generated
 * deterministically and cached under node_modules/.cache/nats-insights-bench.
 */
import { execFileSync } from "node:child_process";
import { accessSync, constants, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { availableParallelism, cpus, loadavg, release, tmpdir, totalmem, type } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { Worker } from "node:worker_threads";
import type { ColdInput, FloorResult, FullResult } from "./cold.js";
import { deployment, HUB_IMPORTERS } from "./generate.js";
import { runLive, type LiveResult } from "./live.js";
import { runNscValidate } from "./nsc.js";
import { table, verdicts, type Result } from "./report.js";

const HERE = dirname(fileURLToPath(import.meta.url));
/** The repository root: this file runs as dist/bench/run.js. */
const ROOT = resolve(HERE, "..", "..");

function log(line: string): void {
  process.stderr.write(`${line}\n`);
}

function toolPath(name: string, envVar: string): string | null {
  const candidates = [process.env[envVar], join(ROOT, ".tools", "bin", name)].filter((p): p is string => !!p);
  for (const p of candidates) {
    try {
      if (statSync(p).isFile()) {
        accessSync(p, constants.X_OK);
        return resolve(p);
      }
    } catch {
      /* next */
    }
  }
  return null;
}

/** A tool's answer (its version, say), or null when it is absent or fails. */
function versionOf(bin: string | null, args: string[]): string | null {
  if (!bin) return null;
  try {
    return execFileSync(bin, args, { encoding: "utf8", timeout: 10_000, stdio: ["ignore", "pipe", "pipe"] }).trim();
  } catch {
    return null;
  }
}

function cold<T>(input: ColdInput): Promise<T> {
  return new Promise((resolvePromise, reject) => {
    const worker = new Worker(join(HERE, "cold.js"), { workerData: { bench: "cold", input } });
    worker.once("message", (m: T) => {
      resolvePromise(m);
      void worker.terminate();
    });
    worker.once("error", reject);
    worker.once("exit", (code) => {
      if (code !== 0) reject(new Error(`cold worker exited with ${code}`));
    });
  });
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const round = (x: number | null, digits = 2) =>
  x === null || !Number.isFinite(x) ? x : Math.round(x * 10 ** digits) / 10 ** digits;

interface Plan {
  sizes: number[];
  seed: number;
  repeat: number;
  live: boolean;
  nsc: boolean;
  pushes: number;
  checks: number;
  settleMs: number;
}

async function measureSize(
  size: number,
  plan: Plan,
  tools: { server: string | null; nsc: string | null },
): Promise<{ result: Result; verifier: string }> {
  const cacheDir = join(ROOT, "node_modules", ".cache", "nats-insights-bench");
  const dep = deployment(cacheDir, size, plan.seed);
  const d = dep.deployment;
  log(
    `  ${size} accounts: deployment ${dep.cached ? "from cache" : "generated"} in ${(dep.ms / 1000).toFixed(1)} s (${d.imports} imports, ${d.tokens} tokens)`,
  );
  const now = Math.floor(Date.now() / 1000);

  const floors: FloorResult[] = [];
  const fulls: FullResult[] = [];
  const serials: FullResult[] = [];
  for (let i = 0; i < plan.repeat; i++) {
    // Interleaved, so that a busy moment on the machine does not land on one measurement only.
    floors.push(await cold<FloorResult>({ cachePath: dep.path, now, measure: "floor" }));
    fulls.push(await cold<FullResult>({ cachePath: dep.path, now, measure: "full" }));
    serials.push(await cold<FullResult>({ cachePath: dep.path, now, measure: "serial" }));
  }
  const full = fulls[0]!;
  for (const f of [...fulls, ...serials]) {
    if (f.digest !== full.digest)
      throw new Error(
        "two cold evaluations of the same deployment disagree (parallel and serial verification must give the same diagnoses)",
      );
  }
  const fullMs = median(fulls.map((f) => f.full_eval_ms));
  const serialMs = median(serials.map((f) => f.full_eval_ms));
  const floorMs = median(floors.map((f) => f.verify_floor_ms));
  const floorUsedMs = median(floors.map((f) => f.verify_floor_used_ms));
  const runs = (xs: FullResult[]) => xs.map((f) => f.full_eval_ms.toFixed(0)).join(", ");
  log(
    `    full evaluation ${fullMs.toFixed(0)} ms (runs: ${runs(fulls)}; one thread: ${runs(serials)}), verify floor ${floorMs.toFixed(0)} ms (${floors[0]!.unique_jwts} JWTs, node:crypto; ${floors[0]!.verifier} ${floorUsedMs.toFixed(0)} ms); load average ${loadavg()[0]!.toFixed(1)}`,
  );

  let nscMs: number | null = null;
  if (plan.nsc && tools.nsc) {
    const runs: number[] = [];
    for (let i = 0; i < plan.repeat; i++) runs.push((await runNscValidate(tools.nsc, d, 600_000)).nsc_validate_ms);
    nscMs = median(runs);
    log(`    nsc validate -A ${nscMs.toFixed(0)} ms (runs: ${runs.map((r) => r.toFixed(0)).join(", ")})`);
  }

  let live: LiveResult | null = null;
  if (plan.live && tools.server) {
    live = await runLive(d, {
      nodeBin: process.execPath,
      mainJs: join(ROOT, "dist", "src", "main.js"),
      serverBin: tools.server,
      pushes: plan.pushes,
      checkRate: 1000,
      checkCount: plan.checks,
      checkMaxMs: 10_000,
      serviceRequestTimeoutMs: 2000,
      startTimeoutMs: 300_000,
      settleMs: plan.settleMs,
      log,
    });
    log(
      `    push → event p50 ${live.push_event_p50_ms.toFixed(1)} ms, p99 ${live.push_event_p99_ms.toFixed(1)} ms; check p50 ${live.check_p50_ms.toFixed(2)} ms, p99 ${live.check_p99_ms.toFixed(2)} ms; RSS ${live.rss_mb.toFixed(0)} MB settled, ${live.rss_ready_mb.toFixed(0)} MB after load, ${live.rss_peak_mb.toFixed(0)} MB peak`,
    );
  }

  const result: Result = {
    accounts: full.accounts,
    imports: full.imports,
    tokens: d.tokens,
    unique_jwts: floors[0]!.unique_jwts,
    full_eval_ms: round(fullMs, 1),
    verify_floor_ms: round(floorMs, 1),
    verify_us: round(median(floors.map((f) => f.verify_us)), 1),
    floor_ratio: round(fullMs / floorMs, 3),
    verify_floor_used_ms: round(floorUsedMs, 1),
    floor_ratio_used: round(fullMs / floorUsedMs, 3),
    full_eval_one_thread_ms: round(serialMs, 1),
    floor_ratio_one_thread: round(serialMs / floorMs, 3),
    incremental_importers: Math.min(HUB_IMPORTERS, d.hub.importers.length),
    incremental_ms: round(median(fulls.map((f) => f.incremental_ms)), 3),
    incremental_evaluated: median(fulls.map((f) => f.incremental_evaluated)),
    push_event_p50_ms: round(live?.push_event_p50_ms ?? null),
    push_event_p99_ms: round(live?.push_event_p99_ms ?? null),
    push_event_max_ms: round(live?.push_event_max_ms ?? null),
    pushes: live?.pushes ?? null,
    push_event_over_50ms: live?.push_event_over_50ms ?? null,
    check_p50_ms: round(live?.check_p50_ms ?? null, 3),
    check_p99_ms: round(live?.check_p99_ms ?? null, 3),
    check_max_ms: round(live?.check_max_ms ?? null, 3),
    check_serial_p50_ms: round(live?.check_serial_p50_ms ?? null, 3),
    check_sent: live?.check_sent ?? null,
    check_failed: live?.check_failed ?? null,
    check_rate: round(live?.check_rate ?? null, 0),
    rss_mb: round(live?.rss_mb ?? null, 1),
    rss_ready_mb: round(live?.rss_ready_mb ?? null, 1),
    rss_peak_mb: round(live?.rss_peak_mb ?? null, 1),
    service_accounts: live?.service_accounts ?? null,
    service_start_ms: round(live?.service_start_ms ?? null, 0),
    nsc_validate_ms: round(nscMs, 1),
    vs_nsc: nscMs === null ? null : round(fullMs / nscMs, 3),
    vs_nsc_one_thread: nscMs === null ? null : round(serialMs / nscMs, 3),
    causes: full.causes,
  };
  return { result, verifier: floors[0]!.verifier };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      smoke: { type: "boolean", default: false },
      json: { type: "boolean", default: false },
      sizes: { type: "string" },
      seed: { type: "string", default: "1" },
      out: { type: "string" },
      repeat: { type: "string" },
      "no-live": { type: "boolean", default: false },
      "no-nsc": { type: "boolean", default: false },
    },
    allowPositionals: false,
  });
  const smoke = values.smoke ?? false;
  const plan: Plan = {
    sizes: values.sizes ? values.sizes.split(",").map((s) => Number(s.trim())) : smoke ? [200] : [1_000, 10_000],
    seed: Number(values.seed),
    repeat: Number(values.repeat ?? (smoke ? 1 : 3)),
    live: !values["no-live"],
    nsc: !values["no-nsc"],
    pushes: smoke ? 10 : 200,
    checks: smoke ? 100 : 5_000,
    settleMs: smoke ? 2_000 : 45_000,
  };
  if (plan.sizes.some((s) => !Number.isInteger(s) || s < 50) || !Number.isInteger(plan.seed) || !(plan.repeat >= 1)) {
    throw new Error("--sizes takes whole numbers of at least 50, --seed a whole number, --repeat a positive number");
  }
  const tools = { server: toolPath("nats-server", "NATS_SERVER_BIN"), nsc: toolPath("nsc", "NSC_BIN") };
  if (plan.live && !tools.server)
    log("nats-server not found (.tools/bin or NATS_SERVER_BIN): live figures are skipped");
  if (plan.nsc && !tools.nsc) log("nsc not found (.tools/bin or NSC_BIN): nsc figures are skipped");
  const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { version: string };
  const machine = {
    cpu: cpus()[0]?.model ?? "unknown",
    cores: availableParallelism(),
    memory_gb: Math.round(totalmem() / 2 ** 30),
    os: `${type()} ${release()}`,
    node: process.version,
    nats_server: versionOf(tools.server, ["--version"]),
    nsc: versionOf(tools.nsc, ["--version"]),
    load_average_at_start: loadavg().map((l) => round(l)),
  };
  let ed25519: string | null = null;
  log(
    `nats-insights bench${smoke ? " (smoke)" : ""}: sizes ${plan.sizes.join(", ")}, seed ${plan.seed}, ${machine.cores} cores, ${machine.cpu}, node ${machine.node}`,
  );
  const started = Date.now();
  const results: Result[] = [];
  for (const size of plan.sizes) {
    const { result, verifier } = await measureSize(size, plan, tools);
    results.push(result);
    ed25519 ??= verifier;
  }
  const commit = versionOf("git", ["-C", ROOT, "rev-parse", "--short", "HEAD"]);
  const dirty = versionOf("git", ["-C", ROOT, "status", "--porcelain", "--untracked-files=no"]);
  const report = {
    benchmark: "nats-insights",
    version: pkg.version,
    commit: commit === null ? null : `${commit}${dirty ? " (with uncommitted changes)" : ""}`,
    generated_at: new Date().toISOString(),
    command: `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(" ")}` : ""}`,
    smoke,
    seed: plan.seed,
    repeat: plan.repeat,
    duration_s: Math.round((Date.now() - started) / 1000),
    machine: { ...machine, load_average_at_end: loadavg().map((l) => round(l)) },
    /** The Ed25519 implementation the evaluation and its floor verified with. */
    ed25519,
    targets: verdicts(results),
    results,
  };
  const text = table(results);
  if (values.json) {
    log(text);
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  } else {
    process.stdout.write(`${text}\n`);
    // A smoke run must not overwrite the published figures.
    const out = resolve(
      values.out ?? (smoke ? join(tmpdir(), "nats-insights-bench-smoke.json") : join(ROOT, "bench", "results.json")),
    );
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
    log(`report written to ${out} (${report.duration_s} s)`);
  }
}

main().catch((e: unknown) => {
  log(`bench failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
  process.exit(1);
});
