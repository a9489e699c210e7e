/**
 * The benchmark's smoke mode (`npm run bench -- --smoke --json`): a 200-account deployment through
 * every measurement the full benchmark makes, real nats-server and real nsc included where they are
 * installed. It checks the report's shape only — every figure present and finite, every cause the
 * offline engine can find represented — never a timing: CI machines are not benchmark machines.
 *
 * The benchmark runs from dist (it starts worker threads and the built service), which the run's
 * global set-up has just rebuilt (test/support/fresh-dist.ts).
 */
import { spawn } from "node:child_process";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { CAUSE_CODES } from "../../src/core/diagnosis.js";
import { RESULT_KEYS, TARGETS } from "../../bench/report.js";
import { REPO_ROOT, toolPath } from "../support/tools.js";

const RUN_JS = join(REPO_ROOT, "dist", "bench", "run.js");
const LIVE_KEYS = [
  "push_event_p50_ms",
  "push_event_p99_ms",
  "check_p50_ms",
  "check_p99_ms",
  "rss_mb",
  "service_start_ms",
];
const NSC_KEYS = ["nsc_validate_ms", "vs_nsc"];
/** Causes only the live service can find (it sees pushes and the servers' own view). */
const LIVE_ONLY_CAUSES = ["push_rejected", "server_state_stale"];

function run(
  cmd: string,
  args: string[],
  timeoutMs: number,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: REPO_ROOT, env: process.env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.once("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe("npm run bench -- --smoke", () => {
  let report: {
    smoke: boolean;
    machine: Record<string, unknown>;
    ed25519: string;
    targets: Record<string, { target: string; met: boolean | null }>;
    results: Record<string, unknown>[];
  };
  let stderr = "";

  beforeAll(async () => {
    const bench = await run(process.execPath, [RUN_JS, "--smoke", "--json"], 170_000);
    stderr = bench.stderr;
    if (bench.code !== 0) throw new Error(`the smoke benchmark exited ${bench.code}:\n${bench.stderr}`);
    report = JSON.parse(bench.stdout) as typeof report;
  }, 300_000);

  it("reports one size, with every figure a finite number", () => {
    expect(report.smoke).toBe(true);
    expect(report.results).toHaveLength(1);
    const result = report.results[0]!;
    const missingTool = (key: string) =>
      (LIVE_KEYS.includes(key) && !toolPath("nats-server")) || (NSC_KEYS.includes(key) && !toolPath("nsc"));
    for (const key of RESULT_KEYS) {
      if (missingTool(key)) expect(result[key], key).toBeNull();
      else expect(Number.isFinite(result[key]), `${key} = ${String(result[key])}\n${stderr}`).toBe(true);
    }
  });

  it("generates a deployment in which every offline cause is present", () => {
    const causes = report.results[0]!["causes"] as Record<string, number>;
    for (const code of CAUSE_CODES.filter((c) => !LIVE_ONLY_CAUSES.includes(c)))
      expect(causes[code], code).toBeGreaterThan(0);
    expect(causes["active"]).toBeGreaterThan(0);
  });

  it("names the machine and the Ed25519 verifier, and judges every target", () => {
    expect(report.machine).toMatchObject({ cores: expect.any(Number), node: process.version });
    expect(["sodium-native", "node:crypto"]).toContain(report.ed25519);
    expect(Object.keys(report.targets).sort()).toEqual(Object.keys(TARGETS).sort());
  });
});
