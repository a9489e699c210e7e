/**
 * nats-insights from the outside, against one real nats-server in operator mode:
 *  1. the REAL natscli (`nats micro ls|info|stats`, `nats req`) talks to the service running in
 *     this process; natscli is isolated from the user's contexts (explicit `-s`/`--creds`,
 *     `--no-context`, HOME and XDG_CONFIG_HOME in a temp dir, no other environment);
 *  2. the built entry point `node dist/src/main.js` (rebuilt before the run: test/support/fresh-dist.ts),
 *     configured by NATS_URL/NATS_CREDS, stops cleanly on SIGTERM and never logs secrets;
 *  3. bad configuration ends with one `nats-insights: ...` line on stderr and a non-zero exit.
 *
 * Deployment: ORDERS exports `orders.>` (private, token_req) and `pub.>` (public); SHIPPING imports
 * `orders.eu` WITHOUT a token (inactive: missing_activation_token) and `pub.x` (active). With the
 * system account that is 3 accounts and 2 imports.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { NatsConnection } from "@nats-io/nats-core";
import { InsightsApp } from "../../src/app.js";
import { loadConfig } from "../../src/config.js";
import { createLogger } from "../../src/shell/log.js";
import { validator } from "../../src/service/schemas.js";
import { TestOperator, type TestAccount } from "../support/deployment.js";
import { connectSystem, pushAll, startServer, type RunningServer } from "../support/nats-server.js";
import { REPO_ROOT, toolPath } from "../support/tools.js";

const NATS = toolPath("nats");
const SERVER = toolPath("nats-server");
const VERSION = (JSON.parse(readFileSync(join(REPO_ROOT, "package.json"), "utf8")) as { version: string }).version;
const MAIN = join(REPO_ROOT, "dist", "src", "main.js");
const EXPECTED_SUMMARY = { accounts: 3, imports: 2, active: 1, inactive: 1, warning: 0, undetermined: 0 };

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Children started here; killed (by their own handle) if a test leaves one behind. */
const children = new Set<ChildProcess>();

/** Spawns a process, collects its output, SIGKILLs it after `timeoutMs`. Never rejects. */
function run(cmd: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs: number): Promise<Run> {
  return new Promise((resolve) => {
    const started = Date.now();
    const child = spawn(cmd, args, { env, cwd: REPO_ROOT, stdio: ["ignore", "pipe", "pipe"] });
    children.add(child);
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.once("error", (e) => (stderr += `spawn error: ${e.message}`));
    child.once("close", (code, signal) => {
      clearTimeout(timer);
      children.delete(child);
      resolve({ code, signal, stdout, stderr, ms: Date.now() - started });
    });
  });
}

describe.skipIf(!SERVER)("nats-insights from the outside (natscli, the built process, bad configuration)", () => {
  let op: TestOperator;
  let server: RunningServer;
  let exporter: TestAccount;
  let importer: TestAccount;
  let dir: string;
  let home: string;
  let sysCreds: string;
  let userCreds: string;
  let operatorJwt: string;

  beforeAll(async () => {
    op = await TestOperator.create({ signingKey: true });
    server = await startServer(op);
    exporter = await op.account("ORDERS", {
      exports: [
        { name: "orders", subject: "orders.>", type: "stream", token_req: true },
        { name: "pub", subject: "pub.>", type: "stream" },
      ],
    });
    importer = await op.account("SHIPPING", {
      imports: [
        { name: "orders", account: exporter.id, subject: "orders.eu", type: "stream" },
        { name: "pub", account: exporter.id, subject: "pub.x", type: "stream" },
      ],
    });
    await pushAll(server, [exporter, importer]);
    dir = mkdtempSync(join(tmpdir(), "insights-cli-"));
    home = join(dir, "home");
    mkdirSync(join(home, ".config"), { recursive: true });
    sysCreds = join(dir, "sys.creds");
    writeFileSync(sysCreds, await op.system.userCreds());
    userCreds = join(dir, "shipping.creds");
    writeFileSync(userCreds, await importer.userCreds());
    operatorJwt = join(dir, "operator.jwt");
    writeFileSync(operatorJwt, op.jwt);
  }, 30_000);

  afterAll(async () => {
    for (const child of children) child.kill("SIGKILL");
    await server?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** The real natscli, with nothing from the user's environment or contexts. */
  function nats(...args: string[]): Promise<Run> {
    return run(
      NATS!,
      ["-s", server.url, "--creds", sysCreds, "--no-context", ...args],
      { HOME: home, XDG_CONFIG_HOME: join(home, ".config") },
      15_000,
    );
  }

  describe.skipIf(!NATS)("through the real natscli, against the service in this process", () => {
    let app: InsightsApp;

    beforeAll(async () => {
      app = await InsightsApp.start(
        loadConfig(["--nats-url", server.url, "--creds", sysCreds], {}),
        createLogger("silent"),
      );
    }, 30_000);

    afterAll(async () => {
      await app?.stop();
    });

    it("the raw STATS reply itself carries every field the micro schema requires, last_error included, before any error", async () => {
      // natscli v0.5.0 validates the reply after decoding it into Go structs (which fill in
      // last_error), so only the raw reply shows whether the service sends the field.
      const r = await nats("req", "$SRV.STATS.insights", "");
      expect(r.code, r.stderr).toBe(0);
      const stats = JSON.parse(r.stdout) as { type: string; endpoints: Record<string, unknown>[] };
      expect(stats.type).toBe("io.nats.micro.v1.stats_response");
      for (const e of stats.endpoints) {
        for (const field of [
          "name",
          "subject",
          "num_requests",
          "num_errors",
          "last_error",
          "processing_time",
          "average_processing_time",
        ])
          expect(e).toHaveProperty(field);
        // First in this block, so no request has failed yet: the field is there before any error.
        expect(e["last_error"]).toEqual(e["num_errors"] === 0 ? "" : expect.any(String));
      }
    });

    it("`nats micro ls` lists insights with the package.json version", async () => {
      const table = await nats("micro", "ls");
      expect(table.code, table.stderr).toBe(0);
      expect(table.stdout).toMatch(new RegExp(`│ insights\\s+│ ${VERSION.replaceAll(".", "\\.")}\\s+│`));

      const json = await nats("micro", "ls", "--json");
      expect(json.code, json.stderr).toBe(0);
      const list = JSON.parse(json.stdout) as {
        name: string;
        version: string;
        endpoints: { subject: string; queue_group: string }[];
      }[];
      expect(list.map((s) => [s.name, s.version])).toEqual([["insights", VERSION]]);
      expect(list[0]!.endpoints.map((e) => [e.subject, e.queue_group])).toEqual([
        ["insights.imports.check", "insights"],
        ["insights.imports.preflight", "insights"],
        ["insights.imports.rotation", "insights"],
        ["insights.imports.expiring", "insights"],
        ["insights.exports.orphaned", "insights"],
        ["insights.imports.history", "insights"],
      ]);
    });

    it("`nats micro info insights` shows the endpoint, its queue group and its metadata", async () => {
      const text = await nats("micro", "info", "insights");
      expect(text.code, text.stderr).toBe(0);
      expect(text.stdout).toMatch(/Service: insights \(/);
      expect(text.stdout).toMatch(new RegExp(`Version: ${VERSION.replaceAll(".", "\\.")}\\n`));
      expect(text.stdout).toMatch(/Subject: insights\.imports\.check\n/);
      expect(text.stdout).toMatch(/Queue Group: insights\n/);
      for (const key of ["description", "request_schema", "response_schema"])
        expect(text.stdout).toMatch(new RegExp(`\\b${key}: `));

      const json = await nats("micro", "info", "insights", "--json");
      expect(json.code, json.stderr).toBe(0);
      const info = (
        JSON.parse(json.stdout) as {
          info: {
            name: string;
            endpoints: { name: string; subject: string; queue_group: string; metadata: Record<string, string> }[];
          };
        }
      ).info;
      expect(info.name).toBe("insights");
      const [endpoint] = info.endpoints;
      expect(endpoint).toMatchObject({ name: "check", subject: "insights.imports.check", queue_group: "insights" });
      expect(endpoint!.metadata["description"]).toMatch(/import/);
      expect((JSON.parse(endpoint!.metadata["request_schema"]!) as { $id: string }).$id).toMatch(
        /check-request\.schema\.json$/,
      );
      expect((JSON.parse(endpoint!.metadata["response_schema"]!) as { $id: string }).$id).toMatch(
        /check-reply\.schema\.json$/,
      );
    });

    it("`nats req insights.imports.check '{}'` prints the reply, counts matching the deployment", async () => {
      const r = await nats("req", "insights.imports.check", "{}");
      expect(r.code, r.stderr).toBe(0);
      // natscli prints the body on stdout and its "Sending request"/"Received with rtt" lines on stderr.
      const reply = JSON.parse(r.stdout) as {
        summary: Record<string, number>;
        imports: { account_name: string; subject: string; status: string; cause: string | null }[];
      };
      const validReply = validator("check-reply");
      expect(validReply(reply) ? null : validReply.errors).toBeNull();
      expect(reply.summary).toEqual(EXPECTED_SUMMARY);
      expect(reply.imports.map((d) => [d.account_name, d.subject, d.status, d.cause])).toEqual([
        ["SHIPPING", "orders.eu", "inactive", "missing_activation_token"],
        ["SHIPPING", "pub.x", "active", null],
      ]);
      expect(r.stderr).not.toMatch(/Nats-Service-Error/);
    });

    it('`nats req insights.imports.check \'{"status":"bogus"}\'` shows the 400 service error naming the field', async () => {
      const r = await nats("req", "insights.imports.check", '{"status":"bogus"}');
      // natscli exits 0 and prints an empty body ("nil body"); the service error is in the headers on stderr.
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toMatch(/Nats-Service-Error-Code: 400\n/);
      expect(r.stderr).toMatch(/Nats-Service-Error: status: must be one of active, inactive, warning, undetermined\n/);
      expect(() => void JSON.parse(r.stdout)).toThrow();
    });

    it("`nats micro stats insights` passes natscli's schema validation, in text and --json", async () => {
      // One good and one bad request of its own, so the counters and last_error are known to be set.
      await nats("req", "insights.imports.check", "{}");
      await nats("req", "insights.imports.check", '{"status":"bogus"}');

      const table = await nats("micro", "stats", "insights");
      expect(table.code, table.stderr).toBe(0);
      expect(table.stderr).toBe("");
      expect(table.stdout).toMatch(/insights Service Statistics/);
      expect(table.stdout).toMatch(/│ check\s+│ \d+\s+│ insights\s+│ [1-9]\d*\s+│/);

      const json = await nats("micro", "stats", "insights", "--json");
      expect(json.code, json.stderr).toBe(0);
      const stats = JSON.parse(json.stdout) as {
        name: string;
        version: string;
        type: string;
        endpoints: Record<string, unknown>[];
      }[];
      expect(stats).toHaveLength(1);
      expect(stats[0]).toMatchObject({ name: "insights", version: VERSION, type: "io.nats.micro.v1.stats_response" });
      const [endpoint] = stats[0]!.endpoints;
      expect(endpoint).toMatchObject({
        name: "check",
        subject: "insights.imports.check",
        queue_group: "insights",
        data: { imports: { active: 1, inactive: 1, warning: 0 }, causes: { missing_activation_token: 1 } },
      });
      expect(endpoint!["num_requests"]).toBeGreaterThanOrEqual(2);
      expect(endpoint!["num_errors"]).toBeGreaterThanOrEqual(1);
      expect(endpoint!["last_error"]).toBe("status: must be one of active, inactive, warning, undetermined");
    });
  });

  describe("the built entry point, node dist/src/main.js", () => {
    function node(args: string[], env: Record<string, string> = {}, timeoutMs = 15_000): Promise<Run> {
      return run(process.execPath, [MAIN, ...args], { PATH: process.env["PATH"] ?? "", HOME: home, ...env }, timeoutMs);
    }

    it("runs with NATS_URL/NATS_CREDS, logs JSON lines without secrets, and exits 0 on SIGTERM", async () => {
      const child = spawn(process.execPath, [MAIN], {
        env: { PATH: process.env["PATH"] ?? "", HOME: home, NATS_URL: server.url, NATS_CREDS: sysCreds },
        cwd: REPO_ROOT,
        stdio: ["ignore", "pipe", "pipe"],
      });
      children.add(child);
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
      child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
      const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>((resolve) =>
        child.once("close", (code, signal) => (children.delete(child), resolve({ code, signal, at: Date.now() }))),
      );

      // Ready when the service answers on its endpoint (no other instance runs now).
      let sys: NatsConnection | undefined;
      let reply: { summary: Record<string, number> } | undefined;
      try {
        sys = await connectSystem(server, op);
        const deadline = Date.now() + 10_000;
        while (!reply) {
          if (child.exitCode !== null)
            throw new Error(`the service exited early (${child.exitCode}):\n${stdout}${stderr}`);
          if (Date.now() > deadline) throw new Error(`the service did not answer within 10 s:\n${stdout}${stderr}`);
          try {
            reply = (await sys.request("insights.imports.check", "{}", { timeout: 1000 })).json();
          } catch {
            await new Promise((r) => setTimeout(r, 100));
          }
        }
      } finally {
        await sys?.close();
      }
      expect(reply.summary).toEqual(EXPECTED_SUMMARY);
      if (NATS) {
        const ls = await nats("micro", "ls", "--json");
        expect((JSON.parse(ls.stdout) as { name: string; version: string }[]).map((s) => [s.name, s.version])).toEqual([
          ["insights", VERSION],
        ]);
      }

      const signalled = Date.now();
      child.kill("SIGTERM");
      const exit = await Promise.race([exited, new Promise<null>((r) => setTimeout(() => r(null), 5000))]);
      expect(exit, `no exit within 5 s of SIGTERM:\n${stdout}${stderr}`).not.toBeNull();
      expect(exit!.signal).toBeNull();
      expect(exit!.code).toBe(0);
      expect(exit!.at - signalled).toBeLessThan(5000);

      expect(stderr).toBe("");
      const lines = stdout.split("\n").filter((l) => l.trim() !== "");
      const records = lines.map(
        (l) => JSON.parse(l) as { level: number; msg: string; service: string; [k: string]: unknown },
      );
      for (const r of records)
        expect(r).toMatchObject({ level: expect.any(Number), msg: expect.any(String), service: "nats-insights" });
      expect(records.find((r) => r.msg === "insights service started")).toMatchObject({ accounts: 3, imports: 2 });
      expect(records).toContainEqual(expect.objectContaining({ msg: "draining and stopping", signal: "SIGTERM" }));

      const creds = readFileSync(sysCreds, "utf8");
      const seed = /\bSU[A-Z2-7]{56}\b/.exec(creds)?.[0];
      const userJwt = /-----BEGIN NATS USER JWT-----\s+(\S+)/.exec(creds)?.[1];
      expect(seed).toBeDefined();
      expect(userJwt).toBeDefined();
      const output = stdout + stderr;
      expect(output).not.toContain(creds.trim());
      expect(output).not.toContain(seed);
      expect(output).not.toContain(userJwt);
      expect(output).not.toMatch(/SU[A-Z2-7]{56}/);
      expect(output).not.toMatch(/BEGIN (NATS|USER)/);
    });

    const oneLine = (r: Run): string => {
      expect(r.signal, `killed: ${r.stderr}`).toBeNull();
      expect(r.code).not.toBe(0);
      expect(r.stdout).toBe("");
      const lines = r.stderr.split("\n").filter((l) => l !== "");
      expect(lines, r.stderr).toHaveLength(1);
      expect(lines[0]).toMatch(/^nats-insights: \S/);
      expect(r.stderr).not.toMatch(/^\s+at /m);
      return lines[0]!;
    };

    // An unreachable server is not a configuration error: the service waits for it (lifecycle.test.ts).
    it("bad configuration: missing creds file (flag and env), --epoch abc, unknown flag", async () => {
      const missing = join(dir, "nope.creds");
      const [flag, env, epoch, unknown] = await Promise.all([
        node(["--nats-url", server.url, "--creds", missing]),
        node([], { NATS_URL: server.url, NATS_CREDS: missing }),
        node(["--nats-url", server.url, "--creds", sysCreds, "--epoch", "abc"]),
        node(["--nats-url", server.url, "--creds", sysCreds, "--bogus"]),
      ]);
      expect(oneLine(flag)).toBe(`nats-insights: NATS_CREDS: no such file: ${missing}`);
      expect(oneLine(env)).toBe(`nats-insights: NATS_CREDS: no such file: ${missing}`);
      expect(oneLine(epoch)).toBe(
        'nats-insights: INSIGHTS_EPOCH_SECONDS must be a positive number up to 86400, got "abc"',
      );
      expect(oneLine(unknown)).toMatch(/^nats-insights: Unknown option '--bogus'/);
    });

    it("creds of a normal account user (not the system account) fail at start, within 15 s, with one line", async () => {
      const [viaVarz, withOperator] = await Promise.all([
        node(["--nats-url", server.url, "--creds", userCreds]),
        node(["--nats-url", server.url, "--creds", userCreds, "--operator-jwt", operatorJwt]),
      ]);
      expect(viaVarz.ms).toBeLessThan(15_000);
      expect(oneLine(viaVarz)).toMatch(/^nats-insights: no operator JWT: .*system-account creds/);
      // With the operator given, trust loads and the first $SYS request finds no responder.
      expect(withOperator.ms).toBeLessThan(15_000);
      expect(oneLine(withOperator)).toMatch(/^nats-insights: .*\$SYS/);
    });

    it("--help prints the usage and exits 0", async () => {
      const r = await node(["--help"]);
      expect(r.code).toBe(0);
      expect(r.stderr).toBe("");
      expect(r.stdout).toMatch(/^Usage: nats-insights /);
      for (const name of ["--nats-url", "NATS_URL", "--creds", "NATS_CREDS", "--epoch"])
        expect(r.stdout).toContain(name);
    });

    it("COMMAND --help prints that command's usage and exits 0", async () => {
      for (const [command, option] of [
        ["check", "--server-version"],
        ["preflight", "ACCOUNT.jwt"],
        ["graph", "--format"],
        ["history", "--account"],
      ] as const) {
        const r = await node([command, "--jwt-dir", "/nowhere", "--help"]);
        expect(r.code, command).toBe(0);
        expect(r.stderr, command).toBe("");
        expect(r.stdout, command).toMatch(new RegExp(`^Usage: nats-insights ${command} `));
        expect(r.stdout, command).toContain(option);
      }
    });
  });
});
