/**
 * The typed reading of verified claims (src/core/jwt/claims.ts), field by field, against what
 * nats-io/jwt v2 does when it unmarshals the same JSON into its structs: which key each field comes
 * from, what an absent or null field reads as, which wrongly typed field makes the whole JWT
 * undecodable (and the message naming it), the signing keys and their scopes, an export's
 * revocations and token position, a mapping's weight, and when the limits grant JetStream.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { createAccount, createOperator } from "@nats-io/jwt";
import {
  activationOf,
  exportTypeOf,
  importActivation,
  parseAccount,
  parseActivation,
  parseOperator,
  type AccountClaims,
  type ImportClaim,
} from "../../src/core/jwt/claims.js";
import { V2_HEADER, signClaims, type KeyPair } from "../support/deployment.js";
import { fast } from "../support/fast-keys.js";
import { importClaim } from "../support/claims.js";

let operator: KeyPair;
let account: KeyPair;
let other: KeyPair;

beforeAll(() => {
  operator = fast(createOperator());
  account = fast(createAccount());
  other = fast(createAccount());
});

const ACCOUNT = (nats: Record<string, unknown>) => ({ type: "account", version: 2, ...nats });

/** An account JWT for `account`, signed by the operator, with these `nats` claims and top-level extras. */
function accountJwt(nats: Record<string, unknown>, top: Record<string, unknown> = {}): Promise<string> {
  return signClaims({ sub: account.getPublicKey(), name: "A", ...top, nats: ACCOUNT(nats) }, operator);
}

/** Signs the claims JSON exactly as written (numbers JSON.stringify cannot write, such as 1e999). */
function signRawJson(json: string, signer: KeyPair): string {
  const h = Buffer.from(JSON.stringify(V2_HEADER)).toString("base64url");
  const b = Buffer.from(json).toString("base64url");
  const sig = signer.sign(new TextEncoder().encode(`${h}.${b}`));
  return `${h}.${b}.${Buffer.from(sig).toString("base64url")}`;
}

async function claimsOf(nats: Record<string, unknown>, top: Record<string, unknown> = {}): Promise<AccountClaims> {
  const parsed = parseAccount(await accountJwt(nats, top));
  if (!parsed.ok) throw new Error(parsed.error);
  return parsed.claims;
}

async function errorOf(nats: Record<string, unknown>, top: Record<string, unknown> = {}): Promise<string> {
  const parsed = parseAccount(await accountJwt(nats, top));
  if (parsed.ok) throw new Error("decoded");
  return parsed.error;
}

describe("account claims: each field from its own key", () => {
  it("reads the standard claims, every import field and every export field", async () => {
    const exporter = other.getPublicKey();
    const c = await claimsOf(
      {
        imports: [
          {
            name: "in",
            type: "service",
            subject: "svc.a",
            account: exporter,
            token: "tok",
            to: "svc.to",
            local_subject: "loc.a",
            share: true,
            allow_trace: true,
          },
          { subject: "s.b", account: exporter, type: "stream" },
        ],
        exports: [
          {
            name: "out",
            type: "service",
            subject: "svc.*",
            token_req: true,
            account_token_position: 2,
            revocations: { [exporter]: 1700000000, "*": 1600000000 },
            response_type: "Stream",
            allow_trace: true,
          },
          { subject: "s.>", type: "stream" },
        ],
        limits: { imports: 3, exports: -1, wildcards: true },
      },
      { iat: 1500000000, exp: 2000000000, nbf: 1400000000, name: "the account" },
    );
    expect({ ...c, digest: undefined, signingKeys: [...c.signingKeys] }).toEqual({
      issuer: operator.getPublicKey(),
      subject: account.getPublicKey(),
      name: "the account",
      issuedAt: 1500000000,
      expires: 2000000000,
      notBefore: 1400000000,
      digest: undefined,
      signingKeys: [],
      imports: [
        {
          index: 0,
          name: "in",
          type: "service",
          subject: "svc.a",
          account: exporter,
          token: "tok",
          to: "svc.to",
          localSubject: "loc.a",
          share: true,
          allowTrace: true,
        },
        {
          index: 1,
          name: null,
          type: "stream",
          subject: "s.b",
          account: exporter,
          token: null,
          to: null,
          localSubject: null,
          share: false,
          allowTrace: false,
        },
      ],
      exports: [
        {
          index: 0,
          name: "out",
          type: "service",
          subject: "svc.*",
          tokenReq: true,
          accountTokenPosition: 2,
          revocations: new Map([
            [exporter, 1700000000],
            ["*", 1600000000],
          ]),
          responseType: "Stream",
          allowTrace: true,
        },
        {
          index: 1,
          name: null,
          type: "stream",
          subject: "s.>",
          tokenReq: false,
          accountTokenPosition: 0,
          revocations: new Map(),
          responseType: null,
          allowTrace: false,
        },
      ],
      mappings: [],
      limits: { imports: 3, exports: -1, wildcardExports: true, jetStream: false, blankTier: false },
    });
  });

  it("an absent or null field reads as Go's zero value: empty, 0, false, none", async () => {
    const payload = {
      sub: account.getPublicKey(),
      iss: operator.getPublicKey(),
      iat: null,
      exp: null,
      name: null,
      jti: "J",
      nats: {
        type: "account",
        version: 2,
        imports: null,
        exports: null,
        signing_keys: null,
        mappings: null,
        limits: null,
      },
    };
    const parsed = parseAccount(signRawJson(JSON.stringify(payload), operator));
    if (!parsed.ok) throw new Error(parsed.error);
    const c = parsed.claims;
    expect([c.name, c.issuedAt, c.expires, c.notBefore]).toEqual(["", 0, 0, 0]);
    expect([c.imports, c.exports, c.mappings, c.signingKeys.size]).toEqual([[], [], [], 0]);
    expect(c.limits).toEqual({ imports: 0, exports: 0, wildcardExports: false, jetStream: false, blankTier: false });
    const nulls = await claimsOf({
      imports: [{ subject: "a", account: other.getPublicKey(), type: "stream", name: null, token: null, share: null }],
      exports: [{ subject: "a", type: "stream", revocations: null, token_req: null, account_token_position: null }],
    });
    expect(nulls.imports[0]).toMatchObject({ name: null, token: null, share: false });
    expect(nulls.exports[0]).toMatchObject({ revocations: new Map(), tokenReq: false, accountTokenPosition: 0 });
  });

  it("the digest identifies the JWT's text", async () => {
    const a = await claimsOf({}, { jti: "one" });
    const b = await claimsOf({}, { jti: "two" });
    expect(a.digest).toMatch(/^[A-Za-z0-9+/]{43}=$/);
    expect(a.digest).not.toBe(b.digest);
  });

  it("a JWT of another kind, or no JWT, is no account", async () => {
    const activation = await signClaims(
      { sub: account.getPublicKey(), nats: { type: "activation", version: 2, subject: "a", kind: "stream" } },
      other,
    );
    expect(parseAccount(activation)).toEqual({ ok: false, error: "not account claims (activation)" });
    expect(parseAccount("x.y.z")).toMatchObject({ ok: false });
  });
});

describe("a wrongly typed field makes the whole JWT undecodable, as json.Unmarshal fails, and is named", () => {
  const cases: [string, Record<string, unknown>, Record<string, unknown>, string][] = [
    ["a name that is a number", {}, { name: 5 }, "jwt.name is not a string"],
    ["an issued-at that is a string", {}, { iat: "x" }, "jwt.iat is not a number"],
    ["an expiry that is a boolean", {}, { exp: true }, "jwt.exp is not a number"],
    ["imports that are an object", { imports: {} }, {}, "nats.imports is not an array"],
    ["an import that is a string", { imports: ["a"] }, {}, "imports[0] is not an object"],
    ["an import that is an array", { imports: [[]] }, {}, "imports[0] is not an object"],
    [
      "an import's share that is a string",
      { imports: [{ subject: "a", share: "yes" }] },
      {},
      "imports[0].share is not a boolean",
    ],
    [
      "an import's token that is a number",
      { imports: [{ subject: "a", token: 1 }] },
      {},
      "imports[0].token is not a string",
    ],
    ["exports that are a string", { exports: "all" }, {}, "nats.exports is not an array"],
    [
      "revocations that are a list",
      { exports: [{ subject: "a", revocations: [] }] },
      {},
      "exports[0].revocations is not an object",
    ],
    [
      "a revocation time that is a string",
      { exports: [{ subject: "a", revocations: { U: "soon" } }] },
      {},
      "exports[0].revocations.U is not a number",
    ],
    [
      "a negative token position (a uint in Go)",
      { exports: [{ subject: "a.*", account_token_position: -1 }] },
      {},
      "exports[0].account_token_position is negative (a uint in Go)",
    ],
    [
      "a fractional token position",
      { exports: [{ subject: "a.*", account_token_position: 1.5 }] },
      {},
      "exports[0].account_token_position is not a whole number of 64 bits",
    ],
    ["limits that are a number", { limits: 5 }, {}, "nats.limits is not an object"],
    ["limits that are a list", { limits: [] }, {}, "nats.limits is not an object"],
    ["an import limit that is a string", { limits: { imports: "1" } }, {}, "nats.limits.imports is not a number"],
    ["an export limit that is a string", { limits: { exports: "1" } }, {}, "nats.limits.exports is not a number"],
    ["a subject (account id) that is a number", {}, { sub: 5 }, "jwt.sub is not a string"],
    [
      "a destination's subject that is a number",
      { mappings: { a: [{ subject: 5 }] } },
      {},
      'nats.mappings["a"][0].subject is not a string',
    ],
    ["wildcards that are a number", { limits: { wildcards: 1 } }, {}, "nats.limits.wildcards is not a boolean"],
    [
      "a memory storage that is a string",
      { limits: { mem_storage: "1G" } },
      {},
      "nats.limits.mem_storage is not a number",
    ],
    [
      "a disk storage that is a string",
      { limits: { disk_storage: "1G" } },
      {},
      "nats.limits.disk_storage is not a number",
    ],
    [
      "a disk storage that is a string beside a memory storage",
      { limits: { mem_storage: 1, disk_storage: "1G" } },
      {},
      "nats.limits.disk_storage is not a number",
    ],
    [
      "tiered limits that are a list",
      { limits: { tiered_limits: [] } },
      {},
      "nats.limits.tiered_limits is not an object",
    ],
    ["mappings that are a list", { mappings: [] }, {}, "nats.mappings is not an object"],
    ["a mapping that is an object", { mappings: { a: {} } }, {}, 'nats.mappings["a"] is not an array'],
    ["a destination that is a string", { mappings: { a: ["b"] } }, {}, 'nats.mappings["a"][0] is not an object'],
    [
      "a destination's cluster that is a number",
      { mappings: { a: [{ subject: "b", cluster: 1 }] } },
      {},
      'nats.mappings["a"][0].cluster is not a string',
    ],
    ["signing keys that are a string", { signing_keys: "AK" }, {}, "nats.signing_keys is not an array"],
    [
      "a scope of an unknown kind",
      { signing_keys: [{ kind: "account_scope", key: "AK" }] },
      {},
      "signing_keys[0] has an unknown scope kind",
    ],
    [
      "a scope without a kind",
      { signing_keys: ["AK", { key: "AK2" }] },
      {},
      "signing_keys[1] has an unknown scope kind",
    ],
    [
      "a scope whose key is a number",
      { signing_keys: [{ kind: "user_scope", key: 5 }] },
      {},
      "signing_keys[0].key is not a string",
    ],
  ];

  it.each(cases)("%s", async (_name, nats, top, message) => {
    expect(await errorOf(nats, top)).toBe(message);
  });

  it("a v1 account whose nats is a list (a struct in Go) does not decode", () => {
    // Only a v1 claim set (its type at the top) has no type inside nats to make it an account.
    const json = JSON.stringify({
      sub: account.getPublicKey(),
      iss: operator.getPublicKey(),
      type: "account",
      nats: [],
    });
    const claims = Buffer.from(json).toString("base64url");
    const header = Buffer.from(JSON.stringify({ typ: "JWT", alg: "ed25519" })).toString("base64url");
    const sig = Buffer.from(operator.sign(new TextEncoder().encode(claims))).toString("base64url");
    expect(parseAccount(`${header}.${claims}.${sig}`)).toEqual({ ok: false, error: "nats is not an object" });
  });

  it("a number past float64's range (1e999) is no number to Go's int64 either", () => {
    const json = `{"sub":"${account.getPublicKey()}","iss":"${operator.getPublicKey()}","iat":1e999,"jti":"J","nats":{"type":"account","version":2}}`;
    expect(parseAccount(signRawJson(json, operator))).toEqual({
      ok: false,
      error: "jwt.iat is not a whole number of 64 bits",
    });
  });

  it.each([
    ["a fractional issued-at", { iat: 1700000000.5 }, {}, "jwt.iat is not a whole number of 64 bits"],
    ["an expiry past int64", { exp: 1e19 }, {}, "jwt.exp is not a whole number of 64 bits"],
    ["a not-before below int64", { nbf: -1e19 }, {}, "jwt.nbf is not a whole number of 64 bits"],
    [
      "a fractional import limit",
      {},
      { limits: { imports: 2.5 } },
      "nats.limits.imports is not a whole number of 64 bits",
    ],
    [
      "a fractional revocation time",
      {},
      { exports: [{ subject: "a", revocations: { U: 1.5 } }] },
      "exports[0].revocations.U is not a whole number of 64 bits",
    ],
  ])("%s: json.Unmarshal refuses it into an int64, so the JWT does not decode", async (_name, top, nats, message) => {
    expect(await errorOf(nats, top)).toBe(message);
  });

  it("the int64 bounds themselves (as far as a double tells them) are numbers", async () => {
    const c = await claimsOf({ limits: { imports: -(2 ** 63), exports: 2 ** 63 } });
    expect([c.limits.imports, c.limits.exports]).toEqual([-(2 ** 63), 2 ** 63]);
  });

  it("a token position of 0 (none) is whole", async () => {
    const c = await claimsOf({ exports: [{ subject: "a.*", type: "stream", account_token_position: 0 }] });
    expect(c.exports[0]!.accountTokenPosition).toBe(0);
  });
});

describe("mapping destinations", () => {
  it("read subject, cluster and weight, an absent or 0 weight being 100 (GetWeight)", async () => {
    const c = await claimsOf({
      mappings: {
        a: [
          { subject: "b", weight: 0 },
          { subject: "c", weight: 255, cluster: "east" },
          { subject: "d", weight: 1 },
        ],
        e: null,
        f: [{ subject: "g" }],
      },
    });
    expect(c.mappings).toEqual([
      {
        source: "a",
        destinations: [
          { subject: "b", weight: 100, written: 0, cluster: null },
          { subject: "c", weight: 255, written: 255, cluster: "east" },
          { subject: "d", weight: 1, written: 1, cluster: null },
        ],
      },
      { source: "e", destinations: [] },
      { source: "f", destinations: [{ subject: "g", weight: 100, written: 0, cluster: null }] },
    ]);
  });

  it.each([256, -1])("a weight of %s is no uint8: the JWT does not decode", async (weight) => {
    expect(await errorOf({ mappings: { a: [{ subject: "b", weight }] } })).toBe(
      'nats.mappings["a"][0].weight is not a whole number from 0 to 255',
    );
  });

  it("a fractional weight does not decode", async () => {
    expect(await errorOf({ mappings: { a: [{ subject: "b", weight: 1.5 }] } })).toBe(
      'nats.mappings["a"][0].weight is not a whole number of 64 bits',
    );
  });
});

describe("signing keys and their scopes (SigningKeys.UnmarshalJSON)", () => {
  it("a string is a plain key, a user_scope object a scoped one under its key; a later entry for a key wins", async () => {
    const c = await claimsOf({
      signing_keys: [
        "AKPLAIN",
        { kind: "user_scope", key: "AKSCOPED", role: "r", template: {} },
        "AKBOTH",
        { kind: "user_scope", key: "AKBOTH" },
        { kind: "user_scope", key: "AKBACK" },
        "AKBACK",
      ],
    });
    expect([...c.signingKeys]).toEqual([
      ["AKPLAIN", "plain"],
      ["AKSCOPED", "scoped"],
      ["AKBOTH", "scoped"],
      ["AKBACK", "plain"],
    ]);
  });

  it("a scope without a key is the scope of the empty key", async () => {
    const c = await claimsOf({ signing_keys: [{ kind: "user_scope" }] });
    expect([...c.signingKeys]).toEqual([["", "scoped"]]);
  });

  it("an entry that is neither a string nor an object (null, a number, a boolean, a list) is skipped, as jwt skips it", async () => {
    const c = await claimsOf({ signing_keys: [null, 7, true, ["AKLIST"], "AKPLAIN"] });
    expect([...c.signingKeys]).toEqual([["AKPLAIN", "plain"]]);
  });
});

describe("limits: when the JWT grants JetStream (OperatorLimits.IsJSEnabled, as the server asks it)", () => {
  const cases: [string, Record<string, unknown>, boolean][] = [
    ["no storage", { imports: -1 }, false],
    ["memory storage only", { mem_storage: 1024 }, true],
    ["disk storage only", { disk_storage: 1024 }, true],
    ["unlimited memory (-1)", { mem_storage: -1 }, true],
    ["unlimited disk (-1)", { disk_storage: -1 }, true],
    ["streams and consumers but no storage", { streams: 10, consumer: 10 }, false],
    ["a tier with disk storage", { tiered_limits: { R1: { disk_storage: 1024 } } }, true],
    ["a tier with memory storage", { tiered_limits: { R1: { mem_storage: -1 } } }, true],
    [
      "one tier with storage among tiers without",
      { tiered_limits: { R1: { streams: 1 }, R3: { mem_storage: 1 } } },
      true,
    ],
    ["tiers without storage", { tiered_limits: { R1: { streams: 10, consumer: 10 }, R3: {} } }, false],
    ["an empty set of tiers", { tiered_limits: {} }, false],
  ];

  it.each(cases)("%s", async (_name, limits, jetStream) => {
    expect((await claimsOf({ limits })).limits.jetStream).toBe(jetStream);
  });

  it('a tier named "" is marked (jwt refuses the JWT), another name is not', async () => {
    const blank = async (tiers: Record<string, unknown>) =>
      (await claimsOf({ limits: { tiered_limits: tiers } })).limits.blankTier;
    expect(await blank({ "": { disk_storage: 1024 } })).toBe(true);
    expect(await blank({ R1: { disk_storage: 1024 }, "": {} })).toBe(true);
    expect(await blank({ R1: { disk_storage: 1024 }, " ": {} })).toBe(false);
    expect(await blank({})).toBe(false);
  });

  it("cluster_traffic: the issue jwt v2.7.3 on refuses, read in any case of its key", async () => {
    const issue = async (nats: Record<string, unknown>) => (await claimsOf(nats)).clusterTrafficIssue;
    expect(await issue({ cluster_traffic: "bogus" })).toBe('unknown cluster traffic option: "bogus"');
    expect(await issue({ Cluster_Traffic: "Owner" })).toBe('unknown cluster traffic option: "Owner"');
    expect(await issue({ cluster_traffic: 7 })).toBe("cluster_traffic is a number, not a string");
    expect(await issue({ cluster_traffic: ["system"] })).toBe("cluster_traffic is a list, not a string");
    expect(await issue({ cluster_traffic: "x".repeat(100) })).toMatch(/^unknown cluster traffic option: "x{64}…"$/);
    for (const fine of ["", "system", "owner", null, undefined])
      expect(await issue(fine === undefined ? {} : { cluster_traffic: fine }), String(fine)).toBeUndefined();
  });

  it("a tier that is no object does not decode", async () => {
    expect(await errorOf({ limits: { tiered_limits: { R1: 5 } } })).toBe(
      "nats.limits.tiered_limits.R1 is not an object",
    );
  });

  it("a tier's storage that is a string does not decode", async () => {
    expect(await errorOf({ limits: { tiered_limits: { R1: { mem_storage: "1G" } } } })).toBe(
      "nats.limits.tiered_limits.R1.mem_storage is not a number",
    );
  });
});

describe("activation claims", () => {
  async function token(nats: Record<string, unknown>, top: Record<string, unknown> = {}): Promise<string> {
    return signClaims(
      { sub: account.getPublicKey(), name: "act", ...top, nats: { type: "activation", version: 2, ...nats } },
      other,
    );
  }

  it("reads the standard claims, the subject, the kind and the issuer account; once per token, frozen", async () => {
    const t = await token(
      { subject: "s.a", kind: "service", issuer_account: "AEXPORTER" },
      { iat: 1500000000, exp: 2000000000, nbf: 1400000000 },
    );
    const parsed = parseActivation(t);
    expect(parsed).toEqual({
      ok: true,
      claims: {
        issuer: other.getPublicKey(),
        subject: account.getPublicKey(),
        name: "act",
        issuedAt: 1500000000,
        expires: 2000000000,
        notBefore: 1400000000,
        issuerAccount: "AEXPORTER",
        importSubject: "s.a",
        kind: "service",
      },
    });
    expect(parseActivation(t)).toBe(parsed);
    expect(parsed.ok && Object.isFrozen(parsed.claims)).toBe(true);
  });

  it("without an issuer account, null; a wrongly typed field, the token does not decode", async () => {
    const plain = parseActivation(await token({ subject: "s.a", kind: "stream" }));
    expect(plain.ok && plain.claims.issuerAccount).toBeNull();
    expect(parseActivation(await token({ subject: 5, kind: "stream" }))).toEqual({
      ok: false,
      error: "nats.subject is not a string",
    });
    expect(parseActivation(await accountJwt({}))).toEqual({ ok: false, error: "not activation claims (account)" });
    for (const [field, message] of [
      ["kind", "nats.kind is not a string"],
      ["issuer_account", "nats.issuer_account is not a string"],
    ]) {
      expect(parseActivation(await token({ subject: "s.a", kind: "stream", [field!]: 5 }))).toEqual({
        ok: false,
        error: message,
      });
    }
  });

  it("an import's token is parsed once per import object; no token, no activation; a bad token, no claims", async () => {
    const t = await token({ subject: "s.a", kind: "stream" });
    const imp = (tok: string | null): ImportClaim =>
      importClaim({ type: "stream", subject: "s.a", account: other.getPublicKey(), token: tok });
    const withToken = imp(t);
    const first = importActivation(withToken);
    expect(first?.ok).toBe(true);
    expect(importActivation(withToken)).toBe(first);
    expect(activationOf(withToken)?.importSubject).toBe("s.a");
    expect(importActivation(imp(null))).toBeNull();
    expect(activationOf(imp(null))).toBeNull();
    expect(importActivation(imp("garbage"))?.ok).toBe(false);
    expect(activationOf(imp("garbage"))).toBeNull();
  });
});

describe("operator claims", () => {
  it("reads the signing keys, the system account and strict signing-key usage", async () => {
    const t = await signClaims(
      {
        sub: operator.getPublicKey(),
        name: "op",
        nats: {
          type: "operator",
          version: 2,
          signing_keys: ["OSK1", "OSK2"],
          system_account: "ASYS",
          strict_signing_key_usage: true,
        },
      },
      operator,
    );
    const parsed = parseOperator(t);
    expect(parsed.ok && { ...parsed.claims, token: undefined }).toEqual({
      issuer: operator.getPublicKey(),
      subject: operator.getPublicKey(),
      name: "op",
      issuedAt: expect.any(Number) as number,
      expires: 0,
      notBefore: 0,
      token: undefined,
      signingKeys: ["OSK1", "OSK2"],
      systemAccount: "ASYS",
      strictSigningKeyUsage: true,
    });
    const bare = parseOperator(
      await signClaims({ sub: operator.getPublicKey(), nats: { type: "operator", version: 2 } }, operator),
    );
    expect(bare.ok && [bare.claims.signingKeys, bare.claims.systemAccount, bare.claims.strictSigningKeyUsage]).toEqual([
      [],
      null,
      false,
    ]);
  });

  it("a signing key that is no string (a StringList in Go) makes it undecodable", async () => {
    const t = await signClaims(
      { sub: operator.getPublicKey(), nats: { type: "operator", version: 2, signing_keys: ["OSK1", 7] } },
      operator,
    );
    expect(parseOperator(t)).toEqual({ ok: false, error: "nats.signing_keys[1] is not a string" });
  });

  it.each([
    ["system_account", 5, "nats.system_account is not a string"],
    ["strict_signing_key_usage", "yes", "nats.strict_signing_key_usage is not a boolean"],
    ["signing_keys", "OSK1", "nats.signing_keys is not an array"],
  ])("an operator's %s of the wrong type makes it undecodable", async (field, value, message) => {
    const t = await signClaims(
      { sub: operator.getPublicKey(), nats: { type: "operator", version: 2, [field]: value } },
      operator,
    );
    expect(parseOperator(t)).toEqual({ ok: false, error: message });
  });
});

describe("export type", () => {
  it("anything but service reads as a stream", () => {
    expect([exportTypeOf("service"), exportTypeOf("stream"), exportTypeOf("other")]).toEqual([
      "service",
      "stream",
      "stream",
    ]);
  });
});
