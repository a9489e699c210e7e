/** `npm run demo` as a newcomer runs it: a report with every cause, commands that work, a clean stop. */
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CAUSE_CODES } from "../../src/core/index.js";
import { REPO_ROOT, toolPath } from "../support/tools.js";

const execFileP = promisify(execFile);
const DEMO = join(REPO_ROOT, "dist", "scripts", "demo.js");

describe.skipIf(!toolPath("nats-server") || !toolPath("nats"))("npm run demo", () => {
  let child: ChildProcess;
  let stdout = "";
  let exit: Promise<number | null>;

  beforeAll(async () => {
    child = spawn(process.execPath, [DEMO], {
      cwd: REPO_ROOT,
      env: { ...process.env, NO_COLOR: "1" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    exit = new Promise((resolve) => child.once("exit", (code) => resolve(code)));
    child.stdout!.on("data", (d: Buffer) => (stdout += d.toString()));
    const deadline = Date.now() + 45_000;
    while (!stdout.includes("Ctrl-C stops everything.") && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 100));
    expect(stdout).toContain("Ctrl-C stops everything.");
  }, 60_000);

  afterAll(() => {
    if (child.exitCode === null) child.kill("SIGKILL");
  });

  it("reports an import of every cause the JWTs and pushes decide, grouped by account", () => {
    // activation_invalid and import_invalid JWTs are refused by the server on push: live they are push_rejected.
    const expected = CAUSE_CODES.filter(
      (c) => !["server_state_stale", "activation_invalid", "import_invalid"].includes(c),
    );
    for (const cause of expected) expect(stdout).toContain(`  ${cause}\n`);
    expect(stdout).toMatch(/\d+ accounts, 138 imports: 69 active, 39 inactive, 7 warning, 23 undetermined/);
  });

  it("prints a `nats req` command that works as printed", async () => {
    const line = stdout.split("\n").find((l) => l.includes(" req insights.imports.check"))!;
    const args = line
      .trim()
      .split(" ")
      .slice(1)
      .map((a) => a.replace(/^'(.*)'$/, "$1"));
    const { stdout: reply } = await execFileP(line.trim().split(" ")[0]!, args, {
      env: { HOME: "/nonexistent", PATH: process.env["PATH"] ?? "" },
    });
    const body = JSON.parse(reply) as { summary: { inactive: number }; imports: { status: string }[] };
    expect(body.summary.inactive).toBe(39);
    expect(body.imports.filter((d) => d.status !== "inactive")).toEqual([]);
  });

  it("stops everything and removes its temp files on Ctrl-C", async () => {
    const credsDir = /--creds (\S+)\/sys\.creds/.exec(stdout)![1]!;
    expect(existsSync(credsDir)).toBe(true);
    child.kill("SIGINT");
    expect(await exit).toBe(0);
    expect(existsSync(credsDir)).toBe(false);
  });
});
