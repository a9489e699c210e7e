/**
 * Signing-key rotation: the tokens a key signed, their reissue commands (a key that stays, the
 * same subject and validity), and what removing the key would break.
 */
import { beforeAll, describe, expect, it } from "vitest";
import type { AccountDirectory } from "../../src/core/index.js";
import { nscTime } from "../../src/core/tokens.js";
import { rotation, type RotationResult } from "../../src/core/whatif/rotation.js";
import { createAccount } from "@nats-io/jwt";
import { signClaims, type KeyPair } from "../support/deployment.js";
import { DAY, buildFixture, directoryOf, proposal, type Fixture } from "../support/whatif-fixture.js";

const WEEK = 7 * DAY;
let fx: Fixture;
let dir: AccountDirectory;
beforeAll(async () => {
  fx = await buildFixture();
  dir = fx.directory();
});

const opts = () => ({ now: fx.now, expiryWarningSeconds: WEEK });
const key = (kp: KeyPair) => kp.getPublicKey();

function run(account: string, signingKey: string, remove = false, d = dir): RotationResult {
  const outcome = rotation(d, { account, signingKey, remove }, opts());
  if (!outcome.ok) throw new Error(outcome.error);
  return outcome.result;
}

describe("the tokens a key signed", () => {
  it("lists every token sk0 signed, in any importer, with its diagnosis today", () => {
    const r = run("EXP", key(fx.sk0));
    expect(r).toMatchObject({
      account: fx.exp.id,
      account_name: "EXP",
      current: true,
      remove: false,
      changes: [],
      remove_commands: [],
    });
    expect(r.tokens.map((t) => [t.account_name, t.subject, t.status, t.token?.issuer])).toEqual([
      ["IMP1", "svc.a", "active", key(fx.sk0)],
      ["IMP2", "priv.b", "active", key(fx.sk0)],
    ]);
  });

  it("reissues each with the key that stays, the import's own subject and the same expiry, to the second", () => {
    const r = run(fx.exp.id, key(fx.sk0));
    expect(r.reissue_signer).toBe(key(fx.sk1));
    const priv = r.tokens.find((t) => t.subject === "priv.b")!;
    const expiry = nscTime(fx.now + 10 * DAY);
    expect(priv.reissue).toEqual([
      `# the token is written to ./IMP2-priv.b.activation.jwt in the current directory, where nsc add import reads it`,
      `nsc generate activation --account EXP --target-account ${fx.imp2.id} --subject priv.b --output-file IMP2-priv.b.activation.jwt --private-key ${key(fx.sk1)} --expiry '${expiry}'`,
      `nsc delete import --account IMP2 --subject priv.b --src-account ${fx.exp.id}`,
      `nsc add import --account IMP2 --token IMP2-priv.b.activation.jwt --name priv`,
      `nsc push --account IMP2`,
    ]);
    // no expiry on the old token: none on the new one
    expect(r.tokens.find((t) => t.subject === "svc.a")!.reissue[1]).toMatch(
      new RegExp(`--private-key ${key(fx.sk1)}$`),
    );
  });

  it("with no other signing key, signs with the identity key and says so", async () => {
    const claims = fx.exporterClaims();
    const onlyOne = directoryOf(fx.op, fx.all);
    onlyOne.upsert(await proposal(fx.exp, claims, { signingKeys: [fx.sk0] }));
    const r = run("EXP", key(fx.sk0), false, onlyOne);
    expect(r.reissue_signer).toBe(fx.exp.id);
    expect(r.tokens[0]!.reissue[1]).toMatch(new RegExp(`--private-key ${fx.exp.id}$`));
    expect(r.notes.join(" ")).toMatch(/no other signing key/);
  });

  it("a key no longer on the account: its tokens are already untrusted", async () => {
    const rotated = directoryOf(fx.op, fx.all);
    rotated.upsert(await proposal(fx.exp, fx.exporterClaims(), { signingKeys: [fx.sk1] }));
    const r = run("EXP", key(fx.sk0), false, rotated);
    expect(r.current).toBe(false);
    expect(r.tokens.map((t) => t.cause)).toEqual(["activation_signer_untrusted", "activation_signer_untrusted"]);
    expect(r.notes.join(" ")).toMatch(/already untrusted/);
  });

  it("an expired token is renewed for as long as it lasted, not re-expired", async () => {
    const imp = await fx.op.account("OLD");
    // issued 31 days ago for 30 days
    const nats = { type: "activation", version: 2, subject: "priv.o", kind: "stream", issuer_account: fx.exp.id };
    const token = await signClaims({ sub: imp.id, iat: fx.now - 31 * DAY, exp: fx.now - DAY, nats }, fx.sk0);
    await imp.reissue({ imports: [{ name: "p", account: fx.exp.id, subject: "priv.o", type: "stream", token }] });
    const d = directoryOf(fx.op, [...fx.all, imp]);
    const t = run("EXP", key(fx.sk0), false, d).tokens.find((x) => x.account === imp.id)!;
    expect(t.cause).toBe("activation_expired");
    expect(t.reissue[1]).toMatch(/--private-key \w+ --expiry 30d$/);
  });
});

describe("remove: what would break", () => {
  it("removing sk0 breaks exactly the imports whose tokens it signed", () => {
    const r = run("EXP", key(fx.sk0), true);
    expect(r.changes.map((c) => [c.account_name, c.subject, c.cause, c.breaks])).toEqual([
      ["IMP1", "svc.a", "activation_signer_untrusted", true],
      ["IMP2", "priv.b", "activation_signer_untrusted", true],
    ]);
    expect(r.remove_commands).toEqual([`nsc edit account --name EXP --rm-sk ${key(fx.sk0)}`, "nsc push --account EXP"]);
    expect(r.notes.join(" ")).toMatch(/Users of EXP/);
  });

  it("removing sk1 breaks IMP3's import only", () => {
    const r = run("EXP", key(fx.sk1), true);
    expect(r.changes.map((c) => [c.account_name, c.subject, c.breaks])).toEqual([["IMP3", "priv.c", true]]);
    expect(r.reissue_signer).toBe(key(fx.sk0));
  });

  it("leaves the directory as it was", () => {
    run("EXP", key(fx.sk0), true);
    expect([...dir.get(fx.exp.id)!.claims!.signingKeys.keys()]).toContain(key(fx.sk0));
    expect(run("EXP", key(fx.sk0)).tokens.filter((t) => t.status !== "active")).toEqual([]);
  });
});

describe("requests it cannot answer", () => {
  it.each<[string, () => [string, string, boolean], string, RegExp]>([
    ["an unknown account", () => ["NOPE", key(fx.sk0), false], "not_found", /^account: no account "NOPE" is known/],
    ["the identity key", () => ["EXP", fx.exp.id, false], "invalid", /^signing_key: that is EXP's identity key/],
    [
      "removing a key the account does not have",
      () => ["EXP", createAccount().getPublicKey(), true],
      "not_found",
      /^signing_key: A\w+ is not a signing key of EXP$/,
    ],
  ])("%s", (_n, args, kind, message) => {
    const [account, signingKey, remove] = args();
    const outcome = rotation(dir, { account, signingKey, remove }, opts());
    expect(outcome.ok).toBe(false);
    if (!outcome.ok) {
      expect(outcome.kind).toBe(kind);
      expect(outcome.error).toMatch(message);
    }
  });

  it("a key the account does not have, without remove: an answer with no tokens", () => {
    const r = run("EXP", createAccount().getPublicKey());
    expect(r).toMatchObject({ current: false, tokens: [] });
  });
});
