/**
 * The live service on a real nats-server with a memory resolver (`resolver: MEMORY` and
 * `resolver_preload`, what `nsc generate config --mem-resolver` writes): nobody answers
 * `$SYS.REQ.CLAIMS.*`, so the service reads the accounts the server has loaded (ACCOUNTZ, then
 * each account's INFO). What the server does, measured here: it loads only the system account at
 * start and any other account when a client of it connects or an account it loads imports from it;
 * an account nobody touched is invisible ("does not exist"). A config reload is the only change:
 * the server re-applies the preload to the accounts it has loaded, and the epoch resync sees it.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { NatsConnection } from "@nats-io/nats-core";
import { InsightsApp } from "../../src/app.js";
import { isNoResponders } from "../../src/shell/resolver.js";
import { TestOperator, type TestAccount } from "../support/deployment.js";
import { expectedFor, importUnderTest, judge, mapLimit, type Verdict } from "../support/judge.js";
import { serviceFlows } from "../support/flow.js";
import { connectAs, connectSystem, startServer, type RunningServer } from "../support/nats-server.js";
import { SCENARIOS, scenarioOn, type Built } from "../support/scenarios.js";
import { pinnedServers } from "../support/tools.js";
import { checkReply, checkUntil, startService, stopStarted, type CheckReply } from "../support/live-service.js";

// Scenarios whose JWTs can be preloaded as they are: a rejected push has no preload equivalent.
const PRELOADABLE = SCENARIOS.filter(
  (s) => !s.pushRejected && !Object.values(s.byLine ?? {}).some((l) => l.pushRejected),
);

// The whole catalogue on the newest line (measured on every pinned line when this was written: the
// same agreement); the reload, which is where the lines could differ, on each of them below.
for (const { version, bin } of pinnedServers().slice(-1)) {
  describe.skipIf(!bin)(
    `memory resolver: the scenario catalogue on nats-server v${version}${bin ? "" : " (not installed: skipped)"}`,
    () => {
      let server: RunningServer;
      let app: InsightsApp;
      let sys: NatsConnection;
      let dir: string;
      const builds = new Map<string, Built>();
      const verdicts = new Map<string, Verdict>();
      let reply: CheckReply;

      beforeAll(async () => {
        dir = mkdtempSync(join(tmpdir(), "nats-insights-mem-"));
        const op = await TestOperator.create({ signingKey: true });
        for (const s of PRELOADABLE) builds.set(s.name, await s.build(op));
        const preload = new Map<string, TestAccount>();
        for (const b of builds.values()) for (const a of b.accounts) preload.set(a.id, a);
        server = await startServer(op, { resolver: "memory", preload: [...preload.values()], bin: bin! });
        sys = await connectSystem(server, op);
        // At start the server has loaded the system account only: nothing else can be seen yet.
        const before = await sys.request("$SYS.REQ.SERVER.PING.ACCOUNTZ", "", { timeout: 2000 });
        // (and "$G", the global account every server has, which no client of operator mode can use)
        expect(before.json<{ data: { accounts: string[] } }>().data.accounts.sort()).toEqual(
          ["$G", op.system.id].sort(),
        );
        // The judge connects users of both sides (which loads them) and measures flow.
        for (const [name, v] of await mapLimit(
          [...builds],
          4,
          async ([name, b]) => [name, await judge(server, b)] as const,
        ))
          verdicts.set(name, v);
        app = await startService(op, server.url, dir, "600");
        reply = await checkReply(sys);
      }, 180_000);

      afterAll(() => stopStarted({ app, sys, server, dir }));

      it("says the JWTs come from the servers' loaded accounts, and which accounts it could not see", () => {
        expect(reply.jwt_source.from).toBe("servers");
        // Every account a judged importer imports from that the server could not load is named.
        for (const [name, b] of builds) {
          const v = verdicts.get(name)!;
          if (v.refused.includes("exporter") && !v.refused.includes("importer"))
            expect(reply.jwt_source.unseen_accounts, name).toContain(b.exporter.id);
        }
      });

      it.each(PRELOADABLE.map((s) => [s.name, s] as const))(
        "%s: the verdict agrees with the server",
        (name, catalogued) => {
          const b = builds.get(name)!;
          const v = verdicts.get(name)!;
          const scenario = scenarioOn(catalogued, version);
          const imp = importUnderTest(b.importer);
          const d = reply.imports.find(
            (i) =>
              i.account === b.importer.id &&
              i.subject === imp.subject &&
              (i.local_subject ?? "") === (imp.local_subject ?? ""),
          );
          if (v.refused.includes("importer")) {
            // The server cannot load the importer, so it is not among the accounts it shows.
            expect(d).toBeUndefined();
            return;
          }
          expect(d, `no diagnosis for ${name}`).toBeDefined();
          const { importerProbeRefused: _probe, ...verdict } = v;
          expect(verdict).toEqual(expectedFor(scenario, d!, verdict));
          // An exporter the server cannot load is unseen, so its cause is "not found" rather than why.
          if (!v.refused.includes("exporter")) expect(d!.cause).toBe(scenario.cause);
          else expect(d!.cause).toBe("source_account_not_found");
        },
      );
    },
  );
}

for (const { version, bin } of pinnedServers())
  describe.skipIf(!bin)(`memory resolver on nats-server v${version}: a config reload is the change`, () => {
    let op: TestOperator;
    let server: RunningServer;
    let app: InsightsApp;
    let sys: NatsConnection;
    let dir: string;
    let exporter: TestAccount;
    let importer: TestAccount;
    let lonely: TestAccount;
    const importOf = (reply: CheckReply) =>
      reply.imports.find((d) => d.account === importer.id && d.subject === "svc.>");

    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), "nats-insights-mem-"));
      op = await TestOperator.create({ signingKey: true });
      exporter = await op.account("EXP", { exports: [{ name: "svc", subject: "svc.>", type: "service" }] });
      // A typo in the import: the exporter exports svc.>, not sv.>.
      importer = await op.account("IMP", {
        imports: [{ name: "svc", subject: "sv.>", account: exporter.id, type: "service" }],
      });
      lonely = await op.account("LONELY", {
        imports: [{ name: "svc", subject: "svc.>", account: exporter.id, type: "service" }],
      });
      server = await startServer(op, { resolver: "memory", preload: [exporter, importer, lonely], bin: bin! });
      // 2.10.29 (and at times 2.12.15) closes system-account clients on a reload ("Client Closed"):
      // this connection reconnects, and so does the service (which resyncs at once when it does).
      sys = await connectSystem(server, op, { reconnect: true, maxReconnectAttempts: -1, reconnectTimeWait: 50 });
      // A client of the importer loads it (and the exporter it imports from); LONELY stays unloaded.
      const pin = await connectAs(server, importer);
      await pin.close();
      app = await startService(op, server.url, dir, "1");
    }, 60_000);

    afterAll(() => stopStarted({ app, sys, server, dir }));

    it("loads lazily: an account no client touched is not loaded, and the service cannot see it", async () => {
      const reply = await checkReply(sys);
      expect(reply.jwt_source.from).toBe("servers");
      expect(reply.imports.map((d) => d.account)).not.toContain(lonely.id);
      const info = await sys.request(`$SYS.REQ.ACCOUNT.${lonely.id}.INFO`, "", { timeout: 2000 });
      expect(info.string()).toContain("does not exist");
      const d = reply.imports.find((i) => i.account === importer.id)!;
      expect([d.status, d.cause]).toEqual(["inactive", "export_not_found"]);
      expect(await serviceFlows(server, exporter, importer, "svc.x", "sv.x")).toBe(false);
    });

    it("a reload with a fixed importer in the preload is picked up by the resync, and the import carries requests", async () => {
      await importer.reissue({ imports: [{ name: "svc", subject: "svc.>", account: exporter.id, type: "service" }] });
      await server.reload({ preload: [exporter, importer, lonely] });
      const reply = await checkUntil(sys, (r) => importOf(r) !== undefined);
      expect([importOf(reply)!.status, importOf(reply)!.cause]).toEqual(["active", null]);
      expect(await serviceFlows(server, exporter, importer, "svc.x", "svc.x")).toBe(true);
    });

    it("a reload that drops the export breaks the import, and no request crosses", async () => {
      await exporter.reissue({ exports: [] });
      await server.reload({ preload: [exporter, importer, lonely] });
      const reply = await checkUntil(sys, (r) => importOf(r)?.status === "inactive");
      expect(importOf(reply)!.cause).toBe("export_not_found");
      expect(await serviceFlows(server, exporter, importer, "svc.x", "svc.x")).toBe(false);
    });

    it("an account a reload removes from the preload is dropped by the server and reported unseen", async () => {
      await server.reload({ preload: [exporter, lonely] });
      const reply = await checkUntil(sys, (r) => !r.imports.some((d) => d.account === importer.id));
      expect(reply.jwt_source.unseen_accounts).toContain(importer.id);
      const info = await sys.request(`$SYS.REQ.ACCOUNT.${importer.id}.INFO`, "", { timeout: 2000 });
      expect(info.string()).toContain("does not exist");
    });
  });

/** What answers a request on `subject`: "answers", or "no responders". */
async function answers(nc: NatsConnection, subject: string): Promise<"answers" | "no responders"> {
  try {
    await nc.request(subject, "", { timeout: 2000 });
    return "answers";
  } catch (e) {
    if (isNoResponders(e)) return "no responders";
    throw e;
  }
}

describe.skipIf(!pinnedServers().at(-1)?.bin)("the cache and URL resolvers", () => {
  let dir: string;
  let http: Server;
  const jwts = new Map<string, string>();

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "nats-insights-mem-"));
    // What a URL resolver fetches: GET <url><account id> answers the account's JWT.
    // (nats-server fetches the base URL itself at start and refuses to start unless it answers 200)
    http = createServer((req, res) => {
      const id = (req.url ?? "").split("/").pop() ?? "";
      const jwt = jwts.get(id);
      res.writeHead(jwt || id === "" ? 200 : 404).end(jwt ?? "");
    });
    await new Promise<void>((r) => http.listen(0, "127.0.0.1", r));
  });

  afterAll(async () => {
    await new Promise((r) => http?.close(r));
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it.each([
    ["cache", "answers"],
    ["url", "no responders"],
  ] as const)(
    "%s resolver: CLAIMS.LIST %s, LOOKUP and PACK have no responders; the service reads the servers' loaded accounts",
    async (kind, list) => {
      const op = await TestOperator.create({ signingKey: true });
      const exporter = await op.account("EXP", { exports: [{ name: "svc", subject: "svc.>", type: "service" }] });
      const importer = await op.account("IMP", {
        imports: [{ name: "svc", subject: "svc.>", account: exporter.id, type: "service" }],
      });
      for (const a of [op.system, exporter, importer]) jwts.set(a.id, a.jwt);
      const port = (http.address() as AddressInfo).port;
      const server = await startServer(
        op,
        kind === "cache"
          ? { resolver: "cache", preload: [exporter, importer] }
          : { resolver: { url: `http://127.0.0.1:${port}/jwt/v1/accounts/` } },
      );
      let app: InsightsApp | undefined;
      const sys = await connectSystem(server, op);
      try {
        expect(await answers(sys, "$SYS.REQ.CLAIMS.LIST")).toBe(list);
        expect(await answers(sys, `$SYS.REQ.ACCOUNT.${importer.id}.CLAIMS.LOOKUP`)).toBe("no responders");
        expect(await answers(sys, "$SYS.REQ.CLAIMS.PACK")).toBe("no responders");
        expect(await serviceFlows(server, exporter, importer, "svc.x", "svc.x")).toBe(true);
        app = await startService(op, server.url, dir, "600");
        const reply = await checkReply(sys);
        expect(reply.jwt_source.from).toBe("servers");
        const d = reply.imports.find((i) => i.account === importer.id)!;
        expect([d.status, d.cause]).toEqual(["active", null]);
      } finally {
        await app?.stop();
        await sys.close();
        await server.stop();
      }
    },
  );
});
