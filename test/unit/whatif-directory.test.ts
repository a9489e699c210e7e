/**
 * The pieces what-if stands on: a directory copy that changes alone, claims amended in memory,
 * the resolver's refusal on push, and the validity flags of reissued tokens.
 */
import type { Export, Import } from "@nats-io/jwt";
import { beforeAll, describe, expect, it } from "vitest";
import type { ActivationClaims } from "../../src/core/jwt/claims.js";
import { parseAccount } from "../../src/core/jwt/claims.js";
import { refusalOnPush } from "../../src/core/push-refusal.js";
import { keptValidity, nscTime, renewedExpiry, signerThatStays } from "../../src/core/tokens.js";
import { OperatorTrust } from "../../src/core/index.js";
import { TestOperator, type TestAccount } from "../support/deployment.js";
import { DAY, buildFixture, proposal, type Fixture } from "../support/whatif-fixture.js";

let fx: Fixture;
beforeAll(async () => {
  fx = await buildFixture();
});

describe("AccountDirectory.clone", () => {
  it("a change to the copy leaves the original as it was", async () => {
    const dir = fx.directory();
    const copy = dir.clone();
    copy.upsert(await proposal(fx.exp, { exports: [] }));
    copy.remove(fx.imp1.id);
    expect(dir.exportsOf(fx.exp.id)!.all).toHaveLength(5);
    expect(copy.exportsOf(fx.exp.id)!.all).toHaveLength(0);
    expect(dir.get(fx.imp1.id)).toBeDefined();
    expect(copy.get(fx.imp1.id)).toBeUndefined();
    expect([...dir.importersOf(fx.exp.id)].length).toBe(4);
    expect([...copy.importersOf(fx.exp.id)].length).toBe(3);
  });

  it("a change to the original does not reach the copy", async () => {
    const dir = fx.directory();
    const copy = dir.clone();
    dir.remove(fx.near.id);
    expect(copy.get(fx.near.id)).toBeDefined();
    expect([...copy.importersOf(fx.exp.id)]).toContain(fx.near.id);
  });
});

describe("AccountDirectory.amendClaims", () => {
  it("files edited claims, validated again, and returns who may notice", () => {
    const dir = fx.directory();
    const copy = dir.clone();
    const affected = copy.amendClaims(fx.exp.id, (c) => ({
      ...c,
      signingKeys: new Map(),
      exports: [...c.exports, { ...c.exports[0]!, subject: "pub.x" }],
    }));
    expect([...affected].sort()).toEqual([fx.exp.id, fx.imp1.id, fx.imp2.id, fx.imp3.id, fx.near.id].sort());
    expect(copy.get(fx.exp.id)!.claims!.signingKeys.size).toBe(0);
    // pub.x overlaps pub.>: validation runs again and finds it
    expect(copy.get(fx.exp.id)!.problem?.message).toMatch(/already exports "pub.x"/);
    expect(dir.get(fx.exp.id)!.claims!.signingKeys.size).toBe(2);
    expect(dir.get(fx.exp.id)!.problem).toBeNull();
  });

  it("refuses an account it does not have", () => {
    expect(() =>
      fx
        .directory()
        .clone()
        .amendClaims("ANOPE", (c) => c),
    ).toThrow(/no decodable account ANOPE/);
  });
});

describe("refusalOnPush: the resolver's gate", () => {
  let strict: TestOperator;
  let a: TestAccount;
  beforeAll(async () => {
    strict = await TestOperator.create({ signingKey: true });
    await strict.reissue({ strict_signing_key_usage: true });
    a = await strict.account("A");
  });
  const trustOf = (op: TestOperator) => {
    const t = new OperatorTrust();
    t.addOperator(op.jwt);
    return t;
  };
  const claimsOf = (jwt: string) => {
    const p = parseAccount(jwt);
    if (!p.ok) throw new Error(p.error);
    return p.claims;
  };
  it.each<[string, () => Promise<[string, TestOperator]>, string | null]>([
    ["signed by a strict operator's signing key", async () => [a.jwt, strict], null],
    [
      "signed by a strict operator's identity key",
      async () => [await proposal(a, {}, { issuer: strict.key }), strict],
      "operator requires issuer to be a signing key",
    ],
    [
      "signed by a lax operator's identity key",
      async () => [await proposal(fx.imp1, fx.imp1.claims, { issuer: fx.op.key }), fx.op],
      null,
    ],
    [
      "share on a stream import",
      async () => [
        await proposal(fx.imp1, {
          imports: [{ name: "s", account: fx.exp.id, subject: "x", type: "stream", share: true }] as Import[],
        }),
        fx.op,
      ],
      "share (latency tracking) is only valid for a service import",
    ],
    [
      "overlapping exports",
      async () => [
        await proposal(fx.exp, {
          exports: [
            { subject: "a.>", type: "stream" },
            { subject: "a.b", type: "stream" },
          ] as Export[],
        }),
        fx.op,
      ],
      'stream export subject "a.>" already exports "a.b"',
    ],
  ])("%s", async (_n, build, refusal) => {
    const [jwt, op] = await build();
    expect(refusalOnPush(claimsOf(jwt), trustOf(op))).toBe(refusal);
  });
});

describe("validity of a reissued token", () => {
  const act = (t: Partial<ActivationClaims>) =>
    ({ issuedAt: 1000, notBefore: 0, expires: 0, ...t }) as ActivationClaims;
  it("nsc's absolute time, to the second", () => {
    expect(nscTime(1893553445)).toBe("2030-01-02 03:04:05 UTC");
  });
  it.each<[string, Partial<ActivationClaims>, number, string]>([
    ["no expiry is kept as none", {}, 5000, ""],
    ["an expiry to come is kept to the second", { expires: 1893553445 }, 5000, " --expiry '2030-01-02 03:04:05 UTC'"],
    [
      "a start to come is kept too",
      { notBefore: 1861931045, expires: 1893553445 },
      5000,
      " --start '2029-01-01 03:04:05 UTC' --expiry '2030-01-02 03:04:05 UTC'",
    ],
    [
      "a start passed is dropped",
      { notBefore: 2000, expires: 1893553445 },
      5000,
      " --expiry '2030-01-02 03:04:05 UTC'",
    ],
    [
      "an expired window is renewed instead",
      { issuedAt: 1000, expires: 1000 + 30 * DAY },
      2000 + 30 * DAY,
      " --expiry 30d",
    ],
  ])("kept: %s", (_n, claims, now, flags) => {
    expect(keptValidity(act(claims), now)).toBe(flags);
  });
  it.each<[Partial<ActivationClaims>, string]>([
    [{}, ""],
    [{ expires: 1000 + 90 * DAY }, " --expiry 90d"],
    [{ notBefore: 5000, expires: 5000 + 36 * 3600 }, " --expiry 2d"],
    [{ expires: 1000 + 5 * 3600 }, " --expiry 5h"],
    [{ expires: 1000 + 600 }, " --expiry 10m"],
    [{ expires: 1000 + 10 }, " --expiry 1m"],
    [{ expires: 500 }, " --expiry 90d"],
  ])("renewed: %j → %j", (claims, flags) => {
    expect(renewedExpiry(act(claims))).toBe(flags);
  });
});

describe("signerThatStays", () => {
  it("another plain signing key first, then a scoped one, then the identity key", () => {
    const entry = fx.directory().get(fx.exp.id)!;
    const [k0, k1] = [fx.sk0.getPublicKey(), fx.sk1.getPublicKey()];
    expect(signerThatStays(entry, k0)).toBe(k1);
    expect(signerThatStays(entry, k1)).toBe(k0);
    const scopedFirst = {
      ...entry,
      claims: {
        ...entry.claims!,
        signingKeys: new Map([
          [k1, "scoped"],
          [k0, "plain"],
        ] as const),
      },
    };
    expect(signerThatStays(scopedFirst, "AOTHER")).toBe(k0);
    expect(signerThatStays(scopedFirst, k0)).toBe(k1);
    const alone = { ...entry, claims: { ...entry.claims!, signingKeys: new Map([[k0, "plain"]] as const) } };
    expect(signerThatStays(alone, k0)).toBe(fx.exp.id);
  });
});
