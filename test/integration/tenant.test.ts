/**
 * Tenant self-service on a real nats-server: the system account exports the check and preflight
 * endpoints and the events (account token position 4), ordinary accounts import them, and their
 * own users (their own creds, through the real imports) ask. What the server does with the
 * `Nats-Request-Info` header is measured first, on every pinned line; then the service on the
 * newest: a tenant sees its own imports only, never another account's, and a forged header gets
 * nothing extra.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { headers as natsHeaders, type Msg, type NatsConnection } from "@nats-io/nats-core";
import { InsightsApp } from "../../src/app.js";
import { loadConfig } from "../../src/config.js";
import type { ImportDiagnosis } from "../../src/core/index.js";
import { createLogger } from "../../src/shell/log.js";
import { validator } from "../../src/service/schemas.js";
import type { ImportEvent } from "../../src/shell/events.js";
import { TestOperator, type TestAccount } from "../support/deployment.js";
import {
  connectAs,
  connectSystem,
  pushAll,
  pushAccount,
  startServer,
  type RunningServer,
} from "../support/nats-server.js";
import { pinnedServers } from "../support/tools.js";

const CHECK = "insights.imports.check";
const PREFLIGHT = "insights.imports.preflight";
const EVENTS = "insights.events.imports";

/** The system account's exports for tenants (what the README's nsc commands add). */
const TENANT_EXPORTS = [
  { name: "insights-check", subject: CHECK, type: "service" as const },
  { name: "insights-preflight", subject: PREFLIGHT, type: "service" as const },
  { name: "insights-events", subject: `${EVENTS}.*`, type: "stream" as const, account_token_position: 4 },
];

/** A tenant's imports of them (what the README's per-account nsc commands add). */
function tenantImports(sys: TestAccount, own: string) {
  return [
    { name: "insights-check", subject: CHECK, account: sys.id, type: "service" as const },
    { name: "insights-preflight", subject: PREFLIGHT, account: sys.id, type: "service" as const },
    { name: "insights-events", subject: `${EVENTS}.${own}`, account: sys.id, type: "stream" as const },
  ];
}

interface Deployment {
  op: TestOperator;
  server: RunningServer;
  exporter: TestAccount;
  acme: TestAccount;
  beta: TestAccount;
  evil: TestAccount;
}

async function deploy(bin?: string): Promise<Deployment> {
  const op = await TestOperator.create({ signingKey: true });
  const server = await startServer(op, bin ? { bin } : {});
  const exporter = await op.account("EXP", { exports: [{ name: "prices", subject: "prices.>", type: "stream" }] });
  await op.system.reissue({ exports: TENANT_EXPORTS });
  const acme = await op.account("ACME");
  // ACME's own imports: the tenant ones, and one broken (EXP exports no "nope.>").
  await acme.reissue({
    imports: [
      ...tenantImports(op.system, acme.id),
      { name: "nope", subject: "nope.>", account: exporter.id, type: "stream" },
    ],
  });
  const beta = await op.account("BETA");
  await beta.reissue({
    imports: [
      ...tenantImports(op.system, beta.id),
      { name: "prices", subject: "prices.>", account: exporter.id, type: "stream" },
    ],
  });
  const evil = await op.account("EVIL");
  // EVIL tries to import BETA's events: the export's token position 4 must be EVIL's own key.
  await evil.reissue({
    imports: [
      ...tenantImports(op.system, evil.id).slice(0, 2),
      { name: "spy", subject: `${EVENTS}.${beta.id}`, account: op.system.id, type: "stream" },
    ],
  });
  await pushAll(server, [exporter, op.system, acme, beta, evil]);
  return { op, server, exporter, acme, beta, evil };
}

function withRequestInfo(value: string) {
  const h = natsHeaders();
  h.set("Nats-Request-Info", value);
  return h;
}

for (const { version, bin } of pinnedServers()) {
  describe.skipIf(!bin)(`Nats-Request-Info on nats-server v${version}`, () => {
    let d: Deployment;
    beforeAll(async () => {
      d = await deploy(bin!);
    }, 60_000);
    afterAll(async () => {
      await d?.server.stop();
    });

    /** What a plain subscription in the system account (where the endpoint listens) receives. */
    async function received(forged: string[]): Promise<string[]> {
      const sys = await connectSystem(d.server, d.op);
      const acme = await connectAs(d.server, d.acme);
      try {
        const seen = new Promise<Msg>((resolve) => sys.subscribe(CHECK, { max: 1, callback: (_e, m) => resolve(m) }));
        await sys.flush();
        const h = natsHeaders();
        for (const value of forged) h.append("Nats-Request-Info", value);
        acme.publish(CHECK, "{}", forged.length > 0 ? { headers: h } : {});
        return (await seen).headers?.values("Nats-Request-Info") ?? [];
      } finally {
        await acme.close();
        await sys.close();
      }
    }

    it("through a service import into the system account the server sets it to the requesting account, replacing the one the client sent", async () => {
      for (const forged of [[], [JSON.stringify({ acc: d.beta.id })]]) {
        const values = await received(forged);
        expect(values).toHaveLength(1);
        expect(JSON.parse(values[0]!)).toMatchObject({ acc: d.acme.id });
      }
    });

    it("two forged ones: 2.12 and later remove both; 2.10 removes only the first, so two arrive (the service then answers 403)", async () => {
      const values = await received([JSON.stringify({ acc: d.beta.id }), JSON.stringify({ acc: d.evil.id })]);
      const server = JSON.parse(values.at(-1)!) as { acc: string };
      expect(server.acc).toBe(d.acme.id);
      if (version.startsWith("2.10."))
        expect(values.slice(0, -1).map((v) => (JSON.parse(v) as { acc: string }).acc)).toEqual([d.evil.id]);
      else expect(values).toHaveLength(1);
    });

    it("where no import carries the message, the header is whatever the client sent", async () => {
      const acme = await connectAs(d.server, d.acme);
      try {
        const seen = new Promise<Msg>((resolve) =>
          acme.subscribe("own.subject", { max: 1, callback: (_e, m) => resolve(m) }),
        );
        await acme.flush();
        acme.publish("own.subject", "", { headers: withRequestInfo(JSON.stringify({ acc: d.beta.id })) });
        expect(JSON.parse((await seen).headers!.get("Nats-Request-Info"))).toEqual({ acc: d.beta.id });
      } finally {
        await acme.close();
      }
    });
  });
}

interface CheckReply {
  imports: ImportDiagnosis[];
  summary: { accounts: number };
}

/** The reply, or the service error's code and text. */
async function ask(
  nc: NatsConnection,
  subject: string,
  body: unknown,
  h?: ReturnType<typeof natsHeaders>,
): Promise<{ code: number; text: string; reply?: CheckReply }> {
  const msg = await nc.request(subject, JSON.stringify(body), { timeout: 5000, ...(h ? { headers: h } : {}) });
  const error = msg.headers?.get("Nats-Service-Error");
  if (error) return { code: Number(msg.headers!.get("Nats-Service-Error-Code")), text: error };
  return { code: 200, text: msg.string(), reply: msg.json<CheckReply>() };
}

describe.skipIf(!pinnedServers().at(-1)?.bin)("tenant self-service through the system account's exports", () => {
  let d: Deployment;
  let app: InsightsApp;
  let dir: string;
  const conns: NatsConnection[] = [];
  const as = async (a: TestAccount) => {
    const nc = await connectAs(d.server, a);
    conns.push(nc);
    return nc;
  };

  beforeAll(async () => {
    d = await deploy();
    dir = mkdtempSync(join(tmpdir(), "nats-insights-tenant-"));
    writeFileSync(join(dir, "sys.creds"), await d.op.system.userCreds());
    app = await InsightsApp.start(
      loadConfig(["--nats-url", d.server.url, "--creds", join(dir, "sys.creds"), "--epoch", "600"], {}),
      createLogger(process.env.TEST_LOG ?? "silent"),
    );
  }, 60_000);

  afterAll(async () => {
    for (const nc of conns) await nc.close().catch(() => {});
    await app?.stop();
    await d?.server.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("an account's own user sees its own imports only, never another account's", async () => {
    const r = await ask(await as(d.acme), CHECK, {});
    expect(r.code).toBe(200);
    expect(validator("check-reply")(r.reply)).toBe(true);
    expect(new Set(r.reply!.imports.map((i) => i.account))).toEqual(new Set([d.acme.id]));
    expect(r.reply!.summary.accounts).toBe(1);
    const nope = r.reply!.imports.find((i) => i.subject === "nope.>")!;
    expect([nope.status, nope.cause]).toEqual(["inactive", "export_not_found"]);
    for (const other of [d.beta, d.evil]) expect(r.text).not.toContain(other.id);
    const b = await ask(await as(d.beta), CHECK, {});
    expect(new Set(b.reply!.imports.map((i) => i.account))).toEqual(new Set([d.beta.id]));
  });

  it("asking about another account is refused (403), by key or by name", async () => {
    const acme = await as(d.acme);
    for (const account of [d.beta.id, "BETA"]) {
      const r = await ask(acme, CHECK, { account });
      expect([r.code, r.text]).toEqual([
        403,
        "account: a request through an import may ask about its own account only",
      ]);
    }
    expect((await ask(acme, CHECK, { account: "ACME" })).code).toBe(200);
  });

  it("a forged Nats-Request-Info gets nothing extra: the server replaces it", async () => {
    const r = await ask(await as(d.acme), CHECK, {}, withRequestInfo(JSON.stringify({ acc: d.beta.id })));
    expect(new Set(r.reply!.imports.map((i) => i.account))).toEqual(new Set([d.acme.id]));
  });

  it("a system user sees everything; with the header it gets that account's view, and an unprovable header gets nothing", async () => {
    const sys = await connectSystem(d.server, d.op);
    conns.push(sys);
    const all = await ask(sys, CHECK, {});
    for (const a of [d.acme, d.beta, d.evil]) expect(all.reply!.imports.map((i) => i.account)).toContain(a.id);
    const scoped = await ask(sys, CHECK, {}, withRequestInfo(JSON.stringify({ acc: d.beta.id })));
    expect(new Set(scoped.reply!.imports.map((i) => i.account))).toEqual(new Set([d.beta.id]));
    for (const bad of ["not json", "{}", JSON.stringify({ acc: "SYS" })])
      expect((await ask(sys, CHECK, {}, withRequestInfo(bad))).code).toBe(403);
  });

  it("preflight: a tenant may propose its own JWT (and sees its own imports only), not another account's", async () => {
    const acme = await as(d.acme);
    const fixed = await d.acme.reissue({ imports: tenantImports(d.op.system, d.acme.id) });
    const own = await ask(acme, PREFLIGHT, { jwt: fixed });
    expect(own.code).toBe(200);
    const body = JSON.parse(own.text) as {
      account: string;
      removed: ImportDiagnosis[];
      changes: ImportDiagnosis[];
      notes: string[];
    };
    expect(validator("preflight-reply")(body)).toBe(true);
    expect(body.account).toBe(d.acme.id);
    expect(body.removed.map((i) => i.subject)).toEqual(["nope.>"]);
    expect(body.notes.at(-1)).toMatch(/^Only this account's own imports are shown/);
    // The exporter's JWT without its export would break BETA's import: ACME may not ask that.
    const broken = await d.exporter.reissue({ exports: [] });
    const theirs = await ask(acme, PREFLIGHT, { jwt: broken });
    expect([theirs.code, theirs.text]).toEqual([
      403,
      "jwt: a request through an import may propose its own account's JWT only",
    ]);
    expect(theirs.text).not.toContain(d.beta.id);
  });

  it("events: each account receives its own; an import of another account's events is refused by the server and reported", async () => {
    const acme = await as(d.acme);
    const evil = await as(d.evil);
    const got = { acme: [] as ImportEvent[], evil: [] as ImportEvent[] };
    const acmeEvent = new Promise<ImportEvent>((resolve) =>
      acme.subscribe(`${EVENTS}.${d.acme.id}`, {
        callback: (_e, m) => {
          got.acme.push(m.json<ImportEvent>());
          resolve(m.json<ImportEvent>());
        },
      }),
    );
    evil.subscribe(`${EVENTS}.>`, {
      callback: (_e, m) => {
        got.evil.push(m.json<ImportEvent>());
      },
    });
    await Promise.all([acme.flush(), evil.flush()]);
    // BETA's import breaks (EXP drops the export) and ACME's is removed: one event each.
    expect((await pushAccount(d.server, d.op, d.acme.jwt)).ok).toBe(true);
    const beta = await as(d.beta);
    const betaEvent = new Promise<ImportEvent>((resolve) =>
      beta.subscribe(`${EVENTS}.${d.beta.id}`, { callback: (_e, m) => resolve(m.json<ImportEvent>()) }),
    );
    await beta.flush();
    expect((await pushAccount(d.server, d.op, d.exporter.jwt)).ok).toBe(true);
    expect((await acmeEvent).account).toBe(d.acme.id);
    const be = await betaEvent;
    expect([be.account, be.subject, be.status]).toEqual([d.beta.id, "prices.>", "inactive"]);
    // EVIL's subscription would have had BETA's event by the time its own round trip returns.
    await evil.flush();
    expect(got.evil).toEqual([]);
    expect(got.acme.every((e) => e.account === d.acme.id)).toBe(true);
    // And the service itself says why EVIL's import is dead.
    const r = await ask(evil, CHECK, {});
    const spy = r.reply!.imports.find((i) => i.subject === `${EVENTS}.${d.beta.id}`)!;
    expect([spy.status, spy.cause]).toEqual(["inactive", "account_token_position_mismatch"]);
  });
});
