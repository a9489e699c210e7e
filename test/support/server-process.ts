/**
 * How a test's nats-server runs: as a child process of the test (the binary harness, the default),
 * or in a container through testcontainers (`INSIGHTS_NATS_HARNESS=containers`, with a Docker
 * engine: test/support/docker-engine.ts starts one when needed). Both run the same pinned
 * nats-server with the same config file:
 *
 *  - The container runs the image test/support/docker-engine.ts builds `FROM scratch` from a static
 *    build of the pinned nats-server, with host networking (the server listens on 127.0.0.1 of this
 *    machine, as the binary does: every packet stays on 127.0.0.1) and the server's temp dir
 *    bind-mounted at the same path, so the config, the resolver store, the log and the ports file
 *    are where the harness looks for them.
 *  - Signals go to the server's host pid (from the engine's inspect), so stop, kill (SIGKILL) and
 *    pause (SIGSTOP) mean the same in both. Inside its container the server is pid 1, so its ports
 *    file is `nats-server_1.ports`.
 *  - A container is removed by the engine once its server exits (auto-remove); the test process's
 *    exit hook SIGKILLs the server as it kills a child process.
 */
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { trackPid, trackProcess, untrackPid } from "./leftovers.js";
import { REPO_ROOT } from "./tools.js";

export type HarnessKind = "binary" | "containers";

/** Which harness this test process runs servers with. */
export const harnessKind: HarnessKind = process.env["INSIGHTS_NATS_HARNESS"] === "containers" ? "containers" : "binary";

/** The image of the pinned nats-server that test/support/docker-engine.ts builds. */
export function natsServerImage(): string {
  const pinned = /NATS_SERVER_VERSION=(v\S+)/.exec(readFileSync(join(REPO_ROOT, "scripts/setup.sh"), "utf8"))![1]!;
  return `nats-insights-test/nats-server:${pinned}`;
}

/** The static nats-server the image is built from (scripts/setup.sh --with-docker puts it there; NATS_SERVER_STATIC_BIN overrides). */
export const STATIC_SERVER_BIN = process.env["NATS_SERVER_STATIC_BIN"] ?? join(REPO_ROOT, ".tools/static/nats-server");

export interface ServerProcess {
  /** The server's pid on this machine. */
  readonly pid: number;
  /** The server's pid as it sees itself (its ports file is `nats-server_<innerPid>.ports`). */
  readonly innerPid: number;
  /** Resolves when the server has exited. */
  readonly exited: Promise<void>;
  readonly hasExited: boolean;
  /** How it ended ("code=… signal=…"), once it has. */
  readonly exitInfo: string;
  /** What the server wrote to stdout/stderr. */
  output(): string;
  /** SIGTERM, SIGKILL, SIGSTOP, SIGCONT. */
  signal(sig: NodeJS.Signals): void;
}

/** Start nats-server with `-c configPath`, its working dir `dir` (which also holds the config). */
export function launchServer(
  bin: string,
  configPath: string,
  dir: string,
  kind: HarnessKind = harnessKind,
): Promise<ServerProcess> {
  return kind === "containers" ? launchContainer(configPath, dir) : launchBinary(bin, configPath, dir);
}

async function launchBinary(bin: string, configPath: string, dir: string): Promise<ServerProcess> {
  const child = spawn(bin, ["-c", configPath], { cwd: dir, stdio: ["ignore", "pipe", "pipe"] });
  trackProcess(child);
  let output = "";
  child.stdout?.on("data", (d: Buffer) => (output += d.toString()));
  child.stderr?.on("data", (d: Buffer) => (output += d.toString()));
  let hasExited = false;
  let exitInfo = "";
  const exited = new Promise<void>((resolve) => {
    child.once("exit", (code, signal) => {
      hasExited = true;
      exitInfo = `code=${code} signal=${signal}`;
      resolve();
    });
  });
  const spawned = await new Promise<Error | null>((resolve) => {
    child.once("spawn", () => resolve(null));
    child.once("error", resolve);
  });
  if (spawned) throw new Error(`spawn failed: ${spawned.message}`);
  return {
    pid: child.pid!,
    innerPid: child.pid!,
    exited,
    get hasExited() {
      return hasExited;
    },
    get exitInfo() {
      return exitInfo;
    },
    output: () => output,
    signal: (sig) => void child.kill(sig),
  };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function launchContainer(configPath: string, dir: string): Promise<ServerProcess> {
  // No registry is reachable here, so testcontainers' reaper image cannot be pulled; the harness
  // removes its containers itself (auto-remove once the server exits, which every stop causes).
  process.env["TESTCONTAINERS_RYUK_DISABLED"] ??= "true";
  // Containers share this machine's network: the host they are reached at is 127.0.0.1 (else
  // testcontainers, itself in a container here, looks for a bridge network's gateway).
  process.env["TESTCONTAINERS_HOST_OVERRIDE"] ??= "127.0.0.1";
  const { GenericContainer, getContainerRuntimeClient } = await import("testcontainers");
  let output = "";
  const container = await new GenericContainer(natsServerImage())
    .withNetworkMode("host")
    .withBindMounts([{ source: dir, target: dir, mode: "rw" }])
    .withWorkingDir(dir)
    .withCommand(["-c", configPath])
    .withAutoRemove(true)
    .withLogConsumer((stream) => stream.on("data", (d: Buffer | string) => (output += d.toString())))
    .start();
  const client = await getContainerRuntimeClient();
  const info = await client.container.inspect(client.container.getById(container.getId()));
  const pid = info.State.Pid;
  const name = `container ${container.getId().slice(0, 12)}`;
  // Gone already (a config it refuses): an exited server, as a child process that exited would be.
  let hasExited = !pid;
  let exitInfo = hasExited ? `${name} exited: code=${info.State.ExitCode}` : "";
  if (hasExited)
    return {
      pid: 0,
      innerPid: 1,
      exited: Promise.resolve(),
      hasExited,
      exitInfo,
      output: () => output,
      signal: () => {},
    };
  trackPid(pid);
  // The server is not our child: watch for its pid to go (the engine reaps it at once).
  const exited = (async () => {
    while (alive(pid)) await new Promise((r) => setTimeout(r, 25));
    hasExited = true;
    untrackPid(pid);
    exitInfo = `${name} exited`;
  })();
  return {
    pid,
    innerPid: 1,
    exited,
    get hasExited() {
      return hasExited;
    },
    get exitInfo() {
      return exitInfo;
    },
    output: () => output,
    signal: (sig) => {
      if (alive(pid)) process.kill(pid, sig);
    },
  };
}
