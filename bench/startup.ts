/**
 * The service's start-up alone, phase by phase in CPU time per thread (issue 19, decision 38):
 *
 *   npm run build && node dist/bench/startup.js --size 100000 [--seed 1] [--main dist/src/main.js] [--log FILE]
 *     [--server-log FILE] [--node-args="--perf-basic-prof"] [--events-out FILE]
 *
 * The live bench's set-up (bench/live.ts: a real nats-server with every account JWT in its full
 * resolver, the real service as a child process, its debug log kept), stopped once the start-up's
 * events are out. Every thread of the service and of nats-server is sampled from /proc while it
 * runs; each phase between two of the debug log's time stamps is charged the CPU time each thread
 * used in it. Wall time on a loaded machine is mostly waiting: the load average is printed with it.
 */
import { closeSync, openSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { deployment } from "./generate.js";
import { builtParts, NO_TRAFFIC, runLive, SERVICE_NODE_FLAGS } from "./live.js";

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, "..", "..");
const log = (line: string) => process.stderr.write(`${line}\n`);
/** Clock ticks per second of /proc's utime and stime (USER_HZ: 100 on Linux). */
const TICKS = 100;
const SAMPLE_MS = 200;

interface Sample {
  at: number;
  /** CPU seconds by thread label. */
  cpu: Map<string, number>;
}

/** Every thread's CPU seconds (user + system), added up by label. */
function threadsOf(pid: number, prefix: string, into: Map<string, number>): void {
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return;
  }
  for (const tid of tids) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, "utf8");
      const close = stat.lastIndexOf(")");
      const name = stat.slice(stat.indexOf("(") + 1, close);
      const fields = stat.slice(close + 2).split(" ");
      // Fields 14 and 15 (utime, stime); fields[0] is field 3.
      const cpu = (Number(fields[11]) + Number(fields[12])) / TICKS;
      // nats-server's threads together, V8's helper threads together, each worker thread apart.
      const label =
        prefix === "nats-server"
          ? prefix
          : Number(tid) === pid
            ? "main"
            : name.startsWith("V8")
              ? "V8 helpers"
              : name.startsWith("WorkerThread")
                ? `worker#${tid}`
                : "other";
      into.set(label, (into.get(label) ?? 0) + cpu);
    } catch {
      // the thread ended between the listing and the read
    }
  }
}

/** A phase's boundary in the service's debug log: the first line with this message. */
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

/** nats-server's log file (found among its open files), opened for reading; null if not found. */
function openServerLog(pid: number): number | null {
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const path = readlinkSync(`/proc/${pid}/fd/${fd}`);
      if (path.endsWith("nats-server.log")) return openSync(path, "r");
    } catch {
      // closed meanwhile
    }
  }
  return null;
}

function cpuAt(samples: Sample[], at: number): Map<string, number> {
  let best = samples[0]!;
  for (const s of samples) if (s.at <= at) best = s;
  return best.cpu;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      size: { type: "string", default: "100000" },
      seed: { type: "string", default: "1" },
      main: { type: "string" },
      log: { type: "string" },
      "server-log": { type: "string" },
      "node-args": { type: "string" },
      /** Write the start-up's events here, one `subject payload` line each, sorted (to compare builds' verdicts). */
      "events-out": { type: "string" },
    },
  });
  const size = Number(values.size);
  const dep = deployment(join(ROOT, "node_modules", ".cache", "nats-insights-bench"), size, Number(values.seed));
  const serviceLog = resolve(values.log ?? join(tmpdir(), `nats-insights-startup-${process.pid}.log`));
  const load = () =>
    loadavg()
      .map((l) => l.toFixed(2))
      .join(" ");
  log(`${size} accounts (${dep.deployment.imports} imports); load average ${load()}; log ${serviceLog}`);
  const samples: Sample[] = [];
  let timer: NodeJS.Timeout | null = null;
  let spawnedAt = 0;
  let firstReplyAt = 0;
  let eventsOutAt = 0;
  // nats-server's log is in a directory removed when the bench stops it: an open descriptor keeps it readable.
  let serverLogFd: number | null = null;
  const events: string[] = [];
  const live = await runLive(dep.deployment, {
    ...builtParts(values.main),
    ...NO_TRAFFIC,
    serviceRequestTimeoutMs: 2000,
    startTimeoutMs: 900_000,
    settleMs: 0,
    serviceNodeArgs: values["node-args"]?.split(" ").filter((a) => a !== "") ?? [],
    serviceArgs: ["--log-level", "debug"],
    serviceLog,
    startOnly: true,
    ...(values["events-out"]
      ? { onStartEvent: (subject: string, payload: string) => events.push(`${subject} ${payload}`) }
      : {}),
    atSpawned: (pids) => {
      spawnedAt = Date.now();
      if (values["server-log"]) serverLogFd = openServerLog(pids.server);
      const sample = () => {
        // A thread that ended (or a process stopped) keeps the CPU time it used.
        const cpu = new Map<string, number>();
        threadsOf(pids.service, "service", cpu);
        threadsOf(pids.server, "nats-server", cpu);
        for (const [label, s] of samples[samples.length - 1]?.cpu ?? [])
          cpu.set(label, Math.max(s, cpu.get(label) ?? 0));
        samples.push({ at: Date.now(), cpu });
      };
      sample();
      timer = setInterval(sample, SAMPLE_MS);
    },
    log: (line) => {
      if (firstReplyAt === 0 && line.includes("service loaded")) firstReplyAt = Date.now();
      if (eventsOutAt === 0 && line.includes("start-up events")) eventsOutAt = Date.now();
      log(line);
    },
  });
  if (timer) clearInterval(timer);
  if (values["events-out"]) writeFileSync(values["events-out"], `${events.sort().join("\n")}\n`);
  if (serverLogFd !== null) {
    writeFileSync(values["server-log"]!, readFileSync(serverLogFd));
    closeSync(serverLogFd);
  }
  log(
    `first reply ${(live.service_start_ms / 1000).toFixed(1)} s; load average ${load()} (node flags ${SERVICE_NODE_FLAGS.join(" ")})`,
  );

  const lines = readFileSync(serviceLog, "utf8")
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as { time: number; msg: string });
  const bounds: [string, number][] = [["spawned", spawnedAt]];
  for (const [name, re] of PHASES) {
    const at = lines.find((l) => re.test(l.msg))?.time;
    if (at !== undefined) bounds.push([name, at]);
  }
  bounds.push(["start-up events out, collected", eventsOutAt]);
  // Threads that used at least 0.5 s in all, in a stable order.
  const last = samples[samples.length - 1]!.cpu;
  const threads = [...last.entries()].filter(([, s]) => s >= 0.5).map(([t]) => t);
  const cell = (x: number) => x.toFixed(1).padStart(7);
  log(`\n${"phase".padEnd(42)} ${"wall s".padStart(7)} ${threads.map((t) => t.padStart(12)).join(" ")}`);
  for (let i = 1; i < bounds.length; i++) {
    const [name, at] = bounds[i]!;
    const before = cpuAt(samples, bounds[i - 1]![1]);
    const now = cpuAt(samples, at);
    const used = threads.map((t) => (now.get(t) ?? 0) - (before.get(t) ?? 0));
    log(
      `${name.padEnd(42)} ${cell((at - bounds[i - 1]![1]) / 1000)} ${used.map((u) => cell(u).padStart(12)).join(" ")}`,
    );
  }
  log(
    `${"total".padEnd(42)} ${cell((bounds[bounds.length - 1]![1] - spawnedAt) / 1000)} ${threads.map((t) => cell(last.get(t) ?? 0).padStart(12)).join(" ")}`,
  );
  log(
    `first reply at ${((firstReplyAt - spawnedAt) / 1000).toFixed(1)} s after the spawn; RSS ${live.rss_mb.toFixed(0)} MB, peak ${live.rss_peak_mb.toFixed(0)} MB`,
  );
}

main().catch((e: unknown) => {
  log((e as Error).stack ?? String(e));
  process.exit(1);
});
