/**
 * Where the service's resident memory peaks during its start-up, phase by phase (issue 19,
 * decision 40):
 *
 *   npm run build && node dist/bench/heap-trace.js --size 100000 [--seed 1] [--main dist/src/main.js] [--log FILE]
 *
 * The live bench's set-up (bench/live.ts), the service run with its debug log and V8's --trace-gc,
 * then left to settle. Its RSS is sampled from /proc every 100 ms; each phase between two of the
 * debug log's time stamps gets the RSS at its end and the highest RSS within it, and the main
 * thread's heap (V8's own count after each of its collections: used, and committed in brackets)
 * at its end. The compacting collection after the start-up's events (src/shell/gc.ts) is the
 * last "Mark-Compact (reduce)" of the main thread in the trace.
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { deployment } from "./generate.js";
import { builtParts, NO_TRAFFIC, rssOf, runLive } from "./live.js";

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, "..", "..");
const log = (line: string) => process.stderr.write(`${line}\n`);
const SAMPLE_MS = 100;

/** A phase's end in the service's debug log: the first line with this message. */
const PHASES: [string, RegExp][] = [
  ["connected, trust read", /^loading account JWTs$/],
  ["PACK (streamed, verified, staged)", /^verified while the pack streamed in$/],
  ["pack closed", /^the resolver's pack is in$/],
  ["unlisted JWTs read", /^resync: JWTs read$/],
  ["load + deferred checks + evaluation", /^resync: loaded and evaluated$/],
  ["cross-check", /^resync: servers cross-checked$/],
  ["verdicts offered to the event queue", /^resync: verdicts offered to the event queue$/],
  ["endpoints registered (first reply)", /^insights service started$/],
];

/** One collection of --trace-gc: `[pid:0xisolate]   1234 ms: Mark-Compact 900.1 (950.2) -> 600.3 (700.4) MB, ...`. */
interface Gc {
  isolate: string;
  /** ms since the process started. */
  ms: number;
  kind: string;
  afterUsed: number;
  afterCommitted: number;
}

function gcs(text: string): Gc[] {
  const out: Gc[] = [];
  const re = /^\[\d+:(0x[0-9a-f]+)\]\s+(\d+) ms: (.+?) [\d.]+ \([\d.]+\) -> ([\d.]+) \(([\d.]+)\) MB/gm;
  for (const m of text.matchAll(re))
    out.push({ isolate: m[1]!, ms: Number(m[2]), kind: m[3]!, afterUsed: Number(m[4]), afterCommitted: Number(m[5]) });
  return out;
}

/**
 * The settled process's resident memory by mapping (/proc/PID/smaps): malloc's main arena is
 * [heap]; the other anonymous mappings are V8's pages, other threads' malloc arenas (64 MB
 * reservations) and stacks. Grouped by size, the largest first.
 */
function residentMappings(pid: number): string {
  const bySize = new Map<string, { n: number; rss: number }>();
  let current = "";
  for (const line of readFileSync(`/proc/${pid}/smaps`, "utf8").split("\n")) {
    const head = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (head) {
      const [from, to] = line
        .split(" ")[0]!
        .split("-")
        .map((h) => parseInt(h, 16));
      const name = head[1]!.trim();
      current =
        name.startsWith("[") || name === "" ? `${name || "anon"} ${((to! - from!) / 2 ** 20).toFixed(0)} MB` : "files";
      continue;
    }
    const rss = /^Rss:\s+(\d+) kB/.exec(line);
    if (rss) {
      const g = bySize.get(current) ?? { n: 0, rss: 0 };
      g.n++;
      g.rss += Number(rss[1]) / 1024;
      bySize.set(current, g);
    }
  }
  return [...bySize]
    .filter(([, g]) => g.rss >= 1)
    .sort((a, b) => b[1].rss - a[1].rss)
    .slice(0, 20)
    .map(([k, g]) => `  ${k.padEnd(22)} x${String(g.n).padEnd(6)} resident ${g.rss.toFixed(0)} MB`)
    .join("\n");
}

/** RSS before and after malloc_trim(0) in the settled service (gdb attaches for a moment). */
function mallocTrim(pid: number): string {
  const before = rssOf(pid).rss;
  const gdb = spawnSync("gdb", ["-p", String(pid), "-batch", "-ex", "call (int)malloc_trim(0)"], { encoding: "utf8" });
  if (gdb.status !== 0) return `malloc_trim: gdb failed (${gdb.error?.message ?? gdb.stderr.slice(-200)})`;
  return `malloc_trim(0), settled: RSS ${before.toFixed(0)} -> ${rssOf(pid).rss.toFixed(0)} MB`;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      size: { type: "string", default: "100000" },
      seed: { type: "string", default: "1" },
      main: { type: "string" },
      log: { type: "string" },
      settle: { type: "string", default: "45000" },
      /** Once settled, ask glibc to give back the free memory of its arenas (malloc_trim, through gdb): how much of the RSS it was. */
      trim: { type: "boolean", default: false },
    },
  });
  const size = Number(values.size);
  const dep = deployment(join(ROOT, "node_modules", ".cache", "nats-insights-bench"), size, Number(values.seed));
  const serviceLog = resolve(values.log ?? join(tmpdir(), `nats-insights-heap-trace-${process.pid}.log`));
  const load = () =>
    loadavg()
      .map((l) => l.toFixed(2))
      .join(" ");
  log(`${size} accounts (${dep.deployment.imports} imports); load average ${load()}; log ${serviceLog}`);
  const samples: { at: number; rss: number }[] = [];
  let timer: NodeJS.Timeout | null = null;
  let spawnedAt = 0;
  let eventsOutAt = 0;
  let mappings = "";
  let trimmed = "";
  let pid = 0;
  let hwm = 0;
  let failed = "";
  let atEventsOut = "";
  const live = await runLive(dep.deployment, {
    ...builtParts(values.main),
    ...NO_TRAFFIC,
    serviceRequestTimeoutMs: 2000,
    startTimeoutMs: 900_000,
    settleMs: Number(values.settle),
    serviceNodeArgs: ["--trace-gc"],
    serviceArgs: ["--log-level", "debug"],
    serviceLog,
    atSpawned: (pids) => {
      spawnedAt = Date.now();
      pid = pids.service;
      const sample = () => {
        const { rss, peak } = rssOf(pids.service);
        if (Number.isFinite(rss)) samples.push({ at: Date.now(), rss });
        if (Number.isFinite(peak)) hwm = Math.max(hwm, peak);
      };
      sample();
      timer = setInterval(sample, SAMPLE_MS);
    },
    atSettled: async (pid) => {
      if (timer) clearInterval(timer);
      timer = null;
      mappings = residentMappings(pid);
      if (values.trim) trimmed = mallocTrim(pid);
    },
    log: (line) => {
      if (eventsOutAt === 0 && line.includes("start-up events")) {
        eventsOutAt = Date.now();
        atEventsOut = residentMappings(pid);
      }
      log(line);
    },
    // A run that fails after the start-up (a request timing out on this loaded machine) still shows its start-up.
  }).catch((e: unknown) => {
    failed = e instanceof Error ? e.message : String(e);
    return null;
  });
  if (timer) clearInterval(timer);
  log(`load average ${load()}${failed ? `; the run failed: ${failed}` : ""}`);

  const text = readFileSync(serviceLog, "utf8");
  const lines = text
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as { time: number; msg: string });
  // --trace-gc counts from the process's start; the first log line is close enough to place it.
  const trace = gcs(text);
  const mainIsolate = trace[0]?.isolate;
  const bounds: [string, number][] = [["spawned", spawnedAt]];
  for (const [name, re] of PHASES) {
    const at = lines.find((l) => re.test(l.msg))?.time;
    if (at !== undefined) bounds.push([name, at]);
  }
  bounds.push(["start-up events out, compacted", eventsOutAt]);
  bounds.push(["settled", samples[samples.length - 1]?.at ?? eventsOutAt]);
  const heapAt = (at: number) => {
    const ms = at - spawnedAt;
    let last: Gc | undefined;
    for (const g of trace) if (g.isolate === mainIsolate && g.ms <= ms) last = g;
    return last ? `${last.afterUsed.toFixed(0)} (${last.afterCommitted.toFixed(0)})` : "";
  };
  const cell = (x: number, w = 8) => x.toFixed(0).padStart(w);
  log(
    `\n${"phase (ends at)".padEnd(42)} ${"wall s".padStart(8)} ${"RSS end".padStart(8)} ${"RSS max".padStart(8)}  main heap MB`,
  );
  for (let i = 1; i < bounds.length; i++) {
    const [name, at] = bounds[i]!;
    const from = bounds[i - 1]![1];
    const within = samples.filter((s) => s.at > from && s.at <= at);
    const end = within[within.length - 1]?.rss ?? Number.NaN;
    const max = Math.max(...within.map((s) => s.rss));
    log(
      `${name.padEnd(42)} ${((at - spawnedAt) / 1000).toFixed(1).padStart(8)} ${cell(end)} ${cell(max)}  ${heapAt(at)}`,
    );
  }
  const top = samples.reduce((a, b) => (b.rss > a.rss ? b : a));
  log(
    `highest sampled RSS ${top.rss.toFixed(0)} MB at ${((top.at - spawnedAt) / 1000).toFixed(1)} s, VmHWM ${hwm.toFixed(0)} MB` +
      (live
        ? `; settled ${live.rss_mb.toFixed(0)} MB, after the start-up ${live.rss_ready_mb.toFixed(0)} MB; first reply ${(live.service_start_ms / 1000).toFixed(1)} s`
        : ""),
  );
  log(`resident memory by mapping, once the start-up's events were out:\n${atEventsOut}`);
  if (mappings) log(`resident memory by mapping, settled:\n${mappings}`);
  if (trimmed) log(trimmed);
  const isolates = [...new Set(trace.map((g) => g.isolate))];
  for (const iso of isolates) {
    const mine = trace.filter((g) => g.isolate === iso);
    const maxCommitted = Math.max(...mine.map((g) => g.afterCommitted));
    const last = mine[mine.length - 1]!;
    log(
      `isolate ${iso}${iso === mainIsolate ? " (main)" : ""}: ${mine.length} collections, committed at most ${maxCommitted.toFixed(0)} MB after one, last at ${(last.ms / 1000).toFixed(1)} s: ${last.afterUsed} (${last.afterCommitted}) MB`,
    );
  }
}

main().catch((e: unknown) => {
  log((e as Error).stack ?? String(e));
  process.exit(1);
});
