/**
 * The history of imports on a real nats-server (operator mode, full resolver, JetStream): a push
 * that breaks an import and the push that fixes it, an activation token's exp reached, each with
 * its trigger; the in-memory log's bound; a tenant reading its own history through the service
 * import; the CLI and natscli. Then, with the state account configured, two instances keep one
 * copy of each change in the stream, and a new instance reads it all after both stopped.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { NatsConnection } from "@nats-io/nats-core";
import { jetstreamManager } from "@nats-io/jetstream";
import { InsightsApp } from "../../src/app.js";
import { loadConfig } from "../../src/config.js";
import type { HistoryEntry } from "../../src/core/history.js";
import { createLogger } from "../../src/shell/log.js";
import { validator } from "../../src/service/schemas.js";
import { activation, nowSec, TestOperator, type TestAccount } from "../support/deployment.js";
import { runMain } from "../support/dist.js";
import {
  connectAs,
  connectSystem,
  pushAccount,
  pushAll,
  startServer,
  type RunningServer,
} from "../support/nats-server.js";
import { toolPath } from "../support/tools.js";

const HISTORY = "insights.imports.history";
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(what: string, get: () => T | Promise<T>, timeoutMs = 20_000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await get();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(50);
  }
}

interface Reply {
  account: string;
  entries: HistoryEntry[];
  total: number;
  retention: { kept_in: string; max_entries: number };
}

describe.skipIf(!toolPath("nats-server"))("import history on a real server", () => {
  let op: TestOperator;
  let server: RunningServer;
  let dir: string;
  let exporter: TestAccount;
  let importer: TestAccount;
  let other: TestAccount;
  let state: TestAccount;
  let sys: NatsConnection;
  let tokenExp: number;
  const apps: InsightsApp[] = [];

  const ask = async (nc: NatsConnection, body: Record<string, unknown>): Promise<Reply> => {
    const m = await nc.request(HISTORY, JSON.stringify(body), { timeout: 5000 });
    const error = m.headers?.get("Nats-Service-Error");
    if (error) throw new Error(`${m.headers?.get("Nats-Service-Error-Code")}: ${error}`);
    const reply = m.json<Reply>();
    expect(validator("history-reply")(reply), JSON.stringify(validator("history-reply").errors)).toBe(true);
    return reply;
  };
  /** IMP's entries of one subject, from one instance (the app answers with its own endpoint source). */
  const timelineOf = async (app: InsightsApp, subject: string): Promise<HistoryEntry[]> => {
    await app.settled();
    const nc = await connectSystem(server, op);
    try {
      // Ask until this instance answers (the queue group picks any instance).
      return await until(`instance's reply`, async () => {
        const r = await ask(nc, { account: importer.id, subject });
        return r.entries;
      });
    } finally {
      await nc.close();
    }
  };
  const start = async (args: string[]) => {
    const app = await InsightsApp.start(
      loadConfig(["--nats-url", server.url, "--creds", join(dir, "sys.creds"), "--epoch", "600", ...args], {}),
      createLogger("silent"),
    );
    apps.push(app);
    return app;
  };
  const stop = async (app: InsightsApp) => {
    await app.stop();
    apps.splice(apps.indexOf(app), 1);
  };
  const setExports = async (exports: { name: string; subject: string; type: "stream" }[]) => {
    await exporter.reissue({ ...exporter.claims, exports: [...exports, tokenExport] });
    expect((await pushAccount(server, op, exporter.jwt)).ok).toBe(true);
  };
  const tokenExport = { name: "t", subject: "t.>", type: "stream" as const, token_req: true };
  const streamA = { name: "a", subject: "a.>", type: "stream" as const };

  beforeAll(async () => {
    op = await TestOperator.create();
    dir = mkdtempSync(join(tmpdir(), "insights-history-"));
    server = await startServer(op, { extraConfig: `jetstream: { store_dir: ${JSON.stringify(join(dir, "js"))} }` });
    state = await op.account("STATE", {
      limits: { mem_storage: -1, disk_storage: -1, streams: -1, consumer: -1 },
    });
    await op.system.reissue({ exports: [{ name: "history", subject: HISTORY, type: "service" }] });
    exporter = await op.account("EXP", { exports: [streamA, tokenExport] });
    const history = { name: "history", subject: HISTORY, account: op.system.id, type: "service" as const };
    importer = await op.account("IMP");
    // The token expires a little after the service started: its exp is reached while it runs.
    tokenExp = nowSec() + 25;
    const token = await activation(exporter, importer.id, "t.1", "stream", { exp: tokenExp });
    await importer.reissue({
      imports: [
        history,
        { name: "a", account: exporter.id, subject: "a.1", type: "stream" },
        { name: "t", account: exporter.id, subject: "t.1", type: "stream", token },
      ],
    });
    other = await op.account("OTHER", {
      imports: [history, { name: "nope", account: exporter.id, subject: "nope.1", type: "stream" }],
    });
    await pushAll(server, [op.system, state, exporter, importer, other]);
    writeFileSync(join(dir, "sys.creds"), await op.system.userCreds());
    writeFileSync(join(dir, "state.creds"), await state.userCreds());
    sys = await connectSystem(server, op);
  }, 60_000);

  afterAll(async () => {
    for (const app of apps) await app.stop().catch(() => {});
    await sys?.close();
    await server?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  describe("alone: the in-memory log", () => {
    let app: InsightsApp;
    beforeAll(async () => {
      // Room for 4: the 2 start entries, the break and the fix fill it; the expiry pushes one out.
      app = await start(["--history-max-entries", "4"]);
    }, 30_000);
    afterAll(async () => {
      await stop(app);
    });

    it("a push that breaks an import: active -> inactive, by the pushing account", async () => {
      await setExports([]);
      const [broke] = await until("the break in the history", async () => {
        const t = await timelineOf(app, "a.1");
        return t.length > 0 ? t : null;
      });
      expect(broke).toMatchObject({
        previous_status: "active",
        previous_cause: null,
        status: "inactive",
        cause: "export_not_found",
        trigger: { kind: "push", account: exporter.id, account_name: "EXP" },
      });
    });

    it("the push that fixes it: inactive -> active, by the same account", async () => {
      await setExports([streamA]);
      const t = await until("the fix in the history", async () => {
        const all = await timelineOf(app, "a.1");
        return all.length > 1 ? all : null;
      });
      expect(t.map((e) => [e.previous_status, e.status, e.trigger.kind, e.trigger.account])).toEqual([
        ["active", "inactive", "push", exporter.id],
        ["inactive", "active", "push", exporter.id],
      ]);
      expect(Date.parse(t[1]!.at)).toBeGreaterThanOrEqual(Date.parse(t[0]!.at));
    });

    it("an activation token's exp reached: the entry names the instant", async () => {
      const expired = await until(
        "the token's expiry in the history",
        async () => (await timelineOf(app, "t.1")).find((e) => e.cause === "activation_expired"),
        (tokenExp - nowSec() + 20) * 1000,
      );
      expect(expired).toMatchObject({
        previous_status: "warning",
        previous_cause: "activation_expiring_soon",
        status: "inactive",
        trigger: { kind: "time", instant: new Date(tokenExp * 1000).toISOString() },
      });
      expect(Date.parse(expired.at)).toBeGreaterThanOrEqual(tokenExp * 1000);
    }, 60_000);

    it("keeps at most max entries: 5 changes recorded, the oldest gone", async () => {
      const mine = await ask(sys, { account: importer.id });
      const theirs = await ask(sys, { account: other.id });
      expect(mine.retention).toMatchObject({ kept_in: "memory", max_entries: 4 });
      expect(mine.total + theirs.total).toBe(4);
      // The t.1 warning and OTHER's broken import were recorded at start: one of them is gone.
      const startEntries = [...mine.entries, ...theirs.entries].filter((e) => e.trigger.kind === "start");
      expect(startEntries).toHaveLength(1);
    });

    it("a tenant reads its own history through the service import, and nobody else's", async () => {
      const nc = await connectAs(server, other);
      try {
        const own = await ask(nc, { account: "OTHER" });
        expect(own.account).toBe(other.id);
        expect(own.entries.every((e) => e.account === other.id)).toBe(true);
        const refused = await ask(nc, { account: importer.id }).catch((e: Error) => e.message);
        expect(refused).toBe("403: account: a request through an import may ask about its own account only");
      } finally {
        await nc.close();
      }
    });

    it("the CLI prints the timeline and says what is wrong with bad input", async () => {
      const creds = join(dir, "sys.creds");
      const history = (...args: string[]) => runMain(["history", "--server", server.url, "--creds", creds, ...args]);
      const text = await history("--account", "IMP", "--subject", "a.1");
      expect(text.code, text.stderr).toBe(0);
      expect(text.stdout).toMatch(/stream a\.1 from EXP: active -> inactive export_not_found {2}by a push of EXP\n/);
      expect(text.stdout).toMatch(/stream a\.1 from EXP: inactive export_not_found -> active {2}by a push of EXP\n/);
      const json = await history("--account", importer.id, "--json", "--since", "1h");
      expect(json.code, json.stderr).toBe(0);
      expect((JSON.parse(json.stdout) as Reply).entries.length).toBeGreaterThanOrEqual(2);
      const bad = await history("--account", "IMP", "--since", "yesterday");
      expect(bad.code).toBe(2);
      expect(bad.stderr).toMatch(
        /insights\.imports\.history \(400\): since: "yesterday" is neither an ISO 8601 instant/,
      );
      const unknown = await history("--account", "NOBODY");
      expect(unknown.code).toBe(2);
      expect(unknown.stderr).toMatch(/\(404\): account: no account "NOBODY" is known/);
      const none = await history();
      expect(none.code).toBe(2);
      expect(none.stderr).toMatch(/give --account/);
    });

    it.skipIf(!toolPath("nats"))("`nats micro info insights` lists the endpoint", async () => {
      const { stdout } = await promisify(execFile)(
        toolPath("nats")!,
        ["-s", server.url, "--creds", join(dir, "sys.creds"), "--no-context", "micro", "info", "insights", "--json"],
        { env: { PATH: process.env["PATH"] ?? "", HOME: dir } },
      );
      const info = JSON.parse(stdout) as { info: { endpoints: { name: string; subject: string }[] } };
      expect(info.info.endpoints).toContainEqual(expect.objectContaining({ name: "history", subject: HISTORY }));
    });
  });

  describe("with the state account: a stream shared by instances", () => {
    const stateArgs = () => ["--state-creds", join(dir, "state.creds"), "--history-max-entries", "1000"];
    const streamMessages = async () => {
      const nc = await connectAs(server, state);
      try {
        return (await (await jetstreamManager(nc)).streams.info("insights_history")).state.messages;
      } finally {
        await nc.close();
      }
    };
    /** What one instance holds (not whichever instance the queue group picks). */
    const held = (app: InsightsApp, subject: string) =>
      app.history.entries(importer.id).filter((e) => e.subject === subject);

    it("two instances record each change once, and a new instance reads it all after both stopped", async () => {
      const [a, b] = [await start(stateArgs()), await start(stateArgs())];
      await setExports([]);
      const breaks = (t: HistoryEntry[]) =>
        t.filter((e) => e.cause === "export_not_found" && e.previous_status === "active");
      for (const app of [a, b])
        await until("each instance to hold the break", () => breaks(held(app, "a.1")).length > 0);
      // Both instances have decided and recorded (or found recorded) the change.
      await Promise.all([a.settled(), b.settled()]);
      expect([a, b].map((app) => breaks(held(app, "a.1")).length)).toEqual([1, 1]);
      expect(breaks(held(a, "a.1"))[0]!.trigger).toMatchObject({ kind: "push", account: exporter.id });
      // Three changes since the stream was made (t.1 expired and OTHER's broken import, first seen at
      // start; the break), each written by both instances under the same message id: kept once.
      const all = 3;
      expect(await streamMessages()).toBe(all);
      await until("instance a to have read them all", () => a.history.entries(importer.id).length === 2);
      expect(a.history.entries(other.id)).toHaveLength(1);

      await stop(a);
      await stop(b);
      const c = await start(stateArgs());
      const after = held(c, "a.1");
      expect(breaks(after)).toHaveLength(1);
      expect(after.at(-1)).toMatchObject({ status: "inactive", cause: "export_not_found" });
      expect((await ask(sys, { account: importer.id })).retention.kept_in).toBe("stream");
      expect(await streamMessages()).toBe(all);
      await stop(c);
    }, 90_000);
  });
});
