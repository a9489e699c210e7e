/**
 * Vitest global set-up: `dist` is rebuilt before any test runs, so the tests that run the built
 * code (the CLI, the demo, the TTY report, the benchmark, the verification threads) test the
 * sources as they are now, never a build left over from before an edit. The build is incremental
 * (tsc compares file contents, recorded in dist/.tsbuildinfo), so it costs a few seconds when
 * nothing changed. A type error fails the run: what does not compile is not tested as if it did.
 */
import { execFile } from "node:child_process";
import { createRequire } from "node:module";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { REPO_ROOT } from "./tools.js";

const execFileP = promisify(execFile);

export default async function buildDist(): Promise<void> {
  const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc");
  const args = [tsc, "-p", "tsconfig.json", "--incremental", "--tsBuildInfoFile", join("dist", ".tsbuildinfo")];
  try {
    await execFileP(process.execPath, args, { cwd: REPO_ROOT, timeout: 300_000, maxBuffer: 16 * 1024 * 1024 });
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    throw new Error(`the build before the tests failed: ${e.message}\n${e.stdout ?? ""}${e.stderr ?? ""}`, {
      cause: err,
    });
  }
}

/** A module of the fresh build, e.g. `distModule("src/core/monitor.js")`. */
export function distModule<T>(relativeToDist: string): Promise<T> {
  return import(pathToFileURL(join(REPO_ROOT, "dist", relativeToDist)).href) as Promise<T>;
}
