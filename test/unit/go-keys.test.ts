/**
 * JWT keys as jwt's Go decoder files them (src/core/jwt/go-keys.ts): a key that is no tag is read
 * under the tag it equals case-insensitively ("ſ" as "s", the Kelvin sign as "k"), the last key
 * filed under a tag wins, and the keys of maps (revocations, mappings, tiers) stay as written.
 * Measured on every pinned server: test/integration/json-key-case.test.ts.
 */
import { describe, expect, it } from "vitest";
import { createAccount, createOperator } from "@nats-io/nkeys";
import { CLAIMS_SHAPE, HEADER_SHAPE, withGoKeys } from "../../src/core/jwt/go-keys.js";
import { decodeUncached, peekClaims } from "../../src/core/jwt/decode.js";
import { parseAccount } from "../../src/core/jwt/claims.js";
import { signClaims } from "../support/deployment.js";

const operator = createOperator();

describe("withGoKeys", () => {
  it("files a key under the tag it equals case-insensitively; the last one filed wins", () => {
    expect(withGoKeys({ TYP: "JWT", Alg: "ed25519-nkey" }, HEADER_SHAPE)).toEqual({ typ: "JWT", alg: "ed25519-nkey" });
    expect(withGoKeys({ typ: "JWT", Typ: "JWS" }, HEADER_SHAPE)).toEqual({ typ: "JWS" });
    expect(withGoKeys({ Typ: "JWS", typ: "JWT" }, HEADER_SHAPE)).toEqual({ typ: "JWT" });
    expect(withGoKeys({ TYP: "a", tYp: "b", other: 1, Typ: "c" }, HEADER_SHAPE)).toEqual({ typ: "c", other: 1 });
    // A key that is no tag in any case stays as written.
    expect(withGoKeys({ Typx: "JWT", Other: 1 }, HEADER_SHAPE)).toEqual({ Typx: "JWT", Other: 1 });
  });

  it("renames a key whose only capital is an A", () => {
    // The quick test before folding (mayFold) must let every capital through, the A included.
    expect(withGoKeys({ nats: { imports: [{ Account: "X" }] } }, CLAIMS_SHAPE)).toEqual({
      nats: { imports: [{ account: "X" }] },
    });
    expect(withGoKeys({ nAts: { tYpe: "account" } }, CLAIMS_SHAPE)).toEqual({ nats: { type: "account" } });
  });

  it("folds ſ onto s and the Kelvin sign onto k, and nothing else onto a letter", () => {
    const o = withGoKeys(
      {
        "\u017fub": "S",
        nats: { signing_keys: [{ kind: "user_scope", "\u212Aey": "K" }], "\u0130ssuer_account": "no" },
      },
      CLAIMS_SHAPE,
    );
    expect(o).toEqual({
      sub: "S",
      nats: { signing_keys: [{ kind: "user_scope", key: "K" }], "\u0130ssuer_account": "no" },
    });
  });

  it("reaches every object the engine reads, and leaves the keys of maps as written", () => {
    const o = withGoKeys(
      {
        Nats: {
          Imports: [{ Account: "A", SUBJECT: "i" }, "junk"],
          Exports: [{ Subject: "e", Revocations: { Abc: 1, "*": 2 } }],
          Limits: { Imports: 1, Tiered_Limits: { R1: { Mem_Storage: 1 }, r3: { DISK_STORAGE: 2 } } },
          Mappings: { "Map.Me": [{ Subject: "to", Weight: 50, Cluster: "c" }] },
          Signing_Keys: ["KEY", { kind: "user_scope", Key: "K" }, { Kind: "user_scope", key: "L" }],
        },
      },
      CLAIMS_SHAPE,
    );
    expect(o).toEqual({
      nats: {
        imports: [{ account: "A", subject: "i" }, "junk"],
        exports: [{ subject: "e", revocations: { Abc: 1, "*": 2 } }],
        limits: { imports: 1, tiered_limits: { R1: { mem_storage: 1 }, r3: { disk_storage: 2 } } },
        mappings: { "Map.Me": [{ subject: "to", weight: 50, cluster: "c" }] },
        // A scope's kind is looked up in a Go map by its exact name: "Kind" is no kind.
        signing_keys: ["KEY", { kind: "user_scope", key: "K" }, { Kind: "user_scope", key: "L" }],
      },
    });
  });
});

describe("every tag the engine reads", () => {
  // Each field the engine reads, in lower case as jwt tags it; map keys ("m", "r1") are no tags.
  const tags = {
    iss: 1,
    sub: 1,
    name: 1,
    iat: 1,
    exp: 1,
    nbf: 1,
    type: 1,
    nats: {
      type: 1,
      version: 1,
      signing_keys: [{ key: 1 }],
      imports: [
        { name: 1, type: 1, subject: 1, account: 1, token: 1, to: 1, local_subject: 1, share: 1, allow_trace: 1 },
      ],
      exports: [
        {
          name: 1,
          type: 1,
          subject: 1,
          token_req: 1,
          account_token_position: 1,
          revocations: { r1: 1 },
          response_type: 1,
          allow_trace: 1,
        },
      ],
      mappings: { m: [{ subject: 1, weight: 1, cluster: 1 }] },
      limits: {
        imports: 1,
        exports: 1,
        wildcards: 1,
        mem_storage: 1,
        disk_storage: 1,
        tiered_limits: { r1: { mem_storage: 1, disk_storage: 1 } },
      },
      system_account: 1,
      strict_signing_key_usage: 1,
      operator_service_urls: 1,
      issuer_account: 1,
      subject: 1,
      kind: 1,
    },
  };
  const upper = (v: unknown): unknown =>
    Array.isArray(v)
      ? v.map(upper)
      : typeof v === "object" && v !== null
        ? Object.fromEntries(
            Object.entries(v).map(([k, e]) => [k === "m" || k === "r1" ? k : k.toUpperCase(), upper(e)]),
          )
        : v;

  it("is read in upper case too", () => {
    expect(withGoKeys(upper(tags) as Record<string, unknown>, CLAIMS_SHAPE)).toEqual(tags);
  });
});

describe("through the decoder", () => {
  it("a header and claims in other cases decode as jwt decodes them; a later Typ of JWS is refused", async () => {
    const account = createAccount();
    const jwt = await signClaims(
      {
        SUB: account.getPublicKey(),
        Nats: { TYPE: "account", Version: 2, Limits: { Exports: -1 }, EXPORTS: [{ Subject: "x.>", Type: "service" }] },
      },
      operator,
      { Typ: "jwt", ALG: "ed25519-nkey" },
    );
    const parsed = parseAccount(jwt);
    expect(
      parsed.ok && [parsed.claims.subject, parsed.claims.limits.exports, parsed.claims.exports[0]?.subject],
    ).toEqual([account.getPublicKey(), -1, "x.>"]);
    expect(peekClaims(jwt)?.["sub"]).toBe(account.getPublicKey());
    const refused = await signClaims({ sub: account.getPublicKey(), nats: { type: "account", version: 2 } }, operator, {
      typ: "JWT",
      alg: "ed25519-nkey",
      TYP: "JWS",
    });
    expect(decodeUncached(refused)).toEqual({ ok: false, error: 'not supported type "JWS"' });
  });
});
