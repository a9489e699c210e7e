/**
 * Bad JWTs are reported, never trusted, and never escape as an exception: garbage, truncated,
 * forged, wrongly typed, wrongly shaped, or signed by an operator nobody trusts.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { createAccount, createOperator, encodeAccount, encodeUser, createUser } from "@nats-io/jwt";
import { AccountDirectory, OperatorTrust, accountErrors, decodeJwt, diagnoseAll } from "../../src/core/index.js";
import {
  TestOperator,
  activation,
  forgeSignature,
  nowSec,
  signClaims,
  type TestAccount,
} from "../support/deployment.js";

const opts = () => ({ now: nowSec(), expiryWarningSeconds: 7 * 86400 });

describe("bad account JWTs", () => {
  let op: TestOperator;
  let exporter: TestAccount;
  let trust: OperatorTrust;

  beforeAll(async () => {
    op = await TestOperator.create();
    exporter = await op.account("EXP", { exports: [{ name: "e", subject: "e.>", type: "stream" }] });
    trust = new OperatorTrust();
    trust.addOperator(op.jwt);
  });

  const variants: [string, (jwt: string) => Promise<string> | string, RegExp][] = [
    ["garbage", () => "not a jwt at all", /expected 3 chunks/],
    ["truncated", (jwt) => jwt.slice(0, Math.floor(jwt.length / 2)), /chunks|base64url|JSON|signature/],
    ["forged signature", (jwt) => forgeSignature(jwt), /signature verification/],
    ["a user JWT instead", async () => encodeUser("u", createUser(), exporter.key), /not account claims \(user\)/],
    [
      "imports of the wrong JSON type",
      async () =>
        signClaims(
          { sub: exporter.id, name: "X", nats: { type: "account", version: 2, imports: "everything" } },
          op.key,
        ),
      /nats\.imports is not an array/,
    ],
    [
      "an import subject that is a number",
      async () =>
        signClaims(
          {
            sub: exporter.id,
            nats: { type: "account", version: 2, imports: [{ subject: 7, account: exporter.id, type: "stream" }] },
          },
          op.key,
        ),
      /imports\[0\]\.subject is not a string/,
    ],
    ["no claim version", async () => signClaims({ sub: exporter.id, nats: { type: "account" } }, op.key), /version/],
  ];

  it.each(variants)("%s: filed under its key, it is an account error naming the account", async (_n, make, reason) => {
    const dir = new AccountDirectory(trust);
    const { entry } = dir.upsert(await make(exporter.jwt), exporter.id);
    expect(entry.problem?.message).toMatch(reason);
    expect(accountErrors(dir)).toEqual([{ account: exporter.id, account_name: null, error: entry.problem!.message }]);
  });

  it.each(variants)("%s: without a key to file it under, a one-line error", async (_n, make, reason) => {
    const dir = new AccountDirectory(trust);
    const jwt = await make(exporter.jwt);
    expect(() => dir.upsert(jwt)).toThrow(/^account JWT rejected: [^\n]+$/);
    expect(() => dir.upsert(jwt)).toThrow(reason);
    expect(dir.accounts()).toEqual([]);
  });

  it("an importer of a rejected account learns why the source cannot be loaded", async () => {
    const importer = await op.account("IMP", {
      imports: [{ name: "e", account: exporter.id, subject: "e.a", type: "stream" }],
    });
    const dir = new AccountDirectory(trust);
    dir.upsert(forgeSignature(exporter.jwt), exporter.id);
    dir.upsert(importer.jwt);
    const [d] = diagnoseAll(dir, opts());
    expect(d!.cause).toBe("source_account_not_found");
    expect(d!.message).toMatch(/signature verification/);
  });

  it("an account signed by an operator nobody trusts is reported with its issuer", async () => {
    const rogue = createOperator();
    const akp = createAccount();
    const jwt = await encodeAccount("ROGUE", akp, { limits: { imports: -1, exports: -1 } }, { signer: rogue });
    const dir = new AccountDirectory(trust);
    const { entry } = dir.upsert(jwt);
    expect(entry.problem?.kind).toBe("untrusted_issuer");
    expect(entry.problem?.message).toContain(rogue.getPublicKey());
  });

  it("under strict signing-key usage the operator's own key signs no account", async () => {
    const strict = await TestOperator.create({ signingKey: true });
    await strict.reissue({ strict_signing_key_usage: true });
    const t = new OperatorTrust();
    t.addOperator(strict.jwt);
    const bySigningKey = await strict.account("OK");
    const byIdentity = await strict.account("NOT", {}, { issuer: strict.key });
    const dir = new AccountDirectory(t);
    expect(dir.upsert(bySigningKey.jwt).entry.problem).toBeNull();
    expect(dir.upsert(byIdentity.jwt).entry.problem?.kind).toBe("untrusted_issuer");
  });

  it("a garbage or self-signed operator JWT is a one-line error", async () => {
    expect(() => new OperatorTrust().addOperator("x.y.z")).toThrow(/^operator JWT rejected: /);
    const notSelfSigned = await signClaims(
      { sub: createOperator().getPublicKey(), nats: { type: "operator", version: 2 } },
      createOperator(),
    );
    expect(() => new OperatorTrust().addOperator(notSelfSigned)).toThrow(/not self-signed/);
  });
});

describe("bad activation tokens inside an import", () => {
  let op: TestOperator;
  let exporter: TestAccount;

  beforeAll(async () => {
    op = await TestOperator.create();
    exporter = await op.account("EXP", { exports: [{ name: "p", subject: "p.>", type: "stream", token_req: true }] });
  });

  async function causeWithToken(token: (importerId: string) => Promise<string> | string) {
    const importer = await op.account("IMP");
    await importer.reissue({
      imports: [{ name: "p", account: exporter.id, subject: "p.a", type: "stream", token: await token(importer.id) }],
    });
    const trust = new OperatorTrust();
    trust.addOperator(op.jwt);
    const dir = new AccountDirectory(trust);
    dir.upsert(exporter.jwt);
    dir.upsert(importer.jwt);
    const [d] = diagnoseAll(dir, opts());
    return d!;
  }

  it.each([
    ["garbage", () => "garbage"],
    ["truncated", async (id: string) => (await activation(exporter, id, "p.>", "stream")).slice(0, 40)],
    ["forged", async (id: string) => forgeSignature(await activation(exporter, id, "p.>", "stream"))],
    ["an account JWT instead", () => exporter.jwt],
    ["for a service", (id: string) => activation(exporter, id, "p.>", "service")],
    ["for another subject", (id: string) => activation(exporter, id, "q.>", "stream")],
  ] as [string, (id: string) => Promise<string> | string][])(
    "%s token → activation_invalid, the whole JWT unloadable",
    async (_n, token) => {
      const d = await causeWithToken(token);
      expect(d.cause).toBe("activation_invalid");
      expect(d.status).toBe("inactive");
      // The token itself is never echoed back.
      expect(JSON.stringify(d)).not.toMatch(/eyJ[A-Za-z0-9_-]{20,}\.[A-Za-z0-9_-]{20,}\./);
    },
  );
});

describe("decodeJwt never throws", () => {
  it("on thousands of mutations of a real JWT", async () => {
    const op = await TestOperator.create();
    const jwt = (await op.account("A", { imports: [], exports: [{ name: "x", subject: "x", type: "stream" }] })).jwt;
    let seed = 42;
    const rand = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
    const alphabet = 'AZaz09-_.={}":, \u0000é';
    let rejected = 0;
    for (let i = 0; i < 3000; i++) {
      const chars = [...jwt];
      for (let k = 0; k <= rand(4); k++) chars[rand(chars.length)] = alphabet[rand(alphabet.length)]!;
      const result = decodeJwt(chars.join(""));
      if (!result.ok) rejected++;
    }
    expect(rejected).toBeGreaterThan(2900);
  });
});
