/**
 * The live service (InsightsApp) as integration tests start it, and the one way they stop what
 * they started.
 */
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { NatsConnection } from "@nats-io/nats-core";
import { expect } from "vitest";
import { InsightsApp } from "../../src/app.js";
import { loadConfig } from "../../src/config.js";
import type { ImportDiagnosis } from "../../src/core/index.js";
import { createLogger } from "../../src/shell/log.js";
import { validator } from "../../src/service/schemas.js";
import type { TestOperator } from "./deployment.js";

/**
 * The service on `urls` (comma-separated) with a system user's creds written into `dir`, a
 * resync every `epoch` seconds; logs go nowhere unless TEST_LOG names a level.
 */
export async function startService(op: TestOperator, urls: string, dir: string, epoch: string): Promise<InsightsApp> {
  const creds = join(dir, "sys.creds");
  writeFileSync(creds, await op.system.userCreds());
  return InsightsApp.start(
    loadConfig(["--nats-url", urls, "--creds", creds, "--epoch", epoch], {}),
    createLogger(process.env.TEST_LOG ?? "silent"),
  );
}

/** What a test file may have started; any part may be missing (a set-up that failed half-way). */
export interface Started {
  app?: InsightsApp;
  pinned?: NatsConnection[];
  sys?: NatsConnection;
  server?: { stop(): Promise<void> };
  cluster?: { stopAll(): Promise<void> };
  dir?: string;
}

/** Stops, in order, the service, the pinned clients, the system connection, the servers, and removes the dir. */
export async function stopStarted(s: Started): Promise<void> {
  await s.app?.stop();
  for (const nc of s.pinned ?? []) await nc.close().catch(() => {});
  await s.sys?.close().catch(() => {});
  await s.server?.stop();
  await s.cluster?.stopAll();
  if (s.dir) rmSync(s.dir, { recursive: true, force: true });
}

export interface CheckReply {
  imports: ImportDiagnosis[];
  jwt_source: { from: string; unseen_accounts: string[]; differing_accounts: string[] };
}

/** The check endpoint's reply (every import, up to 10,000), checked against its schema; a service error throws. */
export async function checkReply(nc: NatsConnection, body: Record<string, unknown> = {}): Promise<CheckReply> {
  const msg = await nc.request("insights.imports.check", JSON.stringify({ limit: 10_000, ...body }), { timeout: 5000 });
  if (msg.headers?.get("Nats-Service-Error"))
    throw new Error(`check: ${msg.headers.get("Nats-Service-Error-Code")} ${msg.headers.get("Nats-Service-Error")}`);
  const reply = msg.json<CheckReply>();
  const valid = validator("check-reply");
  expect(valid(reply), JSON.stringify(valid.errors)).toBe(true);
  return reply;
}

/**
 * Ask the service until `pred` holds (or the bound passes). A change the servers made reaches the
 * service at its next resync, which is when it is, so the condition is waited for.
 */
export async function checkUntil(
  nc: NatsConnection,
  pred: (reply: CheckReply) => boolean,
  boundMs = 20_000,
): Promise<CheckReply> {
  const deadline = Date.now() + boundMs;
  for (;;) {
    const reply = await checkReply(nc).catch(() => null);
    if (reply && pred(reply)) return reply;
    if (Date.now() > deadline)
      throw new Error(
        `condition not reached; last reply ${JSON.stringify(reply?.imports.map((d) => [d.account_name ?? d.account, d.subject, d.status, d.cause]))}`,
      );
    await new Promise((r) => setTimeout(r, 100));
  }
}
