/**
 * The built CLI, never stale: tests that run `node dist/src/main.js` as a child process call
 * `ensureFreshDist()` first, which builds when any src/*.ts is newer than its dist/*.js.
 */
import { execFile } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { REPO_ROOT } from "./tools.js";

const execFileP = promisify(execFile);
export const MAIN = join(REPO_ROOT, "dist", "src", "main.js");

/** True when some src/*.ts has no dist/src/*.js at least as new, or tsconfig changed since. */
export function distIsStale(): boolean {
  if (!existsSync(MAIN)) return true;
  const mtime = (p: string) => statSync(p).mtimeMs;
  if (mtime(join(REPO_ROOT, "tsconfig.json")) > mtime(MAIN)) return true;
  const walk = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
      e.isDirectory() ? walk(join(dir, e.name)) : e.name.endsWith(".ts") ? [join(dir, e.name)] : [],
    );
  return walk(join(REPO_ROOT, "src")).some((ts) => {
    const js = join(REPO_ROOT, "dist", ts.slice(REPO_ROOT.length + 1).replace(/\.ts$/, ".js"));
    return !existsSync(js) || mtime(ts) > mtime(js);
  });
}

/** Builds when dist is stale; throws when the build leaves it stale. tsc emits despite type errors. */
export async function ensureFreshDist(): Promise<void> {
  if (!distIsStale()) return;
  let output = "";
  try {
    await execFileP("npm", ["run", "--silent", "build"], { cwd: REPO_ROOT, timeout: 120_000 });
  } catch (e) {
    output = String((e as { stdout?: string }).stdout ?? "") + String((e as { stderr?: string }).stderr ?? "");
  }
  if (distIsStale()) throw new Error(`npm run build left dist missing or stale:\n${output}`);
}

export interface MainRun {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** `node dist/src/main.js ARGS` with only PATH and `env` in its environment (nothing of the user's). */
export async function runMain(args: string[], env: Record<string, string> = {}, timeoutMs = 30_000): Promise<MainRun> {
  const started = Date.now();
  try {
    const { stdout, stderr } = await execFileP(process.execPath, [MAIN, ...args], {
      env: { PATH: process.env["PATH"] ?? "", ...env },
      timeout: timeoutMs,
      cwd: REPO_ROOT,
    });
    return { code: 0, stdout, stderr, ms: Date.now() - started };
  } catch (e) {
    const err = e as { code?: number | string; stdout?: string; stderr?: string };
    return {
      code: typeof err.code === "number" ? err.code : null,
      stdout: err.stdout ?? "",
      stderr: err.stderr ?? String(e),
      ms: Date.now() - started,
    };
  }
}
