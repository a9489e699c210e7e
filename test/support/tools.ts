/**
 * Locating the real NATS binaries used by integration tests.
 *
 * Resolution order for each tool:
 *   1. an environment override (NATS_SERVER_BIN, NATS_CLI_BIN, NSC_BIN) — used as is if it is an
 *      executable file, otherwise the tool counts as absent (a wrong override should not silently
 *      fall back to another binary);
 *   2. `<repo>/.tools/bin/<name>` (installed by scripts/setup.sh) if executable;
 *   3. otherwise null, so tests can `describe.skipIf(!toolPath("nats-server"))`.
 */
import { accessSync, constants, statSync } from "node:fs";
import { execFile, execFileSync } from "node:child_process";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const execFileP = promisify(execFile);

export type ToolName = "nats-server" | "nats" | "nsc";

/** The repository root (this file lives in `<repo>/test/support/`). */
// test/support/tools.ts, or dist/test/support/tools.js when compiled (the demo runs that way).
const HERE = dirname(fileURLToPath(import.meta.url));
export const REPO_ROOT: string = resolve(HERE, "..", "..", ...(HERE.includes("/dist/test/") ? [".."] : []));

const ENV_OVERRIDE: Record<ToolName, string> = {
  "nats-server": "NATS_SERVER_BIN",
  nats: "NATS_CLI_BIN",
  nsc: "NSC_BIN",
};

function isExecutableFile(p: string): boolean {
  try {
    if (!statSync(p).isFile()) return false;
    accessSync(p, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Absolute path of a real NATS tool, or null when it is not available. */
export function toolPath(name: ToolName): string | null {
  const override = process.env[ENV_OVERRIDE[name]];
  if (override !== undefined && override !== "") {
    const p = resolve(override);
    return isExecutableFile(p) ? p : null;
  }
  const local = join(REPO_ROOT, ".tools", "bin", name);
  return isExecutableFile(local) ? local : null;
}

let cachedVersion: Promise<string> | undefined;

/** The server lines the project supports, oldest first (docs/servers.md); the newest is .tools/bin's. */
export const PINNED_SERVER_VERSIONS = ["2.10.29", "2.12.15", "2.15.2", "2.15.3"] as const;

export interface PinnedServer {
  version: string;
  /** The binary, or null when scripts/setup.sh has not installed this line. */
  bin: string | null;
}

/**
 * Every pinned server line with its binary: older lines in .tools/servers/v<version>/, the newest
 * is the default nats-server (.tools/bin, or NATS_SERVER_BIN). A line whose binary is absent has
 * bin null, so a test can skip it and say so. With NATS_SERVER_BIN set, the newest slot carries the
 * version that binary reports (2.14.10, say), so every per-line test judges it as that line.
 */
export function pinnedServers(): PinnedServer[] {
  const newest = PINNED_SERVER_VERSIONS[PINNED_SERVER_VERSIONS.length - 1]!;
  return PINNED_SERVER_VERSIONS.map((version) => {
    if (version === newest) {
      const bin = toolPath("nats-server");
      const override = bin !== null && (process.env[ENV_OVERRIDE["nats-server"]] ?? "") !== "";
      return { version: override ? versionOfSync(bin) : version, bin };
    }
    const p = join(REPO_ROOT, ".tools", "servers", `v${version}`, "nats-server");
    return { version, bin: isExecutableFile(p) ? p : null };
  });
}

function versionOfSync(bin: string): string {
  const m = /v?(\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?)/.exec(
    execFileSync(bin, ["--version"], { timeout: 10_000 }).toString(),
  );
  if (!m || !m[1]) throw new Error(`cannot parse the version of ${bin}`);
  return m[1];
}

/** The version a given nats-server binary reports, without "v". */
export async function serverVersionOf(bin: string): Promise<string> {
  const { stdout, stderr } = await execFileP(bin, ["--version"], { timeout: 10_000 });
  const text = `${stdout}\n${stderr}`;
  const m = /v?(\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?)/.exec(text);
  if (!m || !m[1]) throw new Error(`cannot parse nats-server version from: ${text.trim()}`);
  return m[1];
}

/**
 * The nats-server version without the leading "v", e.g. "2.15.2"
 * (parsed from `nats-server --version`, which prints `nats-server: v2.15.2`). Cached per process.
 */
export function serverVersion(): Promise<string> {
  if (!cachedVersion) {
    cachedVersion = (async () => {
      const bin = toolPath("nats-server");
      if (!bin) throw new Error("nats-server binary not found (set NATS_SERVER_BIN or run scripts/setup.sh)");
      const { stdout, stderr } = await execFileP(bin, ["--version"], { timeout: 10_000 });
      const text = `${stdout}\n${stderr}`;
      const m = /v?(\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?)/.exec(text);
      if (!m || !m[1]) throw new Error(`cannot parse nats-server version from: ${text.trim()}`);
      return m[1];
    })();
    cachedVersion.catch(() => {
      cachedVersion = undefined;
    });
  }
  return cachedVersion;
}
