/**
 * How the directory files an account JWT, checked as nats-server checks the JWT it fetches for an
 * account (server/server.go's fetchAccountClaims: the claims' subject must be the account asked
 * for, or the account is not loaded): a JWT filed under another account's id, a JWT whose subject
 * is no account key, an undecodable JWT under a name that is no account key. And what it takes from
 * the operators it trusts: strict signing-key usage per operator, the system account, `$JS.API.>`.
 */
import { createUser } from "@nats-io/nkeys";
import { beforeAll, describe, expect, it } from "vitest";
import { AccountDirectory, AccountRejected, OperatorTrust, exactExport } from "../../src/core/directory.js";
import { diagnoseAll } from "../../src/core/index.js";
import { ImportMonitor } from "../../src/core/monitor.js";
import { TestOperator, forgeSignature, nowSec, signClaims, type TestAccount } from "../support/deployment.js";
import { SCENARIOS } from "../support/scenarios.js";

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

  it("a misfiled JWT stays unloadable when the operators change: the server was never told another id", async () => {
    const own = new OperatorTrust();
    own.addOperator(op.jwt);
    const monitor = new ImportMonitor(own, 7 * 86400);
    const now = nowSec();
    monitor.applyAccount(other.id, exporter.jwt, now);
    monitor.applyAccount(importer.id, importer.jwt, now);
    const before = monitor.diagnoses().map((d) => [d.status, d.cause]);
    expect(before).toEqual([["inactive", "source_account_not_found"]]);
    const second = await TestOperator.create({ name: "SECOND" });
    expect(monitor.retrust([op.jwt, second.jwt], now)).toEqual([]);
    expect(monitor.diagnoses().map((d) => [d.status, d.cause])).toEqual(before);
    expect(monitor.directory.get(exporter.id)?.problem?.kind).toBe("wrong_account");
  });

  it("an account JWT read from a file, with its line end, is its account's and loads", () => {
    const dir = new AccountDirectory(trust);
    dir.upsert(`${exporter.jwt}\n`, exporter.id);
    dir.upsert(`${importer.jwt}\r\n`, importer.id);
    expect(dir.get(exporter.id)?.problem).toBeNull();
    expect(diagnoseAll(dir, opts(), [importer.id]).map((d) => [d.status, d.cause])).toEqual([["active", null]]);
  });

  it("an import from an account that does not export its subject is not approved by another account's export of it", async () => {
    const bystander = await op.account("BYSTANDER", { exports: [{ name: "f", subject: "f.a", type: "stream" }] });
    const wrongSource = await op.account("IMP2", {
      imports: [{ name: "f", account: exporter.id, subject: "f.a", type: "stream" }],
    });
    const dir = new AccountDirectory(trust);
    for (const a of [exporter, bystander, wrongSource]) dir.upsert(a.jwt, a.id);
    const [d] = diagnoseAll(dir, opts(), [wrongSource.id]);
    expect([d?.status, d?.cause]).toEqual(["inactive", "export_not_found"]);
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

describe("what the directory takes from the operators", () => {
  const SELF_SIGNED = SCENARIOS.find(
    (sc) => sc.name === "token signed by the exporter's own key, naming it as issuer_account",
  )!;

  it("strict signing-key usage is the operator's own: under a strict one a token signed by the exporter's identity key is untrusted, under another trusted beside it the same token is fine", async () => {
    const strict = await TestOperator.create({ signingKey: true, name: "STRICT" });
    await strict.reissue({ strict_signing_key_usage: true });
    const plain = await TestOperator.create({ signingKey: true, name: "PLAIN" });
    const underStrict = await SELF_SIGNED.build(strict);
    const underPlain = await SELF_SIGNED.build(plain);
    const trust = new OperatorTrust();
    trust.addOperator(strict.jwt);
    trust.addOperator(plain.jwt);
    const dir = new AccountDirectory(trust);
    for (const a of [...underStrict.accounts, ...underPlain.accounts]) dir.upsert(a.jwt);
    expect(dir.accounts().filter((e) => e.problem !== null)).toEqual([]);
    const verdicts = diagnoseAll(dir, opts(), [underStrict.importer.id, underPlain.importer.id]);
    expect(verdicts.map((d) => [d.account, d.status, d.cause, d.message])).toEqual([
      [
        underStrict.importer.id,
        "inactive",
        "activation_signer_untrusted",
        expect.stringContaining(
          `it is signed by ${underStrict.exporter.id}, which is not one of the source account's current signing keys`,
        ),
      ],
      [underPlain.importer.id, "active", null, expect.any(String)],
    ]);
  });

  it("an operator JWT read from a file, with its line end, is trusted", async () => {
    const op = await TestOperator.create();
    const trust = new OperatorTrust();
    trust.addOperator(`${op.jwt}\n`);
    expect(trust.trusts(op.key.getPublicKey())).toBe(true);
    expect(trust.systemAccount).toBe(op.system.id);
  });

  it("the system account gets the server's exports, and $JS.API.> only where the servers run JetStream", async () => {
    const op = await TestOperator.create();
    for (const jetStream of [false, true]) {
      const trust = new OperatorTrust();
      trust.addOperator(op.jwt);
      if (jetStream) trust.jetStreamApi = true;
      const dir = new AccountDirectory(trust);
      dir.upsert(op.system.jwt);
      const exports = dir.exportsOf(op.system.id)!;
      expect(exactExport(exports, "service", "$SYS.REQ.ACCOUNT.*.CONNZ")?.subject).toBe("$SYS.REQ.ACCOUNT.*.CONNZ");
      expect(exactExport(exports, "service", "$JS.API.>") !== undefined).toBe(jetStream);
    }
  });

  it("the same operators in another order are no change; another operator is", async () => {
    const a = await TestOperator.create({ name: "A" });
    const b = await TestOperator.create({ name: "B" });
    const c = await TestOperator.create({ name: "C" });
    const trust = new OperatorTrust();
    trust.addOperator(a.jwt);
    trust.addOperator(b.jwt);
    const monitor = new ImportMonitor(trust, 7 * 86400);
    expect(monitor.retrust([b.jwt, a.jwt], nowSec())).toBeNull();
    expect(monitor.retrust([a.jwt, c.jwt], nowSec())).toEqual([]);
    expect(monitor.directory.trust.trusts(c.key.getPublicKey())).toBe(true);
    expect(monitor.directory.trust.trusts(b.key.getPublicKey())).toBe(false);
  });
});
