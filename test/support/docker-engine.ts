/**
 * vitest global set-up: says which nats-server harness this run uses and, for the container
 * harness (`INSIGHTS_NATS_HARNESS=containers`, test/support/server-process.ts), gets a Docker
 * engine and the nats-server image ready.
 *
 *  - Engine: the one DOCKER_HOST names, or the machine's own at /var/run/docker.sock, when it
 *    answers. Otherwise, as root with Debian's docker.io installed (scripts/setup.sh --with-docker),
 *    a private dockerd for this run alone: its socket, data and state in a temp dir, started with
 *    `--bridge=none --iptables=false --ip6tables=false` (no bridge, no NAT rules: the containers use
 *    the host network and listen on 127.0.0.1 only), and stopped, with its temp dir removed, when
 *    the run ends. Asked for containers and none can be had, the run fails: it never falls back
 *    silently.
 *  - Image: no registry is reachable, so nothing is pulled. The image is built `FROM scratch` from
 *    the static (CGO_ENABLED=0) nats-server that scripts/setup.sh --with-docker builds, unless the
 *    engine has it already.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { harnessKind, natsServerImage, STATIC_SERVER_BIN } from "./server-process.js";
import { toolPath } from "./tools.js";

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Does a Docker engine answer `GET /_ping` on this unix socket? */
function pings(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    // No agent: a kept-alive socket (Node 24's default) would hold vitest's main process open.
    const req = request({ socketPath, path: "/_ping", timeout: 2000, agent: false }, (res) => {
      resolve(res.statusCode === 200);
      req.destroy();
    });
    req.on("error", () => resolve(false));
    req.on("timeout", () => (req.destroy(), resolve(false)));
    req.end();
  });
}

function which(cmd: string): string | null {
  for (const dir of (process.env["PATH"] ?? "").split(":"))
    if (dir && existsSync(join(dir, cmd))) return join(dir, cmd);
  for (const dir of ["/usr/sbin", "/usr/bin", "/sbin"]) if (existsSync(join(dir, cmd))) return join(dir, cmd);
  return null;
}

interface OwnEngine {
  proc: ChildProcess;
  dir: string;
}

async function startOwnEngine(): Promise<OwnEngine> {
  const dockerd = which("dockerd");
  if (!dockerd)
    throw new Error(
      "containers asked for, but no Docker engine answers and dockerd is not installed (bash scripts/setup.sh --with-docker)",
    );
  if (process.getuid?.() !== 0)
    throw new Error("containers asked for, but no Docker engine answers and starting dockerd needs root");
  // Short paths: the engine's unix sockets must fit in 108 bytes.
  const dir = mkdtempSync(join(tmpdir(), "ni-docker-"));
  const socket = join(dir, "docker.sock");
  const args = [
    "--host",
    `unix://${socket}`,
    "--data-root",
    join(dir, "data"),
    "--exec-root",
    join(dir, "exec"),
    "--pidfile",
    join(dir, "dockerd.pid"),
    "--bridge=none",
    "--iptables=false",
    "--ip6tables=false",
  ];
  const proc = spawn(dockerd, args, { stdio: ["ignore", "ignore", "pipe"] });
  let log = "";
  proc.stderr?.on("data", (d: Buffer) => (log = (log + d.toString()).slice(-4000)));
  const deadline = Date.now() + 60_000;
  while (!(await pings(socket))) {
    if (proc.exitCode !== null || Date.now() > deadline) {
      proc.kill("SIGKILL");
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`dockerd did not start:\n${log}`);
    }
    await sleep(100);
  }
  process.env["DOCKER_HOST"] = `unix://${socket}`;
  return { proc, dir };
}

async function stopOwnEngine(engine: OwnEngine): Promise<void> {
  if (engine.proc.exitCode === null) {
    const exited = new Promise((r) => engine.proc.once("exit", r));
    engine.proc.kill("SIGTERM");
    // dockerd stops what still runs (nothing should) and its containerd within its own 15 s.
    const overdue = setTimeout(() => engine.proc.kill("SIGKILL"), 30_000);
    await exited;
    clearTimeout(overdue);
  }
  engine.proc.stderr?.destroy();
  // dockerd leaves its default network namespace mounted (exec/netns/default): unmount what is
  // still mounted under the dir, deepest first, then remove it.
  const mounts = readFileSync("/proc/mounts", "utf8")
    .split("\n")
    .map((l) => l.split(" ")[1] ?? "")
    .filter((m) => m.startsWith(`${engine.dir}/`));
  for (const m of mounts.sort().reverse()) spawnSync("umount", [m]);
  rmSync(engine.dir, { recursive: true, force: true });
}

/**
 * The image, built with the engine's own CLI (Debian's docker.io has it): testcontainers' client
 * would keep sockets open in vitest's main process, which then cannot close.
 */
async function ensureImage(): Promise<string> {
  const image = natsServerImage();
  const docker = which("docker");
  if (!docker)
    throw new Error(
      "containers asked for, but there is no docker CLI to build the nats-server image with (bash scripts/setup.sh --with-docker)",
    );
  if (spawnSync(docker, ["image", "inspect", image], { stdio: "ignore" }).status === 0)
    return `${image} (already in the engine)`;
  if (!existsSync(STATIC_SERVER_BIN))
    throw new Error(
      `no static nats-server at ${STATIC_SERVER_BIN} to build ${image} from (bash scripts/setup.sh --with-docker)`,
    );
  const context = mkdtempSync(join(tmpdir(), "ni-image-"));
  try {
    copyFileSync(STATIC_SERVER_BIN, join(context, "nats-server"));
    writeFileSync(
      join(context, "Dockerfile"),
      'FROM scratch\nCOPY nats-server /nats-server\nENTRYPOINT ["/nats-server"]\n',
    );
    const built = spawnSync(docker, ["build", "--quiet", "--tag", image, context], {
      encoding: "utf8",
      env: { ...process.env, DOCKER_BUILDKIT: "0" },
    });
    if (built.status !== 0) throw new Error(`docker build of ${image} failed:\n${built.stderr}`);
  } finally {
    rmSync(context, { recursive: true, force: true });
  }
  return `${image} (built FROM scratch from ${STATIC_SERVER_BIN})`;
}

export default async function setup(): Promise<(() => Promise<void>) | void> {
  if (harnessKind === "binary") {
    console.log(
      `nats-server harness: binary (${toolPath("nats-server") ?? "none found"}), one child process per server`,
    );
    return;
  }
  process.env["TESTCONTAINERS_RYUK_DISABLED"] ??= "true";
  // Containers share this machine's network: the host they are reached at is 127.0.0.1 (else
  // testcontainers, itself in a container here, looks for a bridge network's gateway).
  process.env["TESTCONTAINERS_HOST_OVERRIDE"] ??= "127.0.0.1";
  const answering = process.env["DOCKER_HOST"] ? true : await pings("/var/run/docker.sock");
  const engine = answering ? null : await startOwnEngine();
  try {
    const image = await ensureImage();
    console.log(
      `nats-server harness: containers (testcontainers, image ${image}, host network), engine: ${engine ? `own dockerd, --bridge=none --iptables=false, at ${process.env["DOCKER_HOST"]}` : (process.env["DOCKER_HOST"] ?? "unix:///var/run/docker.sock")}`,
    );
  } catch (e) {
    if (engine) await stopOwnEngine(engine);
    throw e;
  }
  return async () => {
    if (engine) await stopOwnEngine(engine);
  };
}
