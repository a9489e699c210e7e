/**
 * The core's state at a deployment's size, without a server: what the live service's monitor keeps
 * (directory, diagnoses, memo) after loading every account JWT, in this process, then a heap
 * snapshot of it analysed as heap.ts does. For sizes where starting a real server with the whole
 * store is too slow on a loaded machine; the shell's own maps (events seen, publish gate, idle
 * reasons, server views) are not in it.
 *
 *   npm run build && node dist/bench/heap-core.js --size 100000 [--seed 1] [--out DIR] [--top 60]
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { writeHeapSnapshot } from "node:v8";
import { OperatorTrust } from "../src/core/directory.js";
import { ImportMonitor } from "../src/core/monitor.js";
import { breakdown, readSnapshot, rows } from "./heap-analyse.js";
import { deployment } from "./generate.js";

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, "..", "..");

function load(size: number, seed: number): ImportMonitor {
  const d = deployment(join(ROOT, "node_modules", ".cache", "nats-insights-bench"), size, seed).deployment;
  const trust = new OperatorTrust();
  trust.addOperator(d.operator.jwt);
  const monitor = new ImportMonitor(trust, 30 * 86400);
  monitor.replaceAll(new Map(d.accounts.map((a) => [a.id, a.jwt])), Math.floor(Date.now() / 1000));
  return monitor;
}

function main(): void {
  const { values } = parseArgs({
    options: {
      size: { type: "string", default: "10000" },
      seed: { type: "string", default: "1" },
      out: { type: "string" },
      top: { type: "string", default: "60" },
    },
  });
  const t0 = performance.now();
  const monitor = load(Number(values.size), Number(values.seed));
  process.stderr.write(
    `loaded ${monitor.directory.size} accounts, ${monitor.diagnosisCount()} imports in ${((performance.now() - t0) / 1000).toFixed(0)} s\n`,
  );
  const file = writeHeapSnapshot(
    join(values.out ?? mkdtempSync(join(tmpdir(), "nats-insights-heap-")), "core.heapsnapshot"),
  );
  process.stderr.write(`snapshot ${file}; monitor keeps ${monitor.diagnosisCount()} diagnoses\n`);
  const snap = readSnapshot(file);
  const { total, byLabel } = breakdown(snap);
  process.stdout.write(
    `${values.size} accounts (core only): heap ${(total / 2 ** 20).toFixed(1)} MB in ${snap.nodeCount} nodes\n`,
  );
  process.stdout.write(rows(total, byLabel, Number(values.top)));
}

main();
