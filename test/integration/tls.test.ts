/**
 * TLS and authentication against real servers, with certificates made by the real openssl: a
 * private CA, a server certificate for 127.0.0.1 (IP SAN) and a client certificate. Three servers
 * with the same deployment: TLS (`verify: false`), mutual TLS (`verify: true`), and mutual TLS with
 * `handshake_first`. The service (in this process, as configured by options or NATS_* variables),
 * the built CLI as a child process, and a natscli context saved by the real `nats context save`.
 */
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createUser } from "@nats-io/nkeys";
import { Kvm } from "@nats-io/kv";
import { InsightsApp } from "../../src/app.js";
import { ConfigError, loadConfig } from "../../src/config.js";
import { createLogger } from "../../src/shell/log.js";
import { connectOrFail, resolveConnection } from "../../src/shell/connection.js";
import { TestOperator, type TestAccount } from "../support/deployment.js";
import { startServer, type RunningServer } from "../support/nats-server.js";
import { ensureFreshDist, runMain, type MainRun } from "../support/dist.js";
import { hasOpenssl, makePki, type TestPki } from "../support/tls.js";
import { toolPath } from "../support/tools.js";

const execFileP = promisify(execFile);
const NATS = toolPath("nats");

/** One line on stderr, nothing on stdout, exit 2: a configuration, connection or credential error. */
function exit2(r: MainRun): string {
  expect(r.code, r.stderr).toBe(2);
  expect(r.stdout).toBe("");
  const lines = r.stderr.split("\n").filter((l) => l !== "");
  expect(lines, r.stderr).toHaveLength(1);
  return lines[0]!;
}

describe.skipIf(!toolPath("nats-server") || !hasOpenssl())(
  "TLS with a private CA, mutual TLS, TLS-first, natscli contexts",
  () => {
    let pki: TestPki;
    let op: TestOperator;
    let exporter: TestAccount;
    let importer: TestAccount;
    let tls: RunningServer;
    let mtls: RunningServer;
    let first: RunningServer;
    let state: TestAccount;
    let dir: string;
    let sysCreds: string;
    let stateCreds: string;

    beforeAll(async () => {
      await ensureFreshDist();
      pki = makePki();
      op = await TestOperator.create();
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
      // A JetStream-enabled account for the shared state (several instances), on the mTLS server.
      state = await op.account("STATE", { limits: { mem_storage: -1, disk_storage: -1, streams: -1, consumer: -1 } });
      const preload = [exporter, importer, state];
      dir = mkdtempSync(join(tmpdir(), "insights-tls-"));
      const jetstream = `jetstream { store_dir: ${JSON.stringify(join(dir, "js"))}\n max_mem: 64MB\n max_file: 64MB }\n`;
      [tls, mtls, first] = await Promise.all([
        startServer(op, { preload, extraConfig: pki.serverTlsBlock() }),
        startServer(op, { preload, extraConfig: pki.serverTlsBlock({ verify: true }) + jetstream }),
        startServer(op, { preload, extraConfig: pki.serverTlsBlock({ verify: true, handshakeFirst: true }) }),
      ]);
      stateCreds = join(dir, "state.creds");
      writeFileSync(stateCreds, await state.userCreds());
      sysCreds = join(dir, "sys.creds");
      writeFileSync(sysCreds, await op.system.userCreds());
    }, 150_000);

    afterAll(async () => {
      await Promise.all([tls?.stop(), mtls?.stop(), first?.stop()]);
      pki?.remove();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    const clientCert = () => ["--tls-cert", pki.clientCert, "--tls-key", pki.clientKey];
    const importsOf = (app: InsightsApp) =>
      app
        .diagnoses()
        .map((d) => [d.subject, d.status, d.cause])
        .sort();
    const EXPECTED = [
      ["orders.eu", "inactive", "missing_activation_token"],
      ["pub.x", "active", null],
    ];

    async function startApp(args: string[], env: NodeJS.ProcessEnv = {}): Promise<InsightsApp> {
      return InsightsApp.start(loadConfig(args, env), createLogger("silent"));
    }

    it("the service: NATS_CA trusts the private CA; without it, start fails at once naming NATS_CA (not retried)", async () => {
      const app = await startApp([], { NATS_URL: tls.url, NATS_CREDS: sysCreds, NATS_CA: pki.caCert });
      try {
        expect(importsOf(app)).toEqual(EXPECTED);
      } finally {
        await app.stop();
      }
      const started = Date.now();
      const noCa = await startApp(["--nats-url", tls.url, "--creds", sysCreds]).then(
        () => null,
        (e: unknown) => e,
      );
      expect(noCa).toBeInstanceOf(ConfigError);
      expect((noCa as Error).message).toMatch(
        /certificate is not trusted \(unable to verify the first certificate[^)]*\): give the CA that signed it with NATS_CA/,
      );
      const wrongCa = await startApp(["--nats-url", tls.url, "--creds", sysCreds, "--tls-ca", pki.otherCaCert]).catch(
        (e: Error) => e,
      );
      expect((wrongCa as Error).message).toContain(`not signed by the CA in ${pki.otherCaCert}`);
      expect(Date.now() - started).toBeLessThan(5000); // a configuration error ends start-up, no waiting
    });

    it("the service against verify: true: the CA alone is refused as 'requires a client certificate', with the client certificate it runs", async () => {
      // A client certificate from a CA the server does not trust: refused, and said so.
      const stranger = await startApp([
        "--nats-url",
        mtls.url,
        "--creds",
        sysCreds,
        "--tls-ca",
        pki.caCert,
        "--tls-cert",
        pki.strangerCert,
        "--tls-key",
        pki.strangerKey,
      ]).catch((e: Error) => e);
      expect(stranger).toBeInstanceOf(ConfigError);
      expect((stranger as Error).message).toMatch(
        /TLS: (the server refused the client certificate|the server closed the connection after the handshake).*(must be signed by a CA the server trusts|does it trust the CA that signed NATS_CERT)/,
      );
      const noCert = await startApp(["--nats-url", mtls.url, "--creds", sysCreds, "--tls-ca", pki.caCert]).catch(
        (e: Error) => e,
      );
      expect(noCert).toBeInstanceOf(ConfigError);
      // The server's alert, or (TLS 1.3: it races our CONNECT) only the reset that follows it.
      expect((noCert as Error).message).toMatch(
        /(the server requires a client certificate \(verify: true\)|it probably requires a client certificate \(verify: true\)); give NATS_CERT and NATS_KEY/,
      );
      // The state connection (a KV bucket of another account) goes over the same mutual TLS.
      const app = await startApp([
        "--nats-url",
        mtls.url,
        "--creds",
        sysCreds,
        "--tls-ca",
        pki.caCert,
        ...clientCert(),
        "--state-creds",
        stateCreds,
      ]);
      try {
        expect(importsOf(app)).toEqual(EXPECTED);
        const stateNc = await connectOrFail(
          resolveConnection(
            { url: mtls.url, creds: stateCreds, tlsCa: pki.caCert, tlsCert: pki.clientCert, tlsKey: pki.clientKey },
            {},
          ),
          "test",
        );
        try {
          const kv = await new Kvm(stateNc).open("insights_imports");
          // The instance recorded what it published at start (the inactive import) in the bucket.
          expect((await kv.status()).values).toBeGreaterThan(0);
        } finally {
          await stateNc.close();
        }
        // What the server saw: a TLS client that presented our certificate.
        const connz = mtls.logs();
        expect(connz).toMatch(/TLS handshake complete/);
      } finally {
        await app.stop();
      }
    });

    it("the service against handshake_first + verify: true, with NATS_TLS_FIRST", async () => {
      const app = await startApp([], {
        NATS_URL: first.url,
        NATS_CREDS: sysCreds,
        NATS_CA: pki.caCert,
        NATS_CERT: pki.clientCert,
        NATS_KEY: pki.clientKey,
        NATS_TLS_FIRST: "true",
      });
      try {
        expect(importsOf(app)).toEqual(EXPECTED);
      } finally {
        await app.stop();
      }
    });

    it("the built CLI over TLS: a verdict (exit 1) with CA and client certificate; exit 2 naming the missing piece otherwise", async () => {
      const base = ["check", "--creds", sysCreds, "--tls-ca", pki.caCert];
      const [ok, okFirst, noCert, noCa, noFirst, firstOnPlain, viaEnv] = await Promise.all([
        runMain([...base, "--server", mtls.url, ...clientCert(), "--json"]),
        runMain([...base, "--server", first.url, ...clientCert(), "--tls-first", "--json"]),
        runMain([...base, "--server", mtls.url]),
        runMain(["check", "--creds", sysCreds, "--server", tls.url]),
        runMain([...base, "--server", first.url, ...clientCert()]),
        runMain([...base, "--server", tls.url, "--tls-first"]),
        runMain(["check", "--server", mtls.url, "--json"], {
          NATS_CREDS: sysCreds,
          NATS_CA: pki.caCert,
          NATS_CERT: pki.clientCert,
          NATS_KEY: pki.clientKey,
        }),
      ]);
      for (const r of [ok, okFirst, viaEnv]) {
        expect(r.code, r.stderr).toBe(1); // one import is inactive: the verdict, reached over TLS
        expect((JSON.parse(r.stdout) as { summary: unknown }).summary).toEqual({
          accounts: 4,
          imports: 2,
          active: 1,
          inactive: 1,
          warning: 0,
          undetermined: 0,
        });
      }
      expect(exit2(noCert)).toMatch(
        /^nats-insights: cannot connect to nats:\/\/127\.0\.0\.1:\d+: TLS: .*(requires|probably requires) a client certificate \(verify: true\); give NATS_CERT and NATS_KEY/,
      );
      expect(exit2(noCa)).toMatch(/TLS: the server's certificate is not trusted .*NATS_CA \(--tls-ca\)/);
      expect(exit2(noFirst)).toMatch(
        /closed the connection before greeting \(does it require a TLS-first handshake\? then set NATS_TLS_FIRST \/ --tls-first\)/,
      );
      expect(exit2(firstOnPlain)).toMatch(/the server does not start with a TLS handshake; drop NATS_TLS_FIRST/);
      for (const r of [noCert, noCa, noFirst, firstOnPlain]) expect(r.ms).toBeLessThan(15_000);
    }, 60_000);

    describe.skipIf(!NATS)("a natscli context saved by the real `nats context save`", () => {
      let config: string;
      const ctxEnv = () => ({ XDG_CONFIG_HOME: config, HOME: dir });

      beforeAll(async () => {
        config = join(dir, "config");
        mkdirSync(config, { recursive: true });
        await execFileP(
          NATS!,
          [
            "context",
            "save",
            "prod",
            "--server",
            first.url,
            "--creds",
            sysCreds,
            "--tlsca",
            pki.caCert,
            "--tlscert",
            pki.clientCert,
            "--tlskey",
            pki.clientKey,
            "--tlsfirst",
          ],
          { env: { PATH: process.env["PATH"] ?? "", ...ctxEnv() } },
        );
        // A context with only the TLS part, for options to fill in the rest.
        await execFileP(
          NATS!,
          ["context", "save", "tlsonly", "--tlsca", pki.caCert, "--tlscert", pki.clientCert, "--tlskey", pki.clientKey],
          { env: { PATH: process.env["PATH"] ?? "", ...ctxEnv() } },
        );
      }, 30_000);

      it("the file natscli writes is the one read, and natscli itself connects with it", async () => {
        const saved = JSON.parse(readFileSync(join(config, "nats", "context", "prod.json"), "utf8")) as Record<
          string,
          unknown
        >;
        expect(saved).toMatchObject({
          url: first.url,
          creds: sysCreds,
          ca: pki.caCert,
          cert: pki.clientCert,
          key: pki.clientKey,
          tls_first: true,
        });
        const settings = resolveConnection({ context: "prod" }, ctxEnv());
        expect(settings).toMatchObject({
          servers: [first.url],
          auth: { kind: "creds", secret: { path: sysCreds } },
          tls: { caFile: pki.caCert, certFile: pki.clientCert, keyFile: pki.clientKey, handshakeFirst: true },
        });
        const nc = await connectOrFail(settings, "test");
        await nc.close();
        const rtt = await execFileP(NATS!, ["--context", "prod", "rtt"], {
          env: { PATH: process.env["PATH"] ?? "", ...ctxEnv() },
        });
        expect(rtt.stdout).toMatch(new RegExp(`${first.url}: [\\d.]+[µm]?s`));
      });

      it("the built CLI: --context NAME, NATS_CONTEXT with --server, and a context file path", async () => {
        const [byName, byEnv, byFile, missing] = await Promise.all([
          runMain(["check", "--context", "prod", "--json"], ctxEnv()),
          runMain(["check", "--server", first.url, "--creds", sysCreds, "--tls-first", "--json"], {
            ...ctxEnv(),
            NATS_CONTEXT: "tlsonly",
          }),
          runMain(["check", "--context", join(config, "nats", "context", "prod.json"), "--json"], {}),
          runMain(["check", "--context", "nope"], ctxEnv()),
        ]);
        for (const r of [byName, byEnv, byFile]) {
          expect(r.code, r.stderr).toBe(1);
          expect((JSON.parse(r.stdout) as { summary: { inactive: number } }).summary.inactive).toBe(1);
        }
        expect(exit2(missing)).toMatch(
          /^nats-insights: NATS_CONTEXT: no context "nope" \(looked for .*nats\/context\/nope\.json/,
        );
      }, 60_000);

      it("the service with NATS_CONTEXT, and options overriding it", async () => {
        const app = await startApp([], { ...ctxEnv(), NATS_CONTEXT: "prod" });
        try {
          expect(importsOf(app)).toEqual(EXPECTED);
        } finally {
          await app.stop();
        }
        // The option wins over the context: the mTLS server without TLS-first.
        const app2 = await startApp(["--nats-url", mtls.url, "--context", "tlsonly", "--creds", sysCreds], ctxEnv());
        try {
          expect(importsOf(app2)).toEqual(EXPECTED);
        } finally {
          await app2.stop();
        }
      });
    });
  },
);

describe.skipIf(!toolPath("nats-server"))(
  "user/password, token and nkey authentication (a server not in operator mode)",
  () => {
    const nkeyUser = createUser();
    let servers: { up: RunningServer; token: RunningServer; nkey: RunningServer };
    let dir: string;

    beforeAll(async () => {
      await ensureFreshDist();
      const op = await TestOperator.create(); // the harness wants one; these servers do not use it
      const [up, token, nkey] = await Promise.all([
        startServer(op, { plainConfig: `authorization { user: "insights", password: "s3cret" }` }),
        startServer(op, { plainConfig: `authorization { token: "t0ken-value" }` }),
        startServer(op, { plainConfig: `authorization { users: [{ nkey: "${nkeyUser.getPublicKey()}" }] }` }),
      ]);
      servers = { up, token, nkey };
      dir = mkdtempSync(join(tmpdir(), "insights-auth-"));
      writeFileSync(join(dir, "user.nk"), new TextDecoder().decode(nkeyUser.getSeed()));
    }, 60_000);

    afterAll(async () => {
      await Promise.all(Object.values(servers ?? {}).map((s) => s.stop()));
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    it("the right credentials get in, the wrong ones are refused by the server", async () => {
      const cases: [RunningServer, Record<string, string>, Record<string, string>][] = [
        [servers.up, { user: "insights", password: "s3cret" }, { user: "insights", password: "wrong" }],
        [servers.token, { token: "t0ken-value" }, { token: "wrong" }],
        [servers.nkey, { nkey: join(dir, "user.nk") }, { token: "x" }],
      ];
      for (const [server, good, bad] of cases) {
        const nc = await connectOrFail(resolveConnection({ url: server.url, ...good }, {}), "test");
        await nc.close();
        await expect(connectOrFail(resolveConnection({ url: server.url, ...bad }, {}), "test")).rejects.toThrow(
          /the server refused the credentials \(Authorization Violation\)/,
        );
      }
    });

    it("the built CLI: wrong credentials exit 2 naming them; right ones pass authentication (then: not a system account, exit 2)", async () => {
      const [up, env, badToken, nkey] = await Promise.all([
        runMain(["check", "--server", servers.up.url, "--user", "insights", "--password", "wrong"]),
        runMain(["check", "--server", servers.up.url], { NATS_USER: "insights", NATS_PASSWORD: "s3cret" }),
        runMain(["check", "--server", servers.token.url, "--token", "nope"]),
        runMain(["check", "--server", servers.nkey.url, "--nkey", join(dir, "user.nk")]),
      ]);
      expect(exit2(up)).toMatch(/^nats-insights: cannot connect to .*the server refused the credentials/);
      expect(exit2(badToken)).toMatch(/the server refused the credentials/);
      for (const r of [env, nkey]) expect(exit2(r)).not.toMatch(/refused the credentials|cannot connect/);
    }, 60_000);
  },
);
