/**
 * The safety net of every harness that starts processes: no server outlives the test process, and
 * no temp dir is left behind. 'exit' covers normal termination and process.exit(); vitest stops its
 * fork workers with SIGTERM (then SIGKILL after 500 ms), and 'exit' is NOT emitted when a signal's
 * default action kills the process — so SIGTERM/SIGINT/SIGHUP are caught once too, everything is
 * cleaned up synchronously, and the signal is raised again if nobody else handles it. A SIGKILLed
 * test process cannot clean up: its servers would survive.
 */
import type { ChildProcess } from "node:child_process";
import { rmSync } from "node:fs";

const children = new Set<ChildProcess>();
/** Servers that are not our children (in containers): their pids on this machine. */
const pids = new Set<number>();
const dirs = new Set<string>();
let installed = false;

function cleanUpSync(): void {
  for (const child of children) {
    try {
      child.kill("SIGKILL");
    } catch {
      /* already gone */
    }
  }
  children.clear();
  for (const pid of pids) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      /* already gone */
    }
  }
  pids.clear();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  dirs.clear();
}

function install(): void {
  if (installed) return;
  installed = true;
  process.on("exit", cleanUpSync);
  for (const sig of ["SIGTERM", "SIGINT", "SIGHUP"] as const) {
    process.once(sig, () => {
      cleanUpSync();
      if (process.listenerCount(sig) === 0) process.kill(process.pid, sig);
    });
  }
}

/** Kill this process (and remove this dir) should the test process end first. */
export function trackProcess(child: ChildProcess): void {
  install();
  children.add(child);
  child.once("exit", () => children.delete(child));
}

/** Kill this pid (a server in a container) should the test process end first. */
export function trackPid(pid: number): void {
  install();
  pids.add(pid);
}

export function untrackPid(pid: number): void {
  pids.delete(pid);
}

export function trackDir(dir: string): void {
  install();
  dirs.add(dir);
}

export function untrackDir(dir: string): void {
  dirs.delete(dir);
}
