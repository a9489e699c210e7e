/**
 * How the directory files an account JWT, checked as nats-server checks the JWT it fetches for an
 * account (server/server.go's fetchAccountClaims: the claims' subject must be the account asked
 * for, or the account is not loaded): a JWT filed under another account's id, a JWT whose subject
 * is no account key, an undecodable JWT under a name that is no account key.
 */
import { createUser } from "@nats-io/nkeys";
import { beforeAll, describe, expect, it } from "vitest";
import { AccountDirectory, AccountRejected, OperatorTrust } from "../../src/core/directory.js";
import { diagnoseAll } from "../../src/core/index.js";
import { TestOperator, forgeSignature, nowSec, signClaims, type TestAccount } from "../support/deployment.js";

const opts = () => ({ now: nowSec(), expiryWarningSeconds: 7 * 86400 });

describe("filing account JWTs", () => {
  let op: TestOperator;
  let exporter: TestAccount;
  let importer: TestAccount;
  let other: TestAccount;
  let trust: OperatorTrust;

  beforeAll(async () => {
    op = await TestOperator.create();
    exporter = await op.account("EXP", { exports: [{ name: "e", subject: "e.>", type: "stream" }] });
    importer = await op.account("IMP", {
      imports: [{ name: "e", account: exporter.id, subject: "e.a", type: "stream" }],
    });
    other = await op.account("OTHER");
    trust = new OperatorTrust();
    trust.addOperator(op.jwt);
  });

  it("a JWT filed under another account's id is that account's, and the server will not load it", () => {
    const dir = new AccountDirectory(trust);
    const { entry } = dir.upsert(exporter.jwt, other.id);
    expect(entry.id).toBe(exporter.id);
    expect(entry.problem).toEqual({
      kind: "wrong_account",
      message: `the JWT filed under ${other.id} is for account ${exporter.id}`,
    });
    dir.upsert(importer.jwt, importer.id);
    expect(dir.get(importer.id)?.problem).toBeNull();
    const [d] = diagnoseAll(dir, opts(), [importer.id]);
    expect([d?.status, d?.cause, d?.message]).toEqual([
      "inactive",
      "source_account_not_found",
      expect.stringContaining(
        `its JWT is present but the server will not load it: the JWT filed under ${other.id} is for account ${exporter.id}`,
      ),
    ]);
  });

  it("the same JWT filed under its own id is loadable", () => {
    const dir = new AccountDirectory(trust);
    dir.upsert(exporter.jwt, exporter.id);
    dir.upsert(importer.jwt, importer.id);
    expect(dir.get(exporter.id)?.problem).toBeNull();
    expect(diagnoseAll(dir, opts(), [importer.id]).map((d) => [d.status, d.cause])).toEqual([["active", null]]);
  });

  it("an account JWT whose subject is no account key is filed nowhere", async () => {
    const user = createUser().getPublicKey();
    const jwt = await signClaims({ sub: user, name: "U", nats: { type: "account", version: 2 } }, op.key);
    const dir = new AccountDirectory(trust);
    expect(() => dir.upsert(jwt)).toThrow(AccountRejected);
    expect(() => dir.upsert(jwt)).toThrow(`account JWT rejected: its subject "${user}" is not an account public key`);
    expect(dir.accounts()).toEqual([]);
  });

  it("an undecodable JWT under a name that is no account key is filed nowhere", () => {
    const dir = new AccountDirectory(trust);
    expect(() => dir.upsert(forgeSignature(exporter.jwt), "EXP")).toThrow(
      "account JWT rejected: claim failed V2 signature verification",
    );
    expect(dir.accounts()).toEqual([]);
  });
});
