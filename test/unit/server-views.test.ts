/**
 * When a server's view may speak to a verdict (test/integration/cluster-views.test.ts and
 * service.test.ts show each rule on real servers): only a loaded account's view, only from the
 * JWTs the verdict was made from, only after the verdict, not right at a time instant; a server
 * that does not honour a valid import is stale at once, one that honours a dead import must do so
 * on two looks CONFIRM_MS apart before it is called an exposure.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { Msg } from "@nats-io/nats-core";
import type { ImportDiagnosis } from "../../src/core/diagnosis.js";
import { applyServerView, serverViewCanChange } from "../../src/core/server-observation.js";
import { parseAccountInfo, type AccountInfoReply } from "../../src/shell/resolver.js";
import { CONFIRM_MS, ServerViews, type VerdictBasis } from "../../src/shell/server-views.js";
import { jwtDigest } from "../../src/core/jwt/decode.js";

const IMP = "A".repeat(56);
const EXP = "B".repeat(56);
const KEY = "k";

function diagnosis(status: ImportDiagnosis["status"]): ImportDiagnosis {
  return {
    account: IMP,
    account_name: "IMP",
    name: null,
    type: "stream",
    source_account: EXP,
    source_account_name: "EXP",
    subject: "a.b",
    local_subject: null,
    status,
    cause: status === "inactive" ? "export_not_found" : null,
    message: "m",
    remediation: [],
    token: null,
    server: null,
    idle: null,
  };
}

/** The resolver holds jwt "imp-1" and "exp-1"; no time instants unless given. */
function basis(
  tokens: Record<string, string> = { [IMP]: "imp-1", [EXP]: "exp-1" },
  instants: number[] = [],
): VerdictBasis {
  return {
    digest: (id) => (tokens[id] === undefined ? null : jwtDigest(tokens[id])),
    instants: () => instants,
    sources: (id) => (id === IMP ? [EXP] : []),
    exporterSubject: (d) => d.subject,
    localSubject: (_key, d) => d.local_subject ?? d.subject,
  };
}

/** Servers' answers: importer views by server, and the exporter's JWT by server (null: not loaded). */
function fetcher(
  imp: Record<string, { jwt: string | null; invalid?: boolean; registered?: boolean }>,
  exp: Record<string, string | null>,
) {
  return async (id: string): Promise<AccountInfoReply[]> => {
    if (id === EXP) return Object.entries(exp).map(([server, jwt]) => ({ server, jwt, imports: [] }));
    return Object.entries(imp).map(([server, v]) => ({
      server,
      jwt: v.jwt,
      imports:
        v.jwt === null || v.registered === false
          ? []
          : [{ subject: "a.b", local: "a.b", account: EXP, type: "stream" as const, invalid: v.invalid ?? false }],
    }));
  };
}

describe("ServerViews", () => {
  beforeEach(() => vi.useFakeTimers({ now: 1_000_000, toFake: ["Date"] }));
  afterEach(() => vi.useRealTimers());

  it("counts only servers that have the account loaded", async () => {
    const v = new ServerViews();
    await v.refresh(
      [IMP],
      fetcher({ n0: { jwt: null }, n1: { jwt: "imp-1" }, n2: { jwt: null } }, { n0: null, n1: "exp-1", n2: null }),
      basis(),
    );
    expect(v.apply(KEY, diagnosis("active"), basis())).toMatchObject({
      status: "active",
      server: { servers: 1, registered: true, invalid: false },
    });
  });

  it("a valid import a server does not honour is server_state_stale at once, naming how many servers", async () => {
    const v = new ServerViews();
    await v.refresh(
      [IMP],
      fetcher({ n0: { jwt: "imp-1", invalid: true }, n1: { jwt: "imp-1" } }, { n0: "exp-1", n1: "exp-1" }),
      basis(),
    );
    const d = v.apply(KEY, diagnosis("active"), basis());
    expect([d.status, d.cause]).toEqual(["warning", "server_state_stale"]);
    expect(d.message).toContain("1 of 2 server(s)");
  });

  it("finds a service import declared with the deprecated `to` under its exporter-side subject", async () => {
    const v = new ServerViews();
    const svc: ImportDiagnosis = { ...diagnosis("active"), type: "service", subject: "l.x" };
    const fetch = async (id: string): Promise<AccountInfoReply[]> =>
      id === EXP
        ? [{ server: "n0", jwt: "exp-1", imports: [] }]
        : [
            {
              server: "n0",
              jwt: "imp-1",
              imports: [{ subject: "b.x", local: "l.x", account: EXP, type: "service", invalid: false }],
            },
          ];
    await v.refresh([IMP], fetch, basis());
    expect(v.apply(KEY, svc, { ...basis(), exporterSubject: () => "b.x" })).toMatchObject({
      status: "active",
      server: { registered: true, invalid: false },
    });
    expect(v.apply(KEY, svc, basis()).cause).toBe("server_state_stale");
  });

  it("a stream import of the same subject from the same account under another prefix is not this one", async () => {
    // found by the fuzzer (deployment seed 2757850905, 2.12.15): the server added `>` unprefixed
    // and refused it under the prefix pfx.c; the live service took the first for the second
    const v = new ServerViews();
    const listed =
      (local: string | null) =>
      async (id: string): Promise<AccountInfoReply[]> =>
        id === EXP
          ? [{ server: "n0", jwt: "exp-1", imports: [] }]
          : [
              {
                server: "n0",
                jwt: "imp-1",
                imports: [{ subject: "a.b", local, account: EXP, type: "stream", invalid: false }],
              },
            ];
    const prefixed = { ...basis(), localSubject: () => "pfx.c.a.b" };
    await v.refresh([IMP], listed("a.b"), basis());
    expect(v.apply(KEY, diagnosis("active"), prefixed)).toMatchObject({
      cause: "server_state_stale",
      server: { registered: false },
    });
    expect(v.apply(KEY, diagnosis("active"), basis())).toMatchObject({
      status: "active",
      server: { registered: true },
    });
    // wildcard references read as the server keeps them; a reply without the local subject, or an
    // import whose declaration is not known, is matched on its subject alone
    await v.refresh([IMP], listed("pfx.*.a.b"), basis());
    expect(v.apply(KEY, diagnosis("active"), { ...basis(), localSubject: () => "pfx.*.a.b" }).status).toBe("active");
    await v.refresh([IMP], listed(null), basis());
    expect(v.apply(KEY, diagnosis("active"), prefixed).status).toBe("active");
    await v.refresh([IMP], listed("a.b"), basis());
    expect(v.apply(KEY, diagnosis("active"), { ...basis(), localSubject: () => null }).status).toBe("active");
  });

  it("leaves out a look from another importer JWT, another exporter JWT, or an unknown exporter state", async () => {
    for (const [imp, exp] of [
      ["imp-0", "exp-1"],
      ["imp-1", "exp-0"],
    ] as const) {
      const v = new ServerViews();
      await v.refresh([IMP], fetcher({ n0: { jwt: imp, invalid: true } }, { n0: exp }), basis());
      expect(v.apply(KEY, diagnosis("active"), basis())).toEqual(diagnosis("active"));
      expect(v.behind([IMP], basis())).toEqual([IMP]);
    }
    const v = new ServerViews();
    await v.refresh([IMP], fetcher({ n0: { jwt: "imp-1", invalid: true } }, {}), basis());
    expect(v.apply(KEY, diagnosis("active"), basis())).toEqual(diagnosis("active"));
  });

  it("a server that never loaded the exporter has a current view: it will not retry the lookup", async () => {
    const v = new ServerViews();
    await v.refresh([IMP], fetcher({ n0: { jwt: "imp-1", registered: false } }, { n0: null }), basis());
    expect(v.apply(KEY, diagnosis("active"), basis())).toMatchObject({
      status: "inactive",
      cause: "server_state_stale",
      server: { servers: 1, registered: false },
    });
    expect(v.behind([IMP], basis())).toEqual([]);
  });

  it("leaves out a look older than the verdict, and a look within the margin of a time instant", async () => {
    const v = new ServerViews();
    await v.refresh([IMP], fetcher({ n0: { jwt: "imp-1", invalid: true } }, { n0: "exp-1" }), basis());
    vi.setSystemTime(1_000_100);
    v.judged([KEY]);
    expect(v.apply(KEY, diagnosis("active"), basis()).server).toBeNull();
    expect(v.apply("other", diagnosis("active"), basis()).cause).toBe("server_state_stale");
    const atInstant = basis(undefined, [1_000]);
    expect(v.apply("other", diagnosis("active"), atInstant).server).toBeNull();
    expect(v.quietAfter([["other", diagnosis("active")]], atInstant)).toBeGreaterThan(Date.now());
  });

  it("an exposure needs two identical looks at least CONFIRM_MS apart, after the verdict", async () => {
    const v = new ServerViews();
    const fetch = fetcher({ n0: { jwt: "imp-1" } }, { n0: "exp-1" });
    const dead = diagnosis("inactive");
    v.judged([KEY]);
    await v.refresh([IMP], fetch, basis());
    expect(v.apply(KEY, dead, basis()).message).toBe("m");
    expect(v.unconfirmed([[KEY, dead]], basis())).toEqual([IMP]);
    vi.setSystemTime(1_000_000 + CONFIRM_MS - 1);
    await v.refresh([IMP], fetch, basis());
    expect(v.apply(KEY, dead, basis()).message).toBe("m");
    vi.setSystemTime(1_000_000 + CONFIRM_MS);
    await v.refresh([IMP], fetch, basis());
    expect(v.apply(KEY, dead, basis()).message).toMatch(/^m Yet 1 of 1 server\(s\) still honour this import/);
    expect(v.unconfirmed([[KEY, dead]], basis())).toEqual([]);
    // A changed answer starts over.
    vi.setSystemTime(1_000_000 + 2 * CONFIRM_MS);
    await v.refresh(
      [IMP],
      fetcher({ n0: { jwt: "imp-1" }, n1: { jwt: "imp-1", invalid: true } }, { n0: "exp-1", n1: "exp-1" }),
      basis(),
    );
    expect(v.apply(KEY, dead, basis()).message).toMatch(/Yet 1 of 2/);
  });

  it("asks about an importer first: its sources only when a server has it loaded, then the importer again", async () => {
    const asked: string[] = [];
    const counting = (f: ReturnType<typeof fetcher>) => async (id: string) => {
      asked.push(id === IMP ? "imp" : "exp");
      return f(id);
    };
    const v = new ServerViews();
    await v.refresh([IMP], counting(fetcher({ n0: { jwt: null }, n1: { jwt: null } }, { n0: "exp-1" })), basis());
    expect(asked).toEqual(["imp"]);
    expect(v.apply(KEY, diagnosis("active"), basis())).toEqual(diagnosis("active"));
    asked.length = 0;
    await v.refresh(
      [IMP],
      counting(fetcher({ n0: { jwt: null }, n1: { jwt: "imp-1", invalid: true } }, { n0: null, n1: "exp-1" })),
      basis(),
    );
    expect(asked).toEqual(["imp", "exp", "imp"]);
    expect(v.apply(KEY, diagnosis("active"), basis()).cause).toBe("server_state_stale");
    // Without the probe (the caller knows the importer is loaded), and an account with no sources: one question.
    asked.length = 0;
    await v.refresh([IMP], counting(fetcher({ n1: { jwt: "imp-1" } }, { n1: "exp-1" })), basis(), true, false);
    expect(asked).toEqual(["exp", "imp"]);
    asked.length = 0;
    await v.refresh([EXP], counting(fetcher({}, { n1: "exp-1" })), basis(), false);
    expect(asked).toEqual(["exp"]);
  });

  it("an importer no server has loaded loses the look it had", async () => {
    const v = new ServerViews();
    await v.refresh([IMP], fetcher({ n0: { jwt: "imp-1", invalid: true } }, { n0: "exp-1" }), basis());
    expect(v.apply(KEY, diagnosis("active"), basis()).cause).toBe("server_state_stale");
    await v.refresh([IMP], fetcher({ n0: { jwt: null } }, { n0: "exp-1" }), basis(), false);
    expect(v.apply(KEY, diagnosis("active"), basis())).toEqual(diagnosis("active"));
  });
});

describe("serverViewCanChange (what an event may go out without waiting for the servers)", () => {
  const honoured = { servers: 1, registered: 1, honouring: 1, exposing: 1 };
  const refused = { servers: 1, registered: 0, honouring: 0, exposing: 0 };
  const statusCause = (d: ImportDiagnosis) => [d.status, d.cause];
  it("is false exactly when no server view changes (status, cause)", () => {
    const cycle: ImportDiagnosis = { ...diagnosis("inactive"), cause: "import_cycle" };
    for (const d of [diagnosis("active"), diagnosis("warning"), diagnosis("inactive"), cycle]) {
      const changes = [honoured, refused].some(
        (obs) => JSON.stringify(statusCause(applyServerView(d, obs))) !== JSON.stringify(statusCause(d)),
      );
      expect(serverViewCanChange(d), `${d.status}/${d.cause}`).toBe(changes);
    }
  });
});

describe("a stream import repeating one on a cycle (duplicate_of_cycle_import)", () => {
  it("is decided by the servers: a warning where one added it, inactive where every one refused it", () => {
    const d: ImportDiagnosis = { ...diagnosis("undetermined"), cause: "duplicate_of_cycle_import" };
    const honoured = applyServerView(d, { servers: 3, registered: 1, honouring: 1, exposing: 1 });
    expect(honoured).toMatchObject({ status: "warning", cause: "duplicate_of_cycle_import" });
    expect(honoured.message).toBe(
      "m 1 of 3 server(s) refused the earlier import (on its cycle) and honour this one. Loaded in another order (a restart), the earlier import may be added and this one refused as its duplicate.",
    );
    const refused = applyServerView(d, { servers: 2, registered: 0, honouring: 0, exposing: 0 });
    expect(refused).toMatchObject({ status: "inactive", cause: "duplicate_of_cycle_import" });
    expect(refused.message).toBe(
      "m All 2 server(s) that have IMP loaded added the earlier import and refuse this one as its duplicate. Loaded in another order (a restart), the earlier import may be refused on its cycle and this one work.",
    );
    expect(serverViewCanChange(d)).toBe(true);
  });
});

describe("an import the importer's own mappings starve", () => {
  it("is registered and valid on every server: honoured there is no exposure", () => {
    const honoured = { servers: 2, registered: 2, honouring: 2, exposing: 2 };
    const starved: ImportDiagnosis = { ...diagnosis("inactive"), cause: "local_subject_mapped" };
    const seen = applyServerView(starved, honoured);
    expect(seen).toMatchObject({
      status: "inactive",
      cause: "local_subject_mapped",
      message: starved.message,
      server: { servers: 2, registered: true, invalid: false },
    });
    const expired: ImportDiagnosis = { ...diagnosis("inactive"), cause: "activation_expired" };
    expect(applyServerView(expired, honoured).message).toContain("security exposure");
  });
});

describe("an import from a deleted source account", () => {
  it("stays registered and valid in the importer's view while nothing crosses: no exposure", () => {
    const honoured = { servers: 1, registered: 1, honouring: 1, exposing: 1 };
    const deleted: ImportDiagnosis = { ...diagnosis("inactive"), cause: "source_account_not_found" };
    expect(applyServerView(deleted, honoured)).toMatchObject({
      status: "inactive",
      cause: "source_account_not_found",
      message: deleted.message,
    });
  });
});

describe("parseAccountInfo", () => {
  const msg = (body: unknown) => ({ json: () => body }) as unknown as Msg;
  const server = { name: "n1" };

  it("a loaded account: its JWT and its imports", () => {
    const reply = parseAccountInfo(
      msg({
        server,
        data: {
          jwt: "eyJ.x.y",
          expired: false,
          imports: [
            { subject: "a.b", account: EXP, type: "stream", invalid: true },
            { subject: ">", local_subject: "pfx.c.>", account: EXP, type: "stream", invalid: false },
          ],
        },
      }),
    );
    expect(reply).toEqual({
      server: "n1",
      jwt: "eyJ.x.y",
      imports: [
        { subject: "a.b", local: null, account: EXP, type: "stream", invalid: true },
        { subject: ">", local: "pfx.c.>", account: EXP, type: "stream", invalid: false },
      ],
    });
  });

  it.each([
    ["an unknown account", { server, error: { code: 500, description: "Account X does not exist" } }],
    [
      "a route's stand-in (expired, incomplete, no JWT)",
      { server, data: { expired: true, complete: false, imports: [] } },
    ],
    [
      "an expired account",
      { server, data: { jwt: "eyJ.x.y", expired: true, imports: [{ subject: "a.b", account: EXP, type: "stream" }] } },
    ],
  ])("%s is not loaded", (_name, body) => {
    expect(parseAccountInfo(msg(body))).toEqual({ server: "n1", jwt: null, imports: [] });
  });

  it("something else is no reply", () => {
    expect(
      parseAccountInfo({
        json: () => {
          throw new Error("not JSON");
        },
      } as unknown as Msg),
    ).toBeNull();
    expect(parseAccountInfo(msg({ server }))).toBeNull();
  });
});
