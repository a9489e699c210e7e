/**
 * Vitest global set-up: the suite must leave the checkout as it found it. Before the run it lists
 * every path in the checkout (empty directories too, which `git status` never shows) and what
 * `git status` says of tracked files; after the run, any new path or newly changed file fails the
 * run, named. A process started with a relative path and the repository as its working directory
 * (a nats-server whose resolver has `dir: './jwt'`, say) is the usual culprit.
 */
import { execFileSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { REPO_ROOT } from "./tools.js";

/** Installed or generated wholesale, never by a test (`.stryker-tmp`, `reports`: npm run mutate): not compared. */
const SKIPPED = new Set([".git", "node_modules", ".tools", "dist", ".stryker-tmp", "reports"]);

/** Every path under root (directories end in "/"), and `git status` of tracked files. */
export function checkoutEntries(root: string = REPO_ROOT): Set<string> {
  const entries = new Set<string>();
  const walk = (rel: string) => {
    for (const e of readdirSync(join(root, rel), { withFileTypes: true })) {
      if (rel === "" && SKIPPED.has(e.name)) continue;
      const path = rel + e.name;
      if (e.isDirectory()) {
        entries.add(`${path}/`);
        walk(`${path}/`);
      } else entries.add(path);
    }
  };
  walk("");
  for (const line of gitStatus(root)) entries.add(`git status: ${line}`);
  return entries;
}

function gitStatus(root: string): string[] {
  try {
    return execFileSync("git", ["status", "--porcelain=v1", "--untracked-files=no"], { cwd: root, encoding: "utf8" })
      .split("\n")
      .filter((l) => l !== "");
  } catch {
    return []; // not a git checkout (an unpacked tarball): the paths alone are compared
  }
}

/** Entries `after` has that `before` had not. */
export function newEntries(before: Set<string>, after: Set<string>): string[] {
  return [...after].filter((e) => !before.has(e)).sort();
}

export default function setup(): () => void {
  const before = checkoutEntries();
  return () => {
    const added = newEntries(before, checkoutEntries());
    if (added.length === 0) return;
    // A throwing teardown is printed but does not change vitest's exit status: set it here.
    process.exitCode = 1;
    throw new Error(`the test run left these in the checkout:\n  ${added.join("\n  ")}`);
  };
}
