/**
 * The service's first load outlasts a server that does not answer for a while (a loaded machine,
 * a long collection; here the real server is stopped with SIGSTOP for longer than the request
 * time-out as soon as the service has connected, before or while the pack flows). The pack was cut
 * after one request time-out of silence and the fallback's LIST timed out too: the start-up ended
 * ("timeout", the process exited). Now a pack that flowed is waited for PACK_SILENCE_MS, and asked
 * again; a LIST or LOOKUP nobody answers in time is asked again, with back-off and a warning in
 * the log; and the service starts with the verdicts it gives undisturbed.
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
import { PACK_SILENCE_MS } from "../../src/shell/resolver.js";
import { TestOperator, activation, type TestAccount } from "../support/deployment.js";
import { distModule } from "../support/fresh-dist.js";
import { connectSystem, startServer, type RunningServer } from "../support/nats-server.js";

const IMPORTERS = 40;
const TIMEOUT_MS = 300;
/**
 * Longer than a flowing pack's silence limit: whether the pack had started to flow or not, it is
 * given up (asked again first, if it had flowed), and LIST is asked while the server is stopped.
 */
const PAUSE_MS = PACK_SILENCE_MS + 2_000;

interface LogLine {
  level: number;
  time: number;
  msg: string;
}

describe("the first load while the server does not answer", () => {
  let server: RunningServer;
  let sys: NatsConnection;
  let app: AppModule.InsightsApp | null = null;
  let dir: string;
  let importers: TestAccount[];
  const lines: LogLine[] = [];
  let paused = false;
  let pausedAt = 0;

  beforeAll(async () => {
    const op = await TestOperator.create();
    const exporter = await op.account("EXP", {
      exports: [{ name: "svc", subject: "svc.>", type: "service", token_req: true }],
    });
    importers = [];
    for (let i = 0; i < IMPORTERS; i++) {
      const imp = await op.account(`IMP${i}`);
      // Every fourth token is for another subject than the import's: inactive.
      const token = await activation(exporter, imp.id, i % 4 === 0 ? `svc.other.${i}` : `svc.${i}`, "service");
      await imp.reissue({
        imports: [{ name: "svc", account: exporter.id, subject: `svc.${i}`, type: "service", token }],
      });
      importers.push(imp);
    }
    server = await startServer(op, { stored: [exporter, ...importers].map((a) => ({ id: a.id, jwt: a.jwt })) });
    sys = await connectSystem(server, op);
    dir = mkdtempSync(join(tmpdir(), "insights-startup-pause-"));
    const creds = join(dir, "sys.creds");
    writeFileSync(creds, await op.system.userCreds());
    // The operator from a file: the servers' VARZ (asked while the server is stopped) is not needed for trust.
    const operatorJwt = join(dir, "operator.jwt");
    writeFileSync(operatorJwt, op.jwt);

    // The server stops as soon as the service has connected: its load's requests go unanswered.
    const resumed = new Promise<void>((resolve) => {
      sys.subscribe(`$SYS.ACCOUNT.${op.system.id}.CONNECT`, {
        callback: (_err, msg) => {
          if (paused || msg.json<{ client?: { name?: string } }>().client?.name !== "nats-insights") return;
          paused = true;
          pausedAt = Date.now();
          process.kill(server.pid, "SIGSTOP");
          setTimeout(() => {
            process.kill(server.pid, "SIGCONT");
            resolve();
          }, PAUSE_MS);
        },
      });
    });
    await sys.flush();

    const { InsightsApp } = await distModule<typeof AppModule>("src/app.js");
    const { loadConfig } = await distModule<typeof ConfigModule>("src/config.js");
    const { createLogger } = await distModule<typeof LogModule>("src/shell/log.js");
    const logs = new Writable({
      write: (chunk: Buffer, _enc, done) => {
        for (const line of chunk.toString().split("\n"))
          if (line.startsWith("{")) lines.push(JSON.parse(line) as LogLine);
        done();
      },
    });
    const config = loadConfig(
      [
        "--nats-url",
        server.url,
        "--creds",
        creds,
        "--operator-jwt",
        operatorJwt,
        "--request-timeout-ms",
        String(TIMEOUT_MS),
      ],
      {},
    );
    app = await InsightsApp.start(config, createLogger("debug", logs));
    await resumed;
  }, 240_000);

  afterAll(async () => {
    if (server && paused) process.kill(server.pid, "SIGCONT");
    await app?.stop();
    await sys?.close();
    await server?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("asks again, says so, and starts with every verdict", async (ctx) => {
    expect(paused).toBe(true);
    // The stop races the service's first requests: on a busy machine this process may hear of the
    // connection only after the load has read every JWT. Then nothing of the load was stopped.
    const read = lines.find((l) => l.msg === "resync: JWTs read");
    if (read && read.time < pausedAt) ctx.skip("the load had read every JWT before the server was stopped");
    // Or the stop came between the server's CONNECT event and the end of the service's handshake:
    // the service connected again after it, and its load ran undisturbed.
    if (lines.some((l) => l.msg === "connected" && l.time > pausedAt))
      ctx.skip("the server was stopped while the service was still connecting");
    const retried = lines.filter(
      (l) => l.level === 40 && /did not answer in time; asking again|did not finish; loading again/.test(l.msg),
    );
    expect(retried.length).toBeGreaterThanOrEqual(1);
    for (const [i, imp] of importers.entries()) {
      const msg = await sys.request("insights.imports.check", JSON.stringify({ account: imp.id }), { timeout: 5000 });
      const { imports } = msg.json<{ imports: { status: string; cause: string | null }[] }>();
      expect(imports).toEqual([
        expect.objectContaining(
          i % 4 === 0 ? { status: "inactive", cause: expect.any(String) as string } : { status: "active", cause: null },
        ),
      ]);
    }
  });
});
