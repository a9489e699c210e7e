/**
 * Pre-flight of a push: a proposed exporter or importer JWT, diagnosed on a what-if copy of the
 * directory. Each exporter change names exactly the imports (in other accounts) it would break;
 * a JWT the resolver would refuse changes nothing and lists what it declares.
 */
import type { Export, Import } from "@nats-io/jwt";
import { beforeAll, describe, expect, it } from "vitest";
import { diagnoseAll, type AccountDirectory, type CauseCode } from "../../src/core/index.js";
import { peekClaims } from "../../src/core/jwt/decode.js";
import { preflight, type PreflightResult } from "../../src/core/whatif/preflight.js";
import { TestOperator, activation, forgeSignature, nowSec, type TestAccount } from "../support/deployment.js";
import { buildFixture, directoryOf, proposal, type Fixture } from "../support/whatif-fixture.js";

const WEEK = 7 * 86400;
let fx: Fixture;
beforeAll(async () => {
  fx = await buildFixture();
});

const opts = () => ({ now: fx.now, expiryWarningSeconds: WEEK });

function run(dir: AccountDirectory, jwt: string): PreflightResult {
  const outcome = preflight(dir, jwt, opts());
  if (!outcome.ok) throw new Error(outcome.error);
  return outcome.result;
}

/** [importer name, subject, cause after, breaks] of every change, sorted. */
const changesOf = (r: PreflightResult) =>
  r.changes.map((c) => [c.account_name, c.subject, c.cause, c.breaks] as const).sort();

describe("an exporter change breaks importers in other accounts", () => {
  type Row = [string, (claims: { exports: Export[] }) => void, [string, string, CauseCode, boolean][]];
  it.each<Row>([
    [
      "an export removed",
      (c) => void (c.exports = c.exports.filter((e) => e.subject !== "pub.>")),
      [
        ["IMP1", "pub.a", "export_not_found", true],
        ["IMP2", "pub.b", "export_not_found", true],
        ["IMP3", "pub.c", "export_not_found", true],
      ],
    ],
    [
      "a public export made private",
      (c) => void (c.exports.find((e) => e.subject === "pub.>")!.token_req = true),
      [
        ["IMP1", "pub.a", "missing_activation_token", true],
        ["IMP2", "pub.b", "missing_activation_token", true],
        ["IMP3", "pub.c", "activation_expiring_soon", false],
      ],
    ],
    [
      "a revocation of every token issued so far",
      (c) => void (c.exports.find((e) => e.subject === "priv.>")!.revocations = { "*": nowSec() + 5 }),
      [
        ["IMP1", "priv.a", "activation_revoked", true],
        ["IMP2", "priv.b", "activation_revoked", true],
        ["IMP3", "priv.c", "activation_revoked", true],
      ],
    ],
    [
      "a private export's subject narrowed",
      (c) => void (c.exports.find((e) => e.subject === "svc.>")!.subject = "svc.b"),
      [["IMP1", "svc.a", "export_not_found", true]],
    ],
    ["the unused export removed", (c) => void (c.exports = c.exports.filter((e) => e.subject !== "unused.>")), []],
  ])("%s", async (_name, edit, expected) => {
    const dir = fx.directory();
    const claims = fx.exporterClaims();
    edit(claims);
    const r = run(dir, await proposal(fx.exp, claims));
    expect(r.stored).toBe(true);
    expect(changesOf(r)).toEqual(expected.sort());
    expect(r.breaks).toBe(expected.some((e) => e[3]));
    // every change is a full diagnosis of the after state, with the (status, cause) of before
    for (const c of r.changes) expect(c.previous_status).not.toBeNull();
  });

  it("a signing key removed breaks exactly the imports whose tokens it signed", async () => {
    const dir = fx.directory();
    const r = run(dir, await proposal(fx.exp, fx.exporterClaims(), { signingKeys: [fx.sk1] }));
    expect(changesOf(r)).toEqual([
      ["IMP1", "svc.a", "activation_signer_untrusted", true],
      ["IMP2", "priv.b", "activation_signer_untrusted", true],
    ]);
    const svc = r.changes.find((c) => c.subject === "svc.a")!;
    expect({ previous_status: svc.previous_status, previous_cause: svc.previous_cause }).toEqual({
      previous_status: "active",
      previous_cause: null,
    });
    expect(svc.remediation).toContainEqual(expect.stringMatching(/^nsc generate activation --account EXP/));
  });

  it("leaves the real directory as it was", async () => {
    const dir = fx.directory();
    const before = diagnoseAll(dir, opts());
    const digest = dir.get(fx.exp.id)!.digest;
    run(dir, await proposal(fx.exp, { exports: [] }));
    expect(dir.get(fx.exp.id)!.digest).toBe(digest);
    expect(diagnoseAll(dir, opts())).toEqual(before);
    expect(dir.importersOf(fx.exp.id).size).toBe(4);
  });
});

describe("an importer change", () => {
  it("a new import that would not work breaks; a dropped one is listed as removed", async () => {
    const dir = fx.directory();
    const claims = structuredClone(fx.imp1.claims);
    claims.imports = [
      ...claims.imports!.filter((i) => i.subject !== "pub.a"),
      { name: "x", account: fx.exp.id, subject: "nothing.x", type: "stream" },
    ];
    const r = run(dir, await proposal(fx.imp1, claims));
    expect(changesOf(r)).toEqual([["IMP1", "nothing.x", "export_not_found", true]]);
    expect(r.changes[0]!.previous_status).toBeNull();
    expect(r.removed.map((d) => [d.subject, d.status])).toEqual([["pub.a", "active"]]);
    expect(r.breaks).toBe(true);
  });

  it("a fix is a change that breaks nothing", async () => {
    const dir = fx.directory();
    const claims = structuredClone(fx.near.claims);
    claims.imports = [{ name: "narrow", account: fx.exp.id, subject: "narrow.x.1", type: "stream" }];
    const r = run(dir, await proposal(fx.near, claims));
    expect(changesOf(r)).toEqual([["NEAR", "narrow.x.1", null, false]]);
    expect(r.removed.map((d) => [d.subject, d.cause])).toEqual([["narrow.>", "subject_mismatch"]]);
    expect(r.breaks).toBe(false);
  });

  it("the JWT already stored changes nothing, and says so", () => {
    const r = run(fx.directory(), fx.imp1.jwt);
    expect(r).toMatchObject({ stored: true, breaks: false, changes: [], removed: [] });
    expect(r.notes.join(" ")).toMatch(/already stores/);
  });

  it("an older JWT than the stored one is a roll-back, and says so", async () => {
    const older = await proposal(fx.imp2, fx.imp2.claims);
    // iat has whole seconds: the newer JWT must be signed in a later second than the older one.
    const olderIat = peekClaims(older)?.["iat"] as number;
    while (nowSec() <= olderIat) await new Promise((r) => setTimeout(r, 20));
    const newer = await proposal(fx.imp2, fx.imp2.claims);
    expect(peekClaims(newer)?.["iat"]).toBeGreaterThan(olderIat);
    const dir = directoryOf(
      fx.op,
      fx.all.map((a) => a).filter((a) => a !== fx.imp2),
    );
    dir.upsert(newer);
    const r = run(dir, older);
    expect(r.changes).toEqual([]);
    expect(r.notes.join(" ")).toMatch(/rolls IMP2 back/);
  });
});

describe("a new account", () => {
  it("fixes the imports that waited for it", async () => {
    const src = await fx.op.account("LATE", {
      exports: [{ name: "l", subject: "late.>", type: "stream" }] as Export[],
    });
    const waiting = await fx.op.account("WAITING", {
      imports: [{ name: "l", account: src.id, subject: "late.1", type: "stream" }] as Import[],
    });
    const dir = directoryOf(fx.op, [...fx.all, waiting]);
    const r = run(dir, src.jwt);
    expect(changesOf(r)).toEqual([["WAITING", "late.1", null, false]]);
    expect(r.changes[0]!.previous_cause).toBe("source_account_not_found");
    expect(r.notes.join(" ")).toMatch(/No JWT is stored for LATE/);
  });
});

describe("what the resolver would refuse, or store without loading", () => {
  it("a blocking validation error: nothing changes, every declared import is listed as push_rejected, the faulty one named", async () => {
    const claims = structuredClone(fx.imp1.claims);
    claims.imports = [
      ...claims.imports!,
      { name: "bad", account: fx.exp.id, subject: "pub.z", type: "stream", share: true },
    ];
    const r = run(fx.directory(), await proposal(fx.imp1, claims));
    expect(r).toMatchObject({ stored: false, breaks: false, changes: [], removed: [] });
    expect(r.refusal).toMatch(/share/);
    expect(r.refused_imports.map((d) => [d.subject, d.cause])).toEqual([
      ["pub.a", "push_rejected"],
      ["priv.a", "push_rejected"],
      ["svc.a", "push_rejected"],
      ["pub.z", "push_rejected"],
    ]);
    expect(r.refused_imports[3]!.message).toMatch(/would not take effect: the server would refuse this JWT \(share/);
    expect(r.refused_imports[3]!.remediation[0]).toBe("nsc validate --account IMP1");
    expect(r.notes[0]).toMatch(/keep serving the stored version of IMP1/);
  });

  it("a token that does not fit its import refuses the JWT, naming the token", async () => {
    const claims = structuredClone(fx.imp2.claims);
    // a token issued to another account
    claims.imports![1]!.token = await activation(fx.exp, fx.imp1.id, "priv.b", "stream");
    const r = run(fx.directory(), await proposal(fx.imp2, claims));
    expect(r.stored).toBe(false);
    expect(r.refused_imports[1]!.message).toMatch(new RegExp(`issued to ${fx.imp1.id}`));
  });

  it("an account JWT signed by a strict operator's identity key is refused", async () => {
    const op = await TestOperator.create({ signingKey: true });
    await op.reissue({ strict_signing_key_usage: true }); // not in @nats-io/jwt's Operator type
    const a = await op.account("A", {}, {});
    const byIdentity = await proposal(
      a,
      { imports: [{ name: "x", account: a.id, subject: "x", type: "stream" }] as Import[] },
      { issuer: op.key },
    );
    const r = run(directoryOf(op, [op.system]), byIdentity);
    expect(r).toMatchObject({ stored: false, refusal: "operator requires issuer to be a signing key" });
    expect(r.refused_imports).toHaveLength(1);
  });

  it("a JWT from an operator the server does not trust is stored, but its account is not loaded", async () => {
    const foreign = await TestOperator.create();
    const rogue = await foreign.account("ROGUE");
    const r = run(
      fx.directory(),
      await proposal(rogue, {
        imports: [{ name: "p", account: fx.exp.id, subject: "pub.r", type: "stream" }] as Import[],
      }),
    );
    expect(r.stored).toBe(true);
    expect(changesOf(r)).toEqual([["ROGUE", "pub.r", "account_jwt_invalid", true]]);
    expect(r.notes.join(" ")).toMatch(/would not load ROGUE/);
  });

  it("an account JWT signed by the account's own key is stored too, and breaks every importer", async () => {
    // nats-io/jwt decodes it (an account key may sign account claims); the server does not trust it.
    const r = run(fx.directory(), await proposal(fx.exp, fx.exporterClaims(), { issuer: fx.exp.key }));
    expect(r.stored).toBe(true);
    expect(r.changes.length).toBeGreaterThan(0);
    expect(r.changes.filter((c) => c.cause !== "source_account_not_found")).toEqual([]);
    expect(r.notes.join(" ")).toMatch(/would not load EXP/);
  });

  it("an expired exporter JWT breaks its importers", async () => {
    const r = run(fx.directory(), await proposal(fx.exp, fx.exporterClaims(), { exp: fx.now - 10 }));
    expect(r.stored).toBe(true);
    expect(r.changes.filter((c) => c.cause !== "source_account_expired")).toEqual([]);
    expect(r.changes).toHaveLength(8);
    expect(r.notes.join(" ")).toMatch(/expired at/);
  });
});

describe("input that is not an account JWT", () => {
  let user: string;
  beforeAll(async () => {
    const creds = await fx.imp1.userCreds();
    user = creds.split("\n").find((l) => l.startsWith("eyJ"))!;
  });
  it.each<[string, () => string, RegExp]>([
    ["garbage", () => "not a jwt", /^jwt: not an account JWT: expected 3 chunks$/],
    ["a forged signature", () => forgeSignature(fx.imp1.jwt), /^jwt: not an account JWT: .*signature/],
    ["a user JWT", () => user, /^jwt: not an account JWT: not account claims \(user\)$/],
    ["an activation token", () => tokenOf(fx.imp1), /^jwt: not an account JWT: not account claims \(activation\)$/],
  ])("%s is an error, not an answer", (_n, jwt, message) => {
    const outcome = preflight(fx.directory(), jwt(), opts());
    expect(outcome.ok).toBe(false);
    if (!outcome.ok) expect(outcome.error).toMatch(message);
  });
});

function tokenOf(a: TestAccount): string {
  return a.claims.imports!.find((i) => i.token)!.token!;
}
