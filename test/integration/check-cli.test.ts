/**
 * `nats-insights check`, the offline audit, as a user runs it: the built CLI as a child process,
 * on an nsc store made with the real nsc, on a directory of JWTs, and on a live server.
 */
import { execFile } from "node:child_process";
import { cpSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { validator } from "../../src/service/schemas.js";
import type { AuditReport } from "../../src/cli/audit.js";
import { Nsc } from "../support/nsc.js";
import { TestOperator, activation } from "../support/deployment.js";
import { connectAs, pushAll, startServer, type RunningServer } from "../support/nats-server.js";
import { REPO_ROOT, toolPath } from "../support/tools.js";
import { ensureFreshDist } from "../support/dist.js";

const execFileP = promisify(execFile);
const CLI = join(REPO_ROOT, "dist", "src", "main.js");

async function cli(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await execFileP(process.execPath, [CLI, ...args], {
      env: { PATH: process.env["PATH"] ?? "", ...env },
      timeout: 30_000,
    });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

beforeAll(async () => {
  await ensureFreshDist(); // never test a stale dist
}, 130_000);

describe.skipIf(!toolPath("nsc"))("check on an nsc store made with the real nsc", () => {
  let nsc: Nsc;
  const env = () => ({ HOME: nsc.env["HOME"]!, XDG_DATA_HOME: nsc.env["XDG_DATA_HOME"]! });

  beforeAll(async () => {
    nsc = Nsc.create();
    await nsc.run("add", "operator", "--generate-signing-key", "--sys", "--name", "OP");
    await nsc.run("add", "account", "--name", "EXP");
    await nsc.run("add", "export", "--account", "EXP", "--subject", "orders.>", "--private");
    await nsc.run("add", "export", "--account", "EXP", "--subject", "pub.>");
    await nsc.run("add", "account", "--name", "IMP");
    const imp = await nsc.accountId("IMP");
    await nsc.run(
      "generate",
      "activation",
      "--account",
      "EXP",
      "--target-account",
      imp,
      "--subject",
      "orders.>",
      "--output-file",
      "orders.jwt",
    );
    await nsc.run("add", "import", "--account", "IMP", "--token", "orders.jwt");
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
  }, 60_000);

  afterAll(async () => {
    await nsc?.cleanup();
  });

  it("exits 0 when every import is active, reading nsc's default store location", async () => {
    const r = await cli(["check"], env());
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/IMP A[A-Z0-9]{55}\n {2}✓ active {3}stream "orders\.>" from EXP/);
    expect(r.stdout).toMatch(/3 accounts, 2 imports: 2 active, 0 inactive, 0 warning/);
    expect(r.stdout).not.toContain("\x1b["); // no colour off a terminal
  });

  it("exits 1 and prints the cause and the fix when an import breaks", async () => {
    await nsc.run("edit", "export", "--account", "EXP", "--subject", "pub.>", "--private");
    const r = await cli(["check", "--nsc-store", join(nsc.env["XDG_DATA_HOME"]!, "nats", "nsc", "stores")]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('✗ inactive stream "pub.eu" from EXP  missing_activation_token');
    expect(r.stdout).toMatch(
      /\$ nsc generate activation --account EXP --target-account A[A-Z0-9]{55} --subject pub\.eu /,
    );
    expect(r.stdout).toContain("$ nsc push --account IMP");
  });

  it("--json gives the service's ImportDiagnosis objects; filters narrow the gate", async () => {
    const store = join(nsc.env["XDG_DATA_HOME"]!, "nats", "nsc", "stores", "OP");
    const r = await cli(["check", "--nsc-store", store, "--json"]);
    expect(r.code).toBe(1);
    const report = JSON.parse(r.stdout) as AuditReport;
    const valid = validator("import-diagnosis");
    for (const d of report.imports) expect(valid(d) ? null : valid.errors).toBeNull();
    expect(report.imports.map((d) => [d.subject, d.cause]).sort()).toEqual([
      ["orders.>", null],
      ["pub.eu", "missing_activation_token"],
    ]);
    const active = await cli(["check", "--nsc-store", store, "--status", "active", "--json"]);
    expect(active.code).toBe(0);
    expect((JSON.parse(active.stdout) as AuditReport).imports).toHaveLength(1);
    const other = await cli(["check", "--nsc-store", store, "--account", "EXP"]);
    expect(other.code).toBe(0);
  });

  it("its remediation, run verbatim with nsc, restores the import exactly as it was declared", async () => {
    const store = join(nsc.env["XDG_DATA_HOME"]!, "nats", "nsc", "stores", "OP");
    const before = JSON.parse((await cli(["check", "--nsc-store", store, "--json"])).stdout) as AuditReport;
    const broken = before.imports.find((d) => d.subject === "pub.eu")!;
    // No server here: everything but the push, which the live tests run.
    for (const line of broken.remediation.filter((l) => !l.startsWith("#") && !l.startsWith("nsc push")))
      await nsc.sh(line);
    const after = await cli(["check", "--nsc-store", store, "--json"]);
    expect(after.code).toBe(0);
    const restored = (JSON.parse(after.stdout) as AuditReport).imports.find(
      (d) => d.source_account === broken.source_account && d.subject === "pub.eu",
    );
    expect(restored).toMatchObject({ status: "active", local_subject: broken.local_subject, name: broken.name });
  });

  it("preflight: a proposed exporter JWT that breaks an import exits 1 and names it; a harmless one exits 0", async () => {
    const stores = join(nsc.env["XDG_DATA_HOME"]!, "nats", "nsc", "stores");
    const baseline = mkdtempSync(join(tmpdir(), "baseline-"));
    try {
      cpSync(stores, baseline, { recursive: true }); // what the servers have: the store before the edits
      await nsc.run("add", "export", "--account", "EXP", "--subject", "extra.>");
      writeFileSync(join(baseline, "harmless.jwt"), await nsc.accountJwt("EXP"));
      const harmless = await cli(["preflight", join(baseline, "harmless.jwt"), "--nsc-store", baseline]);
      expect(harmless.code).toBe(0);
      expect(harmless.stdout).toContain("safe to push");
      await nsc.run("delete", "export", "--account", "EXP", "--subject", "orders.>");
      writeFileSync(join(baseline, "breaking.jwt"), await nsc.accountJwt("EXP"));
      const breaking = await cli(["preflight", join(baseline, "breaking.jwt"), "--nsc-store", baseline]);
      expect(breaking.code).toBe(1);
      expect(breaking.stdout).toMatch(
        /✗ breaks IMP: stream "orders\.>" from EXP: active → inactive \(export_not_found\)/,
      );
      expect(breaking.stdout).toContain("do not push as is");
      const json = JSON.parse(
        (await cli(["preflight", join(baseline, "breaking.jwt"), "--nsc-store", baseline, "--json"])).stdout,
      ) as { breaks: boolean; changes: unknown[] };
      expect(json).toMatchObject({ breaks: true });
      expect(json.changes).toHaveLength(1);
    } finally {
      rmSync(baseline, { recursive: true, force: true });
    }
  });

  it("reads a directory of JWTs with the operator JWT beside them", async () => {
    const dir = mkdtempSync(join(tmpdir(), "jwtdir-"));
    try {
      writeFileSync(join(dir, "operator.jwt"), await nsc.operatorJwt());
      for (const name of ["EXP", "IMP", "SYS"])
        writeFileSync(join(dir, `${await nsc.accountId(name)}.jwt`), await nsc.accountJwt(name));
      const r = await cli(["check", "--jwt-dir", dir, "--json"]);
      // Since the preflight test the store no longer exports orders.>: its import is inactive.
      expect(r.code).toBe(1);
      expect((JSON.parse(r.stdout) as AuditReport).summary).toEqual({
        accounts: 3,
        imports: 2,
        active: 1,
        inactive: 1,
        warning: 0,
        undetermined: 0,
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe.skipIf(!toolPath("nats-server"))("check on a live deployment", () => {
  let server: RunningServer;
  let dir: string;

  beforeAll(async () => {
    const op = await TestOperator.create();
    server = await startServer(op);
    const exp = await op.account("EXP", { exports: [{ name: "o", subject: "o.>", type: "stream", token_req: true }] });
    const imp = await op.account("IMP");
    await imp.reissue({
      imports: [
        {
          name: "o",
          account: exp.id,
          subject: "o.1",
          type: "stream",
          token: await activation(exp, imp.id, "o.>", "stream", { exp: Math.floor(Date.now() / 1000) + 3600 }),
        },
      ],
    });
    await pushAll(server, [exp, imp]);
    dir = mkdtempSync(join(tmpdir(), "live-"));
    writeFileSync(join(dir, "sys.creds"), await op.system.userCreds());
  }, 60_000);

  afterAll(async () => {
    await server?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("warns about a token expiring soon, and still exits 0", async () => {
    const r = await cli(["check", "--server", server.url, "--creds", join(dir, "sys.creds")]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('! warning  stream "o.1" from EXP  activation_expiring_soon');
  });
});

describe.skipIf(!toolPath("nats-server"))(
  "check on a live deployment with a memory resolver (no CLAIMS.* to read)",
  () => {
    let server: RunningServer;
    let dir: string;
    let ghost: string;

    beforeAll(async () => {
      const op = await TestOperator.create();
      const exp = await op.account("EXP", { exports: [{ name: "o", subject: "o.>", type: "stream" }] });
      const never = await op.account("GHOST", { exports: [{ name: "g", subject: "g.>", type: "stream" }] });
      ghost = never.id;
      const imp = await op.account("IMP", {
        imports: [
          { name: "o", account: exp.id, subject: "o.1", type: "stream" },
          { name: "g", account: never.id, subject: "g.1", type: "stream" },
        ],
      });
      // GHOST is not in the preload: the server cannot load it when IMP is loaded.
      server = await startServer(op, { resolver: "memory", preload: [exp, imp] });
      await (await connectAs(server, imp)).close();
      dir = mkdtempSync(join(tmpdir(), "live-"));
      writeFileSync(join(dir, "sys.creds"), await op.system.userCreds());
    }, 60_000);

    afterAll(async () => {
      await server?.stop();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    it("reads the accounts the servers have loaded, and names the one none could load", async () => {
      const r = await cli(["check", "--server", server.url, "--creds", join(dir, "sys.creds"), "--json"]);
      expect(r.stderr).toMatch(
        /^nats-insights: no account resolver answers \$SYS\.REQ\.CLAIMS\.\* \(a memory or URL resolver\): checked the 3 accounts the servers have loaded; not loaded by any server: (\w+)\n$/,
      );
      expect(r.stderr).toContain(ghost);
      expect(r.code).toBe(1);
      const report = JSON.parse(r.stdout) as AuditReport;
      const causes = report.imports.map((d) => [d.subject, d.status, d.cause]);
      expect(causes).toEqual(
        expect.arrayContaining([
          ["o.1", "active", null],
          ["g.1", "inactive", "source_account_not_found"],
        ]),
      );
    });
  },
);

describe("usage errors exit 2 with one line", () => {
  it.each([
    [["check", "--nsc-store", "/no/such/dir"], /^nats-insights: nsc store not found: \/no\/such\/dir/],
    [["check", "--status", "sideways"], /^nats-insights: --status must be one of active, inactive, warning/],
    [
      ["check", "--jwt-dir", "/tmp", "--server", "nats://x:1"],
      /^nats-insights: give one source, not --jwt-dir and --server/,
    ],
    [["check", "--server", "nats://127.0.0.1:1"], /^nats-insights: cannot connect to nats:\/\/127\.0\.0\.1:1/],
    [["frobnicate"], /^nats-insights: unknown command "frobnicate"/],
  ])("%j", async (args, message) => {
    const r = await cli(args);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
  });
});
