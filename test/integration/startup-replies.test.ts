/**
 * A check asked while the service starts (built code, as `npm start` runs it: the pack's JWTs are
 * verified on a worker thread and, at this first load, decoded and filed as they come back, before
 * anything is evaluated; how many come back before the pack ends depends on the machine, and
 * test/unit/staged-load.test.ts checks what staging files). Until the load is evaluated and cross-checked, the endpoints are not
 * registered: a check finds no responders (and /readyz says "loading account JWTs"). It is never
 * answered from a half-filed directory: every answer is the one the started service gives.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { NatsConnection } from "@nats-io/nats-core";
import type * as AppModule from "../../src/app.js";
import type * as ConfigModule from "../../src/config.js";
import type * as LogModule from "../../src/shell/log.js";
import type * as ParallelModule from "../../src/shell/verify-threads.js";
import { isNoResponders } from "../../src/shell/resolver.js";
import { TestOperator, activation, forgeSignature, type TestAccount } from "../support/deployment.js";
import { distModule } from "../support/fresh-dist.js";
import { connectSystem, startServer, type RunningServer } from "../support/nats-server.js";

/** More than one batch of the stream verifier (128), so that the first load may stage JWTs. */
const IMPORTERS = 300;

type Outcome = "no responders" | "timeout" | { imports: unknown[]; account_errors: unknown[] };

describe("a check during the start-up", () => {
  let server: RunningServer;
  let sys: NatsConnection;
  let app: AppModule.InsightsApp | null = null;
  let dir: string;
  let parallel: typeof ParallelModule;
  let asked: TestAccount;
  const outcomes: Outcome[] = [];

  const check = async (): Promise<Outcome> => {
    try {
      const msg = await sys.request("insights.imports.check", JSON.stringify({ account: asked.id }), {
        timeout: 5000,
      });
      const { imports, account_errors } = msg.json<{ imports: unknown[]; account_errors: unknown[] }>();
      return { imports, account_errors };
    } catch (e) {
      if (isNoResponders(e)) return "no responders";
      return "timeout";
    }
  };

  beforeAll(async () => {
    const op = await TestOperator.create();
    const exporter = await op.account("EXP", {
      exports: [{ name: "svc", subject: "svc.>", type: "service", token_req: true }],
    });
    const importers: TestAccount[] = [];
    for (let i = 0; i < IMPORTERS; i++) {
      const imp = await op.account(`IMP${i}`);
      // Every tenth token is for another subject than the import's: inactive.
      const token = await activation(exporter, imp.id, i % 10 === 0 ? `svc.other.${i}` : `svc.${i}`, "service");
      await imp.reissue({
        imports: [{ name: "svc", account: exporter.id, subject: `svc.${i}`, type: "service", token }],
      });
      importers.push(imp);
    }
    asked = importers[IMPORTERS - 10]!; // an inactive one, late in the pack
    const stored = [exporter, ...importers].map((a) => ({ id: a.id, jwt: a.jwt }));
    stored[5] = { id: importers[4]!.id, jwt: forgeSignature(importers[4]!.jwt) };
    server = await startServer(op, { stored });
    sys = await connectSystem(server, op);
    dir = mkdtempSync(join(tmpdir(), "insights-startup-"));
    const creds = join(dir, "sys.creds");
    writeFileSync(creds, await op.system.userCreds());

    parallel = await distModule<typeof ParallelModule>("src/shell/verify-threads.js");
    parallel.setVerificationWorkers(1);
    const { InsightsApp } = await distModule<typeof AppModule>("src/app.js");
    const { loadConfig } = await distModule<typeof ConfigModule>("src/config.js");
    const { createLogger } = await distModule<typeof LogModule>("src/shell/log.js");
    const logs = new Writable({ write: (_chunk, _enc, done) => done() });
    const config = loadConfig(["--nats-url", server.url, "--creds", creds], {});
    const starting = InsightsApp.start(config, createLogger("debug", logs));
    let started = false;
    void starting.then(() => (started = true)).catch(() => (started = true));
    // Ask again and again while it starts; the first ask goes before it has even connected.
    while (!started) {
      outcomes.push(await check());
      await new Promise((r) => setTimeout(r, 20));
    }
    app = await starting;
  }, 240_000);

  afterAll(async () => {
    parallel?.setVerificationWorkers(0);
    await app?.stop();
    await sys?.close();
    await server?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("finds no responders until the service has started, and never a partial answer", async () => {
    const final = await check();
    expect(final).toMatchObject({ imports: [{ status: "inactive", cause: expect.any(String) as unknown }] });
    expect(outcomes[0]).toBe("no responders");
    for (const outcome of outcomes) if (outcome !== "no responders") expect(outcome).toEqual(final);
    expect(outcomes).not.toContain("timeout");
  });
});
