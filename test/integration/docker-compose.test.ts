/**
 * docker-compose.yml and the Dockerfile, validated without a Docker engine: the files they name
 * exist, versions agree with the pinned tools, and the compose's nats-server configuration, with a
 * resolver.conf made by the real nsc as the README says, runs on the real nats-server with the
 * service started exactly as the compose starts it (environment only).
 */
import { execFile, spawn } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { Nsc } from "../support/nsc.js";
import { REPO_ROOT, toolPath } from "../support/tools.js";
import { freePort } from "../support/cluster.js";

const execFileP = promisify(execFile);
const read = (p: string) => readFileSync(join(REPO_ROOT, p), "utf8");

interface Compose {
  services: Record<
    string,
    {
      image?: string;
      build?: string;
      volumes?: string[];
      environment?: Record<string, string>;
      secrets?: string[];
      healthcheck?: { test: string[] };
    }
  >;
  secrets: Record<string, { file: string }>;
}

describe("docker-compose.yml and Dockerfile", () => {
  const compose = parse(read("docker-compose.yml")) as Compose;
  const generated = ["./deploy/nats/resolver.conf", "./deploy/insights/sys.creds"];

  it("names files that exist, apart from the two the README has nsc make", () => {
    const hostPaths = Object.values(compose.services)
      .flatMap((s) => (s.volumes ?? []).map((v) => v.split(":")[0]!))
      .filter((p) => p.startsWith("./"));
    hostPaths.push(...Object.values(compose.secrets).map((s) => s.file));
    for (const p of hostPaths) if (!generated.includes(p)) expect(existsSync(join(REPO_ROOT, p)), p).toBe(true);
    const readme = read("README.md");
    for (const p of generated) expect(readme).toContain(p.slice(2));
  });

  it("runs the nats-server version the tests run", () => {
    const pinned = /NATS_SERVER_VERSION=v(\S+)/.exec(read("scripts/setup.sh"))![1];
    expect(compose.services["nats"]!.image).toBe(`nats:${pinned}-alpine`);
  });

  it("builds on the Node the suite runs on first, and package.json agrees with the lines tested", () => {
    const setup = read("scripts/setup.sh");
    const versions = /^NODE_VERSIONS="([^"]+)"/m.exec(setup)![1]!.split(" ");
    const bases = [...read("Dockerfile").matchAll(/^FROM (\S+)/gm)].map((m) => m[1]);
    expect(bases).toEqual([`node:${versions[0]}-alpine`, `node:${versions[0]}-alpine`]);
    const pkg = JSON.parse(read("package.json")) as {
      engines: { node: string };
      devDependencies: Record<string, string>;
    };
    const majors = versions.map((v) => Number(v.split(".")[0])).sort((a, b) => a - b);
    // Types of the oldest line tested, so no newer API slips in; engines start at that line.
    expect(Number(pkg.devDependencies["@types/node"]!.split(".")[0])).toBe(majors[0]);
    expect(pkg.engines.node).toMatch(new RegExp(`^\\^${majors[0]}\\.`));
    for (const v of versions) expect(setup).toMatch(new RegExp(`\\[${v.replaceAll(".", "\\.")}\\]=sha512-`));
  });

  it("builds from files that exist and starts the entry point the build makes", () => {
    const dockerfile = read("Dockerfile");
    const sources = [...dockerfile.matchAll(/^COPY (?!--from)(.+) \S+$/gm)].flatMap((m) => m[1]!.split(" "));
    for (const s of sources) expect(existsSync(join(REPO_ROOT, s)), s).toBe(true);
    expect(dockerfile).toContain('ENTRYPOINT ["node", "--max-semi-space-size=16", "dist/src/main.js"]');
    expect(existsSync(join(REPO_ROOT, "dist", "src", "main.js"))).toBe(true);
    expect(compose.services["insights"]!.environment).toMatchObject({
      NATS_URL: "nats://nats:4222",
      NATS_CREDS: "/run/secrets/insights-sys-creds",
    });
  });
});

describe.skipIf(!toolPath("nsc") || !toolPath("nats-server"))(
  "the compose's nats-server configuration on the real server",
  () => {
    let nsc: Nsc;
    let dir: string;

    beforeAll(async () => {
      nsc = Nsc.create();
      await nsc.run("add", "operator", "--generate-signing-key", "--sys", "--name", "OP");
      dir = mkdtempSync(join(tmpdir(), "compose-"));
      cpSync(join(REPO_ROOT, "deploy"), join(dir, "deploy"), { recursive: true });
      // Exactly the README's nsc commands, run from (a copy of) the repository's root.
      const block = read("README.md").split("## Docker")[1]!.split("```sh")[1]!.split("```")[0]!;
      const commands = block.split("\n").filter((l) => l.startsWith("nsc ") && !l.startsWith("nsc push"));
      expect(commands).toHaveLength(3);
      for (const line of commands) await nsc.sh(`cd ${dir} && ${line}`);
    }, 60_000);

    afterAll(async () => {
      await nsc?.cleanup();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    it("passes nats-server's configuration test", async () => {
      // In dir: checking the configuration makes the resolver's directory, relative to the working directory.
      const { stderr } = await execFileP(
        toolPath("nats-server")!,
        ["-t", "-c", join(dir, "deploy/nats/nats-server.conf")],
        { cwd: dir },
      );
      expect(stderr).toMatch(/^nats-server: configuration file \S+nats-server\.conf is valid/);
    });

    it("serves the service started as the compose starts it", async () => {
      cpSync(join(dir, "deploy"), join(dir, "etc"), { recursive: true });
      // The compose's config, on 127.0.0.1 and a port of the server's choosing instead of 0.0.0.0:4222.
      const server = spawn(
        toolPath("nats-server")!,
        [
          "-c",
          join(dir, "etc/nats/nats-server.conf"),
          "-a",
          "127.0.0.1",
          "-p",
          "-1",
          "-m",
          "0",
          "--ports_file_dir",
          dir,
        ],
        { cwd: dir, stdio: "ignore" },
      );
      try {
        let url = "";
        for (let i = 0; i < 100 && !url; i++) {
          await new Promise((r) => setTimeout(r, 50));
          const ports = (await import("node:fs")).readdirSync(dir).find((f) => f.endsWith(".ports"));
          if (ports) url = (JSON.parse(readFileSync(join(dir, ports), "utf8")) as { nats: string[] }).nats[0]!;
        }
        expect(url).toMatch(/^nats:\/\/127\.0\.0\.1:\d+$/);
        const metricsPort = await freePort();
        const env = {
          PATH: process.env["PATH"] ?? "",
          NATS_URL: url,
          NATS_CREDS: join(dir, "deploy/insights/sys.creds"),
          LOG_LEVEL: "error",
          INSIGHTS_METRICS_PORT: String(metricsPort),
          INSIGHTS_METRICS_HOST: "127.0.0.1",
        };
        // The compose's healthcheck command, run as Docker runs it: in the service's environment.
        const [cmd, ...args] = (parse(read("docker-compose.yml")) as Compose).services[
          "insights"
        ]!.healthcheck!.test.slice(1) as [string, ...string[]];
        const healthcheck = () =>
          execFileP(cmd === "node" ? process.execPath : cmd, args, { env, timeout: 10_000 }).then(
            () => 0,
            (e: { code: number }) => e.code,
          );
        expect(await healthcheck()).toBe(1); // nothing listens yet
        const service = spawn(process.execPath, [join(REPO_ROOT, "dist/src/main.js"), "serve"], {
          env,
          stdio: "ignore",
        });
        try {
          let reply = "";
          for (let i = 0; i < 60 && !reply.includes("summary"); i++) {
            await new Promise((r) => setTimeout(r, 250));
            reply = await execFileP(
              toolPath("nats")!,
              ["--no-context", "-s", url, "--creds", env.NATS_CREDS, "req", "insights.imports.check", "{}"],
              { env: { HOME: dir, PATH: env.PATH } },
            )
              .then((r) => r.stdout)
              .catch(() => "");
          }
          expect(JSON.parse(reply)).toMatchObject({ summary: { accounts: 1, imports: 0 } });
          // Ready follows the registration by a moment; Docker retries the check, so may we.
          let health = await healthcheck();
          for (let i = 0; i < 20 && health !== 0; i++) health = await healthcheck();
          expect(health).toBe(0);
        } finally {
          service.kill("SIGTERM");
        }
      } finally {
        server.kill("SIGTERM");
      }
    }, 40_000);
  },
);
