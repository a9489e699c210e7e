/**
 * A heap snapshot of the live service once it has loaded a generated deployment and settled
 * (issue 19), and where its bytes go:
 *
 *   npm run build && node dist/bench/heap.js --size 10000 [--seed 1] [--out DIR] [--top 60] [--main dist/src/main.js]
 *
 * The same set-up as the live bench (a real nats-server with every account JWT in its full
 * resolver, the real service as a child process); the service runs with --heapsnapshot-signal and
 * is signalled once its RSS has settled. The snapshot is written to --out (a temp dir by default)
 * and analysed by heap-analyse.ts.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync } from "node:fs";
import { createServer, type AddressInfo } from "node:net";
import { loadavg, tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { breakdown, readSnapshot, rows } from "./heap-analyse.js";
import { deployment } from "./generate.js";
import { builtParts, NO_TRAFFIC, rssOf, runLive } from "./live.js";

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, "..", "..");
const log = (line: string) => process.stderr.write(`${line}\n`);

function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const port = (srv.address() as AddressInfo).port;
      srv.close(() => resolvePort(port));
    });
  });
}

/** The process's memory beyond the heap: V8's spaces and external memory (its metrics), threads and mappings (/proc). */
async function memoryOf(pid: number, port: number): Promise<string> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const mb = (b: number) => `${(b / 2 ** 20).toFixed(1)} MB`;
  const lines: string[] = [];
  for (const line of text.split("\n")) {
    const m =
      /^(process_resident_memory_bytes|nodejs_heap_size_total_bytes|nodejs_heap_size_used_bytes|nodejs_external_memory_bytes|nodejs_heap_space_size_(?:used|total)_bytes\{space="\w+"\}) (\d+(?:\.\d+)?(?:e\+\d+)?)$/.exec(
        line,
      );
    if (m && Number(m[2]) >= 2 ** 20) lines.push(`  ${m[1]} ${mb(Number(m[2]))}`);
  }
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const field = (f: string) => new RegExp(`^${f}:\\s+(.*)$`, "m").exec(status)?.[1] ?? "?";
  lines.push(`  threads ${field("Threads")}, RssAnon ${field("RssAnon")}, RssFile ${field("RssFile")}`);
  return `memory at the snapshot:\n${lines.join("\n")}\n`;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      size: { type: "string", default: "10000" },
      seed: { type: "string", default: "1" },
      out: { type: "string" },
      top: { type: "string", default: "60" },
      main: { type: "string" },
    },
  });
  const size = Number(values.size);
  const dep = deployment(join(ROOT, "node_modules", ".cache", "nats-insights-bench"), size, Number(values.seed));
  const out = resolve(values.out ?? mkdtempSync(join(tmpdir(), "nats-insights-heap-")));
  mkdirSync(out, { recursive: true });
  log(
    `${size} accounts (${dep.deployment.imports} imports); load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(" ")}`,
  );
  let snapshot = "";
  let rss = { rss: 0, peak: 0 };
  let memory = "";
  const metricsPort = await freePort();
  const live = await runLive(dep.deployment, {
    ...builtParts(values.main),
    ...NO_TRAFFIC,
    serviceRequestTimeoutMs: 2000,
    startTimeoutMs: 600_000,
    settleMs: 45_000,
    serviceNodeArgs: ["--heapsnapshot-signal=SIGUSR2"],
    serviceArgs: ["--metrics-port", String(metricsPort), "--metrics-host", "127.0.0.1"],
    serviceCwd: out,
    log,
    atSettled: async (pid, answered) => {
      rss = rssOf(pid);
      memory = await memoryOf(pid, metricsPort);
      const before = new Set(readdirSync(out));
      process.kill(pid, "SIGUSR2");
      // The snapshot is written on the service's main thread: once its file appears, the next reply
      // comes after it is complete.
      const written = () => readdirSync(out).filter((f) => f.endsWith(".heapsnapshot") && !before.has(f));
      for (let waited = 0; written().length === 0; waited += 100) {
        if (waited > 600_000) throw new Error(`no heap snapshot appeared in ${out}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      await answered();
      memory += `  RSS after the snapshot's full GC ${rssOf(pid).rss.toFixed(0)} MB\n`;
      snapshot = join(out, written()[0]!);
    },
  });
  log(
    `service: start ${(live.service_start_ms / 1000).toFixed(1)} s, RSS ${live.rss_mb.toFixed(0)} MB settled (${rss.rss.toFixed(0)} MB at the snapshot), ${live.rss_ready_mb.toFixed(0)} MB after load, ${live.rss_peak_mb.toFixed(0)} MB peak`,
  );
  process.stdout.write(memory);
  log(`snapshot ${snapshot} (${(statSync(snapshot).size / 2 ** 20).toFixed(0)} MB)`);
  const snap = readSnapshot(snapshot);
  const { total, byLabel } = breakdown(snap);
  process.stdout.write(`${size} accounts: heap ${(total / 2 ** 20).toFixed(1)} MB in ${snap.nodeCount} nodes\n`);
  process.stdout.write(rows(total, byLabel, Number(values.top)));
}

main().catch((e: unknown) => {
  log(`heap failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
  process.exit(1);
});
