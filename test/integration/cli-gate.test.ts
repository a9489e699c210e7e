/**
 * The CLI as a CI gate, run as a user runs it (the built CLI as a child process): exit 1 means only
 * "an import is broken"; every usage, configuration, connection or credential error is 2. Without
 * --nsc-store it reads the store nsc itself is configured with (`nsc env -s`). `preflight` says what
 * it compared with, refuses to compare a JWT with itself, and compares with the live servers.
 */
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Nsc } from "../support/nsc.js";
import { TestOperator } from "../support/deployment.js";
import { startServer, type RunningServer } from "../support/nats-server.js";
import { ensureFreshDist, runMain, type MainRun } from "../support/dist.js";
import { toolPath } from "../support/tools.js";

const execFileP = promisify(execFile);

function exit2(r: MainRun): string {
  expect(r.code, `${r.stdout}${r.stderr}`).toBe(2);
  expect(r.stdout).toBe("");
  const lines = r.stderr.split("\n").filter((l) => l !== "");
  expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^nats-insights: \S/);
  return lines[0]!;
}

beforeAll(async () => {
  await ensureFreshDist();
}, 130_000);

describe.skipIf(!toolPath("nats-server"))("every usage, connection and credential error exits 2", () => {
  let server: RunningServer;
  let foreign: TestOperator;
  let dir: string;
  const f = (name: string) => join(dir, name);

  beforeAll(async () => {
    const op = await TestOperator.create();
    const user = await op.account("APP");
    server = await startServer(op, { preload: [user] });
    foreign = await TestOperator.create();
    dir = mkdtempSync(join(tmpdir(), "insights-gate-"));
    writeFileSync(f("sys.creds"), await op.system.userCreds());
    writeFileSync(f("app.creds"), await user.userCreds()); // a user, but not of the system account
    writeFileSync(f("foreign.creds"), await foreign.system.userCreds()); // signed by an operator the server does not trust
    writeFileSync(f("garbage.creds"), "this is not a creds file\n");
    writeFileSync(f("account.jwt"), user.jwt);
    writeFileSync(f("garbage.jwt"), "not.a.jwt");
  }, 60_000);

  afterAll(async () => {
    await server?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it.each([
    ["missing creds file", ["check", "--server", "URL", "--creds", "DIR/nope.creds"], /NATS_CREDS: no such file/],
    [
      "a creds file that is not one",
      ["check", "--server", "URL", "--creds", "DIR/garbage.creds"],
      /the credentials cannot be used \(unable to parse credentials\)/,
    ],
    [
      "creds the server does not accept",
      ["check", "--server", "URL", "--creds", "DIR/foreign.creds"],
      /the server refused the credentials/,
    ],
    ["no credentials at all", ["check", "--server", "URL"], /the server refused the credentials/],
    [
      "creds of a user that is not in the system account",
      ["check", "--server", "URL", "--creds", "DIR/app.creds"],
      /cannot read the operator JWT from the servers' VARZ \(are these system-account creds\?\): no responders/,
    ],
    [
      "an unreachable server",
      ["check", "--server", "nats://127.0.0.1:1"],
      /cannot connect to nats:\/\/127\.0\.0\.1:1: connection refused/,
    ],
    ["a server URL that is not one", ["check", "--server", "http://x/y"], /--server is not a NATS URL/],
    ["an unknown natscli context", ["check", "--context", "nope"], /NATS_CONTEXT: no context "nope"/],
    [
      "preflight over a refused credential",
      ["preflight", "DIR/account.jwt", "--server", "URL", "--creds", "DIR/foreign.creds"],
      /the server refused the credentials/,
    ],
    [
      "preflight of a file that is no JWT",
      ["preflight", "DIR/garbage.jwt", "--server", "URL", "--creds", "DIR/sys.creds"],
      /garbage\.jwt: /,
    ],
    ["preflight without a file", ["preflight", "--server", "URL"], /give one account JWT file/],
    ["an unknown option", ["check", "--frobnicate"], /Unknown option '--frobnicate'/],
    ["a bad --status", ["check", "--status", "sideways"], /--status must be one of/],
    ["two sources", ["check", "--nsc-store", "/tmp", "--server", "URL"], /give one source/],
    ["an nsc store that is not there", ["check", "--nsc-store", "DIR/none"], /nsc store not found/],
  ])("%s", async (_name, args, message) => {
    const r = await runMain(
      args.map((a) => a.replace("URL", server.url).replace("DIR", dir)),
      { HOME: dir, XDG_CONFIG_HOME: f("config"), XDG_DATA_HOME: f("data") },
    );
    expect(exit2(r)).toMatch(message);
  });
});

describe.skipIf(!toolPath("nsc") || !toolPath("nats-server"))("nsc's own store, and preflight's baseline", () => {
  let nsc: Nsc;
  let server: RunningServer;
  let store: string;

  beforeAll(async () => {
    nsc = Nsc.create();
    // The store is not at nsc's default location: `nsc env -s` moved it, as a user may have.
    store = join(nsc.root, "elsewhere");
    mkdirSync(store);
    await nsc.run("env", "-s", store);
    await nsc.run("add", "operator", "--generate-signing-key", "--sys", "--name", "OP");
    await nsc.run("add", "account", "--name", "EXP");
    await nsc.run("add", "export", "--account", "EXP", "--subject", "pub.>");
    await nsc.run("add", "account", "--name", "IMP");
    await nsc.run(
      "add",
      "import",
      "--account",
      "IMP",
      "--src-account",
      await nsc.accountId("EXP"),
      "--remote-subject",
      "pub.eu",
    );
    server = await startServer(await nsc.testOperator());
    await nsc.run("edit", "operator", "--service-url", server.url, "--account-jwt-server-url", server.url);
    await nsc.run("push", "-A");
    await nsc
      .run("generate", "creds", "--account", "SYS", "--name", "sys", "--output-file", join(nsc.workDir, "sys.creds"))
      .catch(async () => {
        await nsc.run("add", "user", "--account", "SYS", "--name", "insights");
        await nsc.run(
          "generate",
          "creds",
          "--account",
          "SYS",
          "--name",
          "insights",
          "--output-file",
          join(nsc.workDir, "sys.creds"),
        );
      });
  }, 90_000);

  afterAll(async () => {
    await server?.stop();
    await nsc?.cleanup();
  });

  it("check without --nsc-store reads the store `nsc env -s` chose ($NSC_HOME/nsc.json, or $XDG_CONFIG_HOME/nats/nsc/nsc.json)", async () => {
    const viaNscHome = await runMain(["check"], {
      HOME: nsc.env["HOME"]!,
      XDG_CONFIG_HOME: nsc.env["XDG_CONFIG_HOME"]!,
      XDG_DATA_HOME: nsc.env["XDG_DATA_HOME"]!,
      NSC_HOME: nsc.env["NSC_HOME"]!,
    });
    expect(viaNscHome.code, viaNscHome.stderr).toBe(0);
    expect(viaNscHome.stdout).toMatch(/3 accounts, 1 imports?: 1 active/);
    // nsc without NSC_HOME keeps its configuration under XDG_CONFIG_HOME; tell that one too.
    const xdgEnv = {
      HOME: nsc.env["HOME"]!,
      XDG_CONFIG_HOME: nsc.env["XDG_CONFIG_HOME"]!,
      XDG_DATA_HOME: nsc.env["XDG_DATA_HOME"]!,
      PATH: nsc.env["PATH"]!,
    };
    await execFileP(nsc.bin, ["env", "-s", store], { env: xdgEnv });
    const viaXdg = await runMain(["check"], {
      HOME: xdgEnv.HOME,
      XDG_CONFIG_HOME: xdgEnv.XDG_CONFIG_HOME,
      XDG_DATA_HOME: xdgEnv.XDG_DATA_HOME,
    });
    expect(viaXdg.code, viaXdg.stderr).toBe(0);
    expect(viaXdg.stdout).toMatch(/3 accounts, 1 imports?: 1 active/);
    // Without nsc's configuration it is nsc's default location, where there is nothing.
    const bare = await runMain(["check"], {
      HOME: xdgEnv.HOME,
      XDG_CONFIG_HOME: join(nsc.root, "no-config"),
      XDG_DATA_HOME: xdgEnv.XDG_DATA_HOME,
    });
    expect(exit2(bare)).toMatch(/(nsc store not found|no operator found in nsc store) .*\/data\/nats\/nsc\/stores$/);
  }, 60_000);

  it("preflight of a JWT `nsc edit` already wrote to the store: exit 2, not 'safe to push'; against the live servers it finds the break", async () => {
    await nsc.run("edit", "export", "--account", "EXP", "--subject", "pub.>", "--private"); // breaks IMP's import
    const proposed = join(nsc.workDir, "exp.jwt");
    writeFileSync(proposed, await nsc.accountJwt("EXP"));
    const env = {
      HOME: nsc.env["HOME"]!,
      XDG_CONFIG_HOME: nsc.env["XDG_CONFIG_HOME"]!,
      XDG_DATA_HOME: nsc.env["XDG_DATA_HOME"]!,
      NSC_HOME: nsc.env["NSC_HOME"]!,
    };

    const againstStore = await runMain(["preflight", proposed], env);
    expect(exit2(againstStore)).toMatch(
      /already holds this exact JWT \(nsc edit writes it there\), so there is nothing to compare it with; compare with the servers: --server URL or --context NAME \(the operator names nats:\/\/127\.0\.0\.1:\d+\)/,
    );
    expect(againstStore.stdout).not.toContain("safe to push");

    const live = await runMain(
      ["preflight", proposed, "--server", server.url, "--creds", join(nsc.workDir, "sys.creds")],
      env,
    );
    expect(live.code, live.stderr).toBe(1);
    expect(live.stdout).toMatch(
      new RegExp(`compared with live servers ${server.url.replaceAll(".", "\\.")}, which holds a JWT issued \\d{4}-`),
    );
    expect(live.stdout).toMatch(/✗ breaks IMP: stream "pub\.eu" from EXP: active → inactive/);
    expect(live.stdout).toContain("do not push as is");

    const json = await runMain(
      ["preflight", proposed, "--server", server.url, "--creds", join(nsc.workDir, "sys.creds"), "--json"],
      env,
    );
    expect(JSON.parse(json.stdout)).toMatchObject({
      breaks: true,
      compared_with: { source: `live servers ${server.url}`, account_jwt: "different" },
    });
  }, 60_000);
});
