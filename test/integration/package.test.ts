/**
 * The package as a library, as a user gets it: `npm pack` of the fresh build, unpacked into a
 * project's node_modules beside the dependencies its package.json declares (linked from this
 * checkout's node_modules, so no network), then imported by name from that project, in JavaScript
 * and type-checked TypeScript. The JWTs are real (scenarios of the catalogue, signed here) and the
 * diagnoses come out of the packed code.
 */
import { execFile } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TestOperator } from "../support/deployment.js";
import { pushAll, startServer, type RunningServer } from "../support/nats-server.js";
import { SCENARIOS, type Built, type Scenario } from "../support/scenarios.js";
import { REPO_ROOT, toolPath } from "../support/tools.js";

const execFileP = promisify(execFile);

/** One scenario per status, and a cause a token decides. */
const CHOSEN = [
  "public stream",
  "private stream without a token",
  "expired token",
  "token expiring within the warning window",
];

/** npm beside the node running the tests (a Node distribution ships both), else the one on PATH. */
function npm(): string {
  const beside = join(dirname(process.execPath), "npm");
  return existsSync(beside) ? beside : "npm";
}

interface PackedFile {
  path: string;
}

describe("the packed package, imported by name from another project", () => {
  let root: string;
  let consumer: string;
  let jwtDir: string;
  let packed: PackedFile[];
  const built = new Map<string, { scenario: Scenario; b: Built }>();
  let op: TestOperator;

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), "insights-package-"));
    op = await TestOperator.create({ signingKey: true });
    jwtDir = join(root, "jwts");
    mkdirSync(jwtDir);
    writeFileSync(join(jwtDir, "operator.jwt"), op.jwt);
    for (const name of CHOSEN) {
      const scenario = SCENARIOS.find((s) => s.name === name);
      if (!scenario) throw new Error(`no scenario "${name}" in the catalogue`);
      const b = await scenario.build(op);
      for (const a of b.accounts) writeFileSync(join(jwtDir, `${a.id}.jwt`), a.jwt);
      built.set(name, { scenario, b });
    }

    const { stdout } = await execFileP(npm(), ["pack", "--json", "--pack-destination", root], {
      cwd: REPO_ROOT,
      timeout: 120_000,
      maxBuffer: 16 * 1024 * 1024,
    });
    const [report] = JSON.parse(stdout) as [{ filename: string; files: PackedFile[] }];
    packed = report.files;
    consumer = join(root, "consumer");
    const installed = join(consumer, "node_modules", "nats-insights");
    mkdirSync(installed, { recursive: true });
    await execFileP("tar", ["-xzf", join(root, report.filename), "-C", installed, "--strip-components=1"]);
    writeFileSync(join(consumer, "package.json"), JSON.stringify({ name: "consumer", private: true, type: "module" }));
    // What npm would install: the packed package.json's dependencies (and @types/node, which a
    // TypeScript project using a Node library has); each resolves its own from this checkout.
    const manifest = JSON.parse(readFileSync(join(installed, "package.json"), "utf8")) as {
      dependencies: Record<string, string>;
    };
    for (const dep of [...Object.keys(manifest.dependencies), "@types/node"]) {
      const link = join(consumer, "node_modules", dep);
      mkdirSync(dirname(link), { recursive: true });
      symlinkSync(join(REPO_ROOT, "node_modules", dep), link, "dir");
    }
  }, 240_000);

  afterAll(() => {
    if (root) rmSync(root, { recursive: true, force: true });
  });

  it("holds the built library and its types, and no tests", () => {
    const paths = packed.map((f) => f.path);
    expect(paths).toEqual(
      expect.arrayContaining(["dist/src/index.js", "dist/src/index.d.ts", "package.json", "README.md"]),
    );
    expect(paths.filter((p) => p.startsWith("dist/test/") || p.startsWith("test/") || p.startsWith("src/"))).toEqual(
      [],
    );
  });

  it("diagnoses a directory of real JWTs through the public API", async () => {
    const script = join(consumer, "check.mjs");
    writeFileSync(
      script,
      [
        `import { CAUSE_CODES, diagnoseDeployment, loadJwtDirectory } from "nats-insights";`,
        `const report = diagnoseDeployment(loadJwtDirectory(process.argv[2]));`,
        `console.log(JSON.stringify({ codes: CAUSE_CODES.length, summary: report.summary, errors: report.account_errors, imports: report.imports.map((d) => [d.account, d.status, d.cause, d.remediation.length]) }));`,
      ].join("\n"),
    );
    const { stdout } = await execFileP(process.execPath, [script, jwtDir], { cwd: consumer, timeout: 60_000 });
    const out = JSON.parse(stdout) as {
      codes: number;
      summary: Record<string, number>;
      errors: unknown[];
      imports: [string, string, string | null, number][];
    };
    expect(out.errors).toEqual([]);
    expect(out.codes).toBeGreaterThanOrEqual(20);
    for (const { scenario, b } of built.values()) {
      const status =
        scenario.cause === null ? "active" : scenario.cause === "activation_expiring_soon" ? "warning" : "inactive";
      const mine = out.imports.filter(([account]) => account === b.importer.id);
      expect(
        mine.map(([, s, c]) => [s, c]),
        scenario.name,
      ).toEqual([[status, scenario.cause]]);
      // A dead or warned-about import comes with the commands that fix it.
      expect(mine[0]![3] > 0, scenario.name).toBe(scenario.cause !== null);
    }
    expect(out.summary).toMatchObject({ imports: CHOSEN.length, active: 1, inactive: 2, warning: 1 });
  });

  it("diagnoses JWTs given in memory, with filters", async () => {
    const expired = built.get("expired token")!.b;
    const script = join(consumer, "memory.mjs");
    writeFileSync(
      script,
      [
        `import { readFileSync } from "node:fs";`,
        `import { deploymentOf, diagnoseDeployment } from "nats-insights";`,
        `const [operator, ...accounts] = process.argv.slice(2).map((f) => readFileSync(f, "utf8"));`,
        `const report = diagnoseDeployment(deploymentOf([operator], accounts), { status: "inactive", account: ${JSON.stringify(expired.importer.name)} });`,
        `console.log(JSON.stringify(report.imports.map((d) => [d.account, d.cause, d.source_account])));`,
      ].join("\n"),
    );
    const files = [
      join(jwtDir, "operator.jwt"),
      ...[...built.values()].flatMap(({ b }) => b.accounts.map((a) => join(jwtDir, `${a.id}.jwt`))),
    ];
    const { stdout } = await execFileP(process.execPath, [script, ...files], { cwd: consumer, timeout: 60_000 });
    expect(JSON.parse(stdout)).toEqual([[expired.importer.id, "activation_expired", expired.exporter.id]]);
  });

  describe.skipIf(!toolPath("nats-server"))("on a live deployment (real nats-server)", () => {
    let server: RunningServer | undefined;

    afterAll(async () => {
      await server?.stop();
    });

    it("reads the JWTs the full resolver stores, with a system-account user, and diagnoses them", async () => {
      server = await startServer(op);
      const accounts = [...built.values()].flatMap(({ b }) => b.accounts);
      await pushAll(server, accounts);
      const creds = join(root, "sys.creds");
      writeFileSync(creds, await op.system.userCreds());
      const script = join(consumer, "live.mjs");
      writeFileSync(
        script,
        [
          `import { diagnoseDeployment, loadFromServers } from "nats-insights";`,
          `const deployment = await loadFromServers({ server: process.argv[2], creds: process.argv[3] });`,
          `const report = diagnoseDeployment(deployment);`,
          `console.log(JSON.stringify({ origin: deployment.origin, imports: report.imports.map((d) => [d.account, d.status, d.cause]) }));`,
        ].join("\n"),
      );
      const { stdout } = await execFileP(process.execPath, [script, server.url, creds], {
        cwd: consumer,
        timeout: 60_000,
        env: { ...process.env, NATS_CONTEXT: "" },
      });
      const out = JSON.parse(stdout) as { origin: string; imports: [string, string, string | null][] };
      expect(out.origin).toContain(server.url);
      for (const { scenario, b } of built.values()) {
        const status =
          scenario.cause === null ? "active" : scenario.cause === "activation_expiring_soon" ? "warning" : "inactive";
        expect(
          out.imports.filter(([account]) => account === b.importer.id).map(([, s, c]) => [s, c]),
          scenario.name,
        ).toEqual([[status, scenario.cause]]);
      }
    }, 120_000);
  });

  it("exposes only its public API: a deep import of an internal module is refused", async () => {
    const script = join(consumer, "deep.mjs");
    writeFileSync(script, `await import("nats-insights/dist/src/core/monitor.js");\n`);
    const failed = await execFileP(process.execPath, [script], { cwd: consumer, timeout: 60_000 }).then(
      () => null,
      (e: { stderr: string }) => e.stderr,
    );
    expect(failed).toMatch(/ERR_PACKAGE_PATH_NOT_EXPORTED/);
  });

  it("type-checks a TypeScript consumer against the packed declarations", async () => {
    writeFileSync(
      join(consumer, "typed.ts"),
      [
        `import { diagnoseDeployment, loadNscStore, type ImportDiagnosis, type Report } from "nats-insights";`,
        `const report: Report = diagnoseDeployment(loadNscStore("/nowhere"), { expiryWarningDays: 3 });`,
        `const dead: ImportDiagnosis[] = report.imports.filter((d) => d.status === "inactive");`,
        `export const causes: (string | null)[] = dead.map((d) => d.cause);`,
      ].join("\n"),
    );
    writeFileSync(
      join(consumer, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: {
          strict: true,
          noEmit: true,
          skipLibCheck: true,
          module: "nodenext",
          moduleResolution: "nodenext",
          target: "es2022",
          types: ["node"],
        },
        files: ["typed.ts"],
      }),
    );
    const tsc = join(REPO_ROOT, "node_modules", "typescript", "bin", "tsc");
    const result = await execFileP(process.execPath, [tsc, "-p", "tsconfig.json"], {
      cwd: consumer,
      timeout: 120_000,
    }).then(
      () => "compiles",
      (e: { stdout: string }) => e.stdout,
    );
    expect(result).toBe("compiles");
  });
});
