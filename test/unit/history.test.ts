/**
 * The history's pure part (entries, the tenant's view, `since`), the bounded in-memory log, and the
 * endpoint as registerService binds it: schema, account, tenant, paging.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { ServiceError } from "@nats-io/services";
import type { ImportDiagnosis } from "../../src/core/diagnosis.js";
import type { AccountDirectory } from "../../src/core/directory.js";
import {
  boundedEntry,
  historyEntry,
  ownHistoryEntry,
  parseSince,
  timeline,
  trigger,
  type HistoryEntry,
} from "../../src/core/history.js";
import { bindEndpoint, type EndpointSource } from "../../src/service/endpoint.js";
import { historyEndpoint } from "../../src/service/history.js";
import { DEFAULT_MAX_PAYLOAD } from "../../src/service/payload.js";
import { validator } from "../../src/service/schemas.js";
import { HistoryLog, MemoryHistory, type HistoryStore } from "../../src/shell/history.js";
import { buildFixture, type Fixture } from "../support/whatif-fixture.js";

const diagnosis = (over: Partial<ImportDiagnosis> = {}): ImportDiagnosis => ({
  account: "AIMPORTER",
  account_name: "shop",
  name: null,
  type: "stream",
  source_account: "ASOURCE",
  source_account_name: "feed",
  subject: "orders.>",
  local_subject: null,
  status: "inactive",
  cause: "export_not_found",
  message: "feed exports nothing matching orders.>",
  remediation: [],
  token: null,
  server: null,
  idle: null,
  ...over,
});

describe("history entries", () => {
  it("carry the change, its instant and its trigger", () => {
    const e = historyEntry(
      diagnosis(),
      { status: "active", cause: null },
      trigger("push", { account: "ASOURCE", account_name: "feed" }),
      Date.UTC(2026, 11, 2, 3, 0, 0, 250),
    );
    expect(e).toMatchObject({
      at: "2026-12-02T03:00:00.250Z",
      previous_status: "active",
      previous_cause: null,
      status: "inactive",
      cause: "export_not_found",
      removed: null,
      trigger: { kind: "push", account: "ASOURCE", account_name: "feed", instant: null, reason: null },
    });
    expect(validator("history-reply")({ ...emptyReply(), entries: [e] })).toBe(true);
  });

  it("tell a tenant neither a third account's push nor the far side of a cycle", () => {
    const cycle = historyEntry(
      diagnosis({ cause: "import_cycle", message: "shop → feed → hidden; hidden's import of secret.> closes it" }),
      { status: "active", cause: null },
      trigger("push", { account: "AHIDDEN", account_name: "hidden" }),
      0,
    );
    const own = ownHistoryEntry(cycle);
    expect(JSON.stringify(own)).not.toMatch(/hidden|secret|AHIDDEN/);
    expect(own.trigger).toEqual({ kind: "push", account: null, account_name: null, instant: null, reason: null });
    // The importer's own push, or its source's, stays named.
    const bySource = historyEntry(diagnosis(), null, trigger("push", { account: "ASOURCE", account_name: "feed" }), 0);
    expect(ownHistoryEntry(bySource).trigger.account).toBe("ASOURCE");
  });
});

describe("an entry's size", () => {
  const entry = (message: string, subject = "orders.>") =>
    historyEntry(diagnosis({ message, subject }), null, trigger("start"), 0);

  it("is kept whole when it fits, its message cut to fit when not, and left out when nothing fits", () => {
    const small = entry("short");
    expect(boundedEntry(small, 4096)).toBe(small);
    const long = boundedEntry(entry('é"'.repeat(5000)), 4096)!;
    expect(Buffer.byteLength(JSON.stringify(long))).toBeLessThanOrEqual(4096);
    expect(long.message).toMatch(/^(é")+é?…$/);
    expect(long.message.length).toBeGreaterThan(1000);
    expect(boundedEntry(entry("x", "s".repeat(5000)), 4096)).toBeNull();
  });
});

describe("since", () => {
  const now = Date.UTC(2026, 11, 2, 12, 0, 0);
  it.each([
    ["90s", now - 90_000],
    ["15m", now - 15 * 60_000],
    ["6h", now - 6 * 3600_000],
    ["7d", now - 7 * 86_400_000],
    ["2026-12-01T10:00:00Z", Date.UTC(2026, 11, 1, 10, 0, 0)],
    ["2026-12-01T10:00:00.5+01:00", Date.UTC(2026, 11, 1, 9, 0, 0, 500)],
  ])("%s", (text, ms) => {
    expect(parseSince(text, now)).toEqual({ ok: true, ms });
  });

  it.each(["yesterday", "0s", "10w", "-5m", "2026-12-01", "2026-12-01T10:00:00", "2026-13-45T99:00:00Z", "1e3s"])(
    "refuses %s, naming the field",
    (text) => {
      const r = parseSince(text, now);
      expect(r.ok).toBe(false);
      expect(!r.ok && r.error).toMatch(/^since: /);
    },
  );

  it("a timeline keeps one subject, from an instant, oldest first", () => {
    const at = (ms: number, subject = "a") => historyEntry(diagnosis({ subject }), null, trigger("start"), ms);
    const t = timeline([at(3000), at(1000), at(2000, "b"), at(500)], "a", 1000);
    expect(t.map((e) => e.at)).toEqual([new Date(1000).toISOString(), new Date(3000).toISOString()]);
  });
});

describe("the in-memory log", () => {
  const entry = (i: number, account = "AONE", atMs = Date.now()) =>
    historyEntry(diagnosis({ account, subject: `s.${String(i).padStart(4, "0")}` }), null, trigger("start"), atMs);

  it("keeps at most max entries, the oldest overall going first, whatever the account", () => {
    const log = new HistoryLog({ maxEntries: 3, maxBytes: 1 << 20, maxAgeSeconds: 3600 });
    log.add(entry(1, "AONE"));
    log.add(entry(2, "ATWO"));
    log.add(entry(3, "AONE"));
    log.add(entry(4, "ATWO"));
    expect(log.size).toBe(3);
    expect(log.entries("AONE").map((e) => e.subject)).toEqual(["s.0003"]);
    expect(log.entries("ATWO").map((e) => e.subject)).toEqual(["s.0002", "s.0004"]);
  });

  it("keeps at most max bytes", () => {
    const size = Buffer.byteLength(JSON.stringify(entry(1)));
    const log = new HistoryLog({ maxEntries: 1000, maxBytes: size * 10 + 5, maxAgeSeconds: 3600 });
    for (let i = 0; i < 100; i++) log.add(entry(i));
    expect(log.size).toBe(10);
    expect(log.sizeBytes).toBeLessThanOrEqual(size * 10 + 5);
    expect(log.entries("AONE")[0]!.subject).toBe("s.0090");
  });

  it("forgets entries older than max age", () => {
    const now = Date.now();
    const log = new HistoryLog({ maxEntries: 1000, maxBytes: 1 << 20, maxAgeSeconds: 60 });
    log.add(entry(1, "AONE", now - 120_000));
    log.add(entry(2, "AONE", now - 1000));
    expect(log.entries("AONE", now).map((e) => e.subject)).toEqual(["s.0002"]);
    expect(log.oldest(now)).toBe(new Date(now - 1000).toISOString());
  });

  it("stays bounded over many entries (the arrival order is compacted)", () => {
    const log = new HistoryLog({ maxEntries: 100, maxBytes: 1 << 30, maxAgeSeconds: 3600 });
    for (let i = 0; i < 10_000; i++) log.add(entry(i, i % 2 ? "AONE" : "ATWO"));
    expect(log.size).toBe(100);
    expect(log.entries("AONE").length + log.entries("ATWO").length).toBe(100);
    expect(log.entries("ATWO").at(-1)!.subject).toBe("s.9998");
  });
});

function emptyReply(): Record<string, unknown> {
  return {
    account: "A",
    account_name: null,
    subject: null,
    since: null,
    entries: [],
    total: 0,
    offset: 0,
    truncated: false,
    retention: {
      kept_in: "memory",
      stream: null,
      max_entries: 1,
      max_bytes: 1,
      max_age_seconds: 1,
      oldest: null,
    },
  };
}

describe("insights.imports.history", () => {
  let fx: Fixture;
  let dir: AccountDirectory;
  const base = Date.now() - 3600_000;
  const store: HistoryStore = new MemoryHistory({ maxEntries: 1000, maxBytes: 1 << 20, maxAgeSeconds: 86_400 });

  beforeAll(async () => {
    fx = await buildFixture();
    dir = fx.directory();
    const of = (account: { id: string; name: string }, subject: string) =>
      diagnosis({ account: account.id, account_name: account.name, source_account: fx.exp.id, subject });
    // IMP1's stream import broke by EXP's push, then came back; IMP2's by a third account's push in a cycle.
    await store.record(
      historyEntry(
        of(fx.imp1, "pub.a"),
        { status: "active", cause: null },
        trigger("push", { account: fx.exp.id }),
        base,
      ),
      "1",
    );
    await store.record(
      historyEntry(
        { ...of(fx.imp1, "pub.a"), status: "active", cause: null },
        { status: "inactive", cause: "export_not_found" },
        trigger("push", { account: fx.exp.id }),
        base + 60_000,
      ),
      "2",
    );
    await store.record(
      historyEntry(
        of(fx.imp1, "priv.b"),
        null,
        trigger("time", { instant: new Date(base).toISOString() }),
        base + 1000,
      ),
      "3",
    );
    await store.record(
      historyEntry(
        { ...of(fx.imp2, "svc.x"), cause: "import_cycle", message: `${fx.near.name} closes the cycle` },
        null,
        trigger("push", { account: fx.near.id, account_name: fx.near.name }),
        base + 2000,
      ),
      "4",
    );
  }, 60_000);

  const source = (): EndpointSource => ({
    directory: () => dir,
    diagnosesOf: () => [],
    options: () => ({ now: fx.now, expiryWarningSeconds: 0 }),
    maxPayload: () => DEFAULT_MAX_PAYLOAD,
    history: () => store,
  });
  const call = (body: unknown, account?: string) => {
    const info = account ? [JSON.stringify({ acc: account })] : undefined;
    const reply = JSON.parse(
      bindEndpoint(historyEndpoint, source())(new TextEncoder().encode(JSON.stringify(body)), info),
    ) as Record<string, unknown> & { entries: HistoryEntry[] };
    expect(validator("history-reply")(reply)).toBe(true);
    return reply;
  };
  const errorOf = (body: unknown, account?: string): { code: number; message: string } => {
    try {
      call(body, account);
    } catch (e) {
      if (e instanceof ServiceError) return { code: e.code, message: e.message };
      throw e;
    }
    throw new Error("no error");
  };

  it("answers one account's timeline by name, oldest first, with paging", () => {
    const reply = call({ account: fx.imp1.name });
    expect(reply.account).toBe(fx.imp1.id);
    expect(reply.entries.map((e) => [e.subject, e.status])).toEqual([
      ["pub.a", "inactive"],
      ["priv.b", "inactive"],
      ["pub.a", "active"],
    ]);
    const page = call({ account: fx.imp1.id, limit: 1, offset: 1 });
    expect(page).toMatchObject({ total: 3, offset: 1, truncated: true });
    expect(page.entries.map((e) => e.subject)).toEqual(["priv.b"]);
  });

  it("filters by subject and since", () => {
    expect(call({ account: fx.imp1.id, subject: "pub.a" }).entries).toHaveLength(2);
    const recent = call({ account: fx.imp1.id, since: new Date(base + 30_000).toISOString() });
    expect(recent.entries.map((e) => e.status)).toEqual(["active"]);
  });

  it("answers about a deleted account by its public key, and 404 for an unknown name", () => {
    expect(call({ account: fx.op.system.id }).entries).toEqual([]);
    expect(errorOf({ account: "NOBODY" })).toEqual({
      code: 404,
      message: 'account: no account "NOBODY" is known (give a public key or a JWT name)',
    });
  });

  it.each([
    [{}, "body: must have required property 'account'"],
    [{ account: "x".repeat(257) }, "account: must NOT have more than 256 characters"],
    [{ account: "A", subject: "s".repeat(1025) }, "subject: must NOT have more than 1024 characters"],
    [{ account: "A", since: "s".repeat(41) }, "since: must NOT have more than 40 characters"],
    [{ account: "A", limit: 0 }, "limit: must be >= 1"],
    [{ account: "A", colour: "red" }, 'unknown field "colour"'],
  ])("refuses %j: %s", (body, message) => {
    expect(errorOf(body)).toEqual({ code: 400, message });
  });

  it("refuses a since it cannot read, saying what it reads", () => {
    const e = errorOf({ account: fx.imp1.id, since: "last tuesday" });
    expect(e.code).toBe(400);
    expect(e.message).toMatch(/^since: "last tuesday" is neither an ISO 8601 instant/);
  });

  it("a tenant reads its own history only, without another account's names", () => {
    const own = call({ account: fx.imp2.id }, fx.imp2.id);
    expect(own.entries).toHaveLength(1);
    expect(JSON.stringify(own.entries)).not.toContain(fx.near.id);
    expect(JSON.stringify(own.entries)).not.toContain(fx.near.name);
    // The system account sees the trigger's account.
    expect(call({ account: fx.imp2.id }).entries[0]!.trigger.account).toBe(fx.near.id);
    expect(errorOf({ account: fx.imp1.id }, fx.imp2.id)).toEqual({
      code: 403,
      message: "account: a request through an import may ask about its own account only",
    });
    expect(errorOf({ account: fx.imp1.name }, fx.imp2.id).code).toBe(403);
  });
});
