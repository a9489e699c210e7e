/**
 * The service's life as an operator runs it: the documented `npm start` as a child process,
 * started before its server exists (it waits, logs each attempt, answers /healthz but not /readyz),
 * connecting when the server appears, and stopped by SIGTERM sent to npm — after which no process
 * is left and `nats micro ls` no longer lists it. And the systemd unit, checked by systemd-analyze.
 */
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TestOperator, type TestAccount } from "../support/deployment.js";
import { connectSystem, startServer, type RunningServer } from "../support/nats-server.js";
import { ensureFreshDist } from "../support/dist.js";
import { REPO_ROOT, toolPath } from "../support/tools.js";
import { freePort } from "../support/cluster.js";

const execFileP = promisify(execFile);
const NATS = toolPath("nats");

/** A port nothing listens on right now (the kernel's choice, released at once). */

async function until<T>(
  what: string,
  probe: () => Promise<T | undefined> | T | undefined,
  timeoutMs: number,
  log: () => string,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n${log()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function get(url: string): Promise<{ status: number; body: string } | null> {
  try {
    const r = await fetch(url, { signal: AbortSignal.timeout(2000) });
    return { status: r.status, body: await r.text() };
  } catch {
    return null;
  }
}

/** Is a process with this pid alive? (signal 0 checks without signalling) */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** The direct children of a process, from /proc (Linux). */
function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

interface NpmStart {
  child: ChildProcess;
  output: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function npmStart(env: Record<string, string>): NpmStart {
  // Its own process group, so that whatever a failed test leaves behind can be killed with the group.
  const child = spawn("npm", ["start"], {
    cwd: REPO_ROOT,
    env: { PATH: process.env["PATH"] ?? "", ...env },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  let out = "";
  child.stdout.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr.on("data", (d: Buffer) => (out += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once("close", (code, signal) => resolve({ code, signal })),
  );
  return { child, output: () => out, exited };
}

describe.skipIf(!toolPath("nats-server") || process.platform !== "linux")("lifecycle of `npm start`", () => {
  let op: TestOperator;
  let exporter: TestAccount;
  let importer: TestAccount;
  let dir: string;
  let server: RunningServer | undefined;
  const started: NpmStart[] = [];

  beforeAll(async () => {
    await ensureFreshDist();
    op = await TestOperator.create();
    exporter = await op.account("ORDERS", { exports: [{ name: "pub", subject: "pub.>", type: "stream" }] });
    importer = await op.account("SHIPPING", {
      imports: [{ name: "pub", account: exporter.id, subject: "pub.x", type: "stream" }],
    });
    dir = mkdtempSync(join(tmpdir(), "insights-life-"));
    writeFileSync(join(dir, "sys.creds"), await op.system.userCreds());
  }, 130_000);

  afterAll(async () => {
    for (const s of started) {
      try {
        process.kill(-s.child.pid!, "SIGKILL"); // the group: npm, and a node it may have orphaned
      } catch {
        /* already gone */
      }
    }
    await server?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("started before the server: waits and says so, connects when the server appears; SIGTERM to npm leaves no process and no service", async () => {
    const [natsPort, httpPort] = await Promise.all([freePort(), freePort()]);
    const run = npmStart({
      HOME: dir,
      NATS_URL: `nats://127.0.0.1:${natsPort}`,
      NATS_CREDS: join(dir, "sys.creds"),
      INSIGHTS_METRICS_PORT: String(httpPort),
    });
    started.push(run);
    const http = `http://127.0.0.1:${httpPort}`;

    // Waiting: each failed attempt logged, alive but not ready.
    await until(
      "a logged retry",
      () => (run.output().includes('"msg":"cannot connect yet; retrying"') ? true : undefined),
      30_000,
      run.output,
    );
    expect(await get(`${http}/healthz`)).toEqual({ status: 200, body: "ok\n" });
    expect(await get(`${http}/readyz`)).toEqual({ status: 503, body: "not ready: waiting for a NATS server\n" });
    expect(run.child.exitCode).toBeNull();

    server = await startServer(op, { port: natsPort, preload: [exporter, importer] });
    await until(
      "/readyz 200",
      async () => ((await get(`${http}/readyz`))?.status === 200 ? true : undefined),
      60_000,
      run.output,
    );
    expect(run.output()).toMatch(/"msg":"connected"/);
    const sys = await connectSystem(server, op);
    try {
      const reply = (await sys.request("insights.imports.check", "{}", { timeout: 5000 })).json<{ summary: unknown }>();
      expect(reply.summary).toEqual({ accounts: 3, imports: 1, active: 1, inactive: 0, warning: 0, undetermined: 0 });
    } finally {
      await sys.close();
    }
    const nodes = childrenOf(run.child.pid!);
    expect(nodes).toHaveLength(1); // `exec` in the start script: npm's child is node itself
    expect(readFileSync(`/proc/${nodes[0]}/cmdline`, "utf8").split("\0")).toContain("dist/src/main.js");
    // natscli lists the services, or exits 1 with "no service instances found".
    const ls = () =>
      execFileP(
        NATS!,
        ["--no-context", "-s", server!.url, "--creds", join(dir, "sys.creds"), "micro", "ls", "--json"],
        { env: { HOME: dir, PATH: process.env["PATH"] ?? "" } },
      ).then(
        (r) => (JSON.parse(r.stdout) as { name: string }[]).map((s) => s.name),
        (e: { stderr: string }) => e.stderr.trim(),
      );
    if (NATS) expect(await ls()).toEqual(["insights"]);

    run.child.kill("SIGTERM"); // to npm, as a supervisor or `kill <pid of npm start>` does
    const exit = await run.exited;
    expect(exit).toEqual({ code: 0, signal: null });
    await until("node to be gone", () => (nodes.every((pid) => !alive(pid)) ? true : undefined), 5000, run.output);
    expect(run.output()).toMatch(/"signal":"SIGTERM","msg":"draining and stopping"/);
    if (NATS) expect(await ls()).toBe("nats: error: no service instances found");
    expect(await get(`${http}/healthz`)).toBeNull();
  }, 120_000);

  it("SIGTERM while still waiting for a server: exit 0 at once, nothing left", async () => {
    const natsPort = await freePort();
    const run = npmStart({ HOME: dir, NATS_URL: `nats://127.0.0.1:${natsPort}`, NATS_CREDS: join(dir, "sys.creds") });
    started.push(run);
    await until(
      "a logged retry",
      () => (run.output().includes("cannot connect yet; retrying") ? true : undefined),
      30_000,
      run.output,
    );
    const nodes = childrenOf(run.child.pid!);
    const t = Date.now();
    run.child.kill("SIGTERM");
    expect(await run.exited).toEqual({ code: 0, signal: null });
    expect(Date.now() - t).toBeLessThan(5000);
    await until("node to be gone", () => (nodes.every((pid) => !alive(pid)) ? true : undefined), 5000, run.output);
  }, 60_000);
});

describe.skipIf(!existsSync("/usr/bin/systemd-analyze") && !existsSync("/bin/systemd-analyze"))(
  "the systemd unit",
  () => {
    const unitPath = join(REPO_ROOT, "deploy", "systemd", "nats-insights.service");

    it("passes systemd-analyze verify, runs node (not npm) with SIGTERM, and does not restart on a configuration error", async () => {
      const unit = readFileSync(unitPath, "utf8");
      expect(unit).toMatch(
        /^ExecStart=\/usr\/bin\/node --max-semi-space-size=16 \/opt\/nats-insights\/dist\/src\/main\.js serve$/m,
      );
      expect(unit).toMatch(/^KillSignal=SIGTERM$/m);
      expect(unit).toMatch(/^Restart=on-failure$/m);
      expect(unit).toMatch(/^RestartPreventExitStatus=2$/m);
      // verify checks that the program exists: point it at this machine's node.
      const dir = mkdtempSync(join(tmpdir(), "insights-unit-"));
      try {
        const copy = join(dir, "nats-insights.service");
        writeFileSync(copy, unit.replace("/usr/bin/node", process.execPath));
        const r = await execFileP("systemd-analyze", ["verify", copy]).then(
          (o) => ({ code: 0, stderr: o.stderr }),
          (e: { code: number; stderr: string }) => ({ code: e.code, stderr: e.stderr }),
        );
        expect(r).toEqual({ code: 0, stderr: "" });
        // And it would say so if the unit were wrong.
        writeFileSync(copy, unit.replace("/usr/bin/node", "/no/such/node"));
        const bad = await execFileP("systemd-analyze", ["verify", copy]).then(
          () => "",
          (e: { stderr: string }) => e.stderr,
        );
        expect(bad).toMatch(/Command \/no\/such\/node is not executable/);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  },
);
