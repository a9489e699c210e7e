/**
 * A small deployment for the what-if and audit tests: one exporter with public and private
 * exports and two signing keys, importers using each kind of export and each signer, one export
 * nobody imports, and one import that only comes close to an export.
 *
 *   EXP  exports  pub.>   stream, public
 *                 priv.>  stream, private
 *                 svc.>   service, private
 *                 unused.> stream, public        (nobody imports it)
 *                 narrow.x.> stream, public      (NEAR imports narrow.>: subject_mismatch)
 *        signing keys sk0, sk1
 *   IMP1 imports  pub.a; priv.a (token by EXP's identity key, no expiry); svc.a (token by sk0, no expiry)
 *   IMP2 imports  pub.b; priv.b (token by sk0, expires in 10 days)
 *   IMP3 imports  priv.c (token by sk1, expires in 40 days); pub.c with a token (ignored: public export), expires in 5 days
 *   NEAR imports  narrow.> (more than EXP exports)
 */
import type { Export, Import } from "@nats-io/jwt";
import { AccountDirectory, OperatorTrust } from "../../src/core/index.js";
import {
  activation,
  nowSec,
  TestOperator,
  type AccountClaims,
  type AccountOptions,
  type KeyPair,
  type TestAccount,
} from "./deployment.js";

export const DAY = 86400;

export interface Fixture {
  op: TestOperator;
  now: number;
  exp: TestAccount;
  sk0: KeyPair;
  sk1: KeyPair;
  imp1: TestAccount;
  imp2: TestAccount;
  imp3: TestAccount;
  near: TestAccount;
  all: TestAccount[];
  /** A fresh directory of every account's current JWT. */
  directory(): AccountDirectory;
  /** The exporter's current claims, cloned, for a proposed change. */
  exporterClaims(): { exports: Export[] } & Record<string, unknown>;
}

export const EXPORTS: Partial<Export>[] = [
  { name: "pub", subject: "pub.>", type: "stream" },
  { name: "priv", subject: "priv.>", type: "stream", token_req: true },
  { name: "svc", subject: "svc.>", type: "service", token_req: true },
  { name: "unused", subject: "unused.>", type: "stream" },
  { name: "narrow", subject: "narrow.x.>", type: "stream" },
];

export async function buildFixture(op?: TestOperator): Promise<Fixture> {
  const operator = op ?? (await TestOperator.create());
  const now = nowSec();
  const exp = await operator.account("EXP", { exports: EXPORTS as Export[] }, { signingKeys: 2 });
  const [sk0, sk1] = exp.signingKeys as [KeyPair, KeyPair];
  const imp1 = await operator.account("IMP1");
  await imp1.reissue({
    imports: [
      { name: "pub", account: exp.id, subject: "pub.a", type: "stream" },
      {
        name: "priv",
        account: exp.id,
        subject: "priv.a",
        type: "stream",
        token: await activation(exp, imp1.id, "priv.>", "stream"),
      },
      {
        name: "svc",
        account: exp.id,
        subject: "svc.a",
        type: "service",
        token: await activation(exp, imp1.id, "svc.a", "service", { signer: sk0 }),
      },
    ] as Import[],
  });
  const imp2 = await operator.account("IMP2");
  await imp2.reissue({
    imports: [
      { name: "pub", account: exp.id, subject: "pub.b", type: "stream" },
      {
        name: "priv",
        account: exp.id,
        subject: "priv.b",
        type: "stream",
        token: await activation(exp, imp2.id, "priv.b", "stream", { signer: sk0, exp: now + 10 * DAY }),
      },
    ] as Import[],
  });
  const imp3 = await operator.account("IMP3");
  await imp3.reissue({
    imports: [
      {
        name: "priv",
        account: exp.id,
        subject: "priv.c",
        type: "stream",
        token: await activation(exp, imp3.id, "priv.c", "stream", { signer: sk1, exp: now + 40 * DAY }),
      },
      {
        name: "pub",
        account: exp.id,
        subject: "pub.c",
        type: "stream",
        token: await activation(exp, imp3.id, "pub.c", "stream", { exp: now + 5 * DAY }),
      },
    ] as Import[],
  });
  const near = await operator.account("NEAR");
  await near.reissue({
    imports: [{ name: "narrow", account: exp.id, subject: "narrow.>", type: "stream" }] as Import[],
  });
  const all = [operator.system, exp, imp1, imp2, imp3, near];
  return {
    op: operator,
    now,
    exp,
    sk0,
    sk1,
    imp1,
    imp2,
    imp3,
    near,
    all,
    directory: () => directoryOf(operator, all),
    exporterClaims: () => structuredClone(exp.claims) as { exports: Export[] } & Record<string, unknown>,
  };
}

export function directoryOf(op: TestOperator, accounts: TestAccount[]): AccountDirectory {
  const trust = new OperatorTrust();
  trust.addOperator(op.jwt);
  const dir = new AccountDirectory(trust);
  for (const a of accounts) dir.upsert(a.jwt);
  return dir;
}

/** A re-signed JWT of `account` with other claims, leaving the account as it was (its JWT not replaced). */
export async function proposal(
  account: TestAccount,
  claims: AccountClaims,
  opts: AccountOptions = {},
): Promise<string> {
  const saved = {
    jwt: account.jwt,
    claims: account.claims,
    signingKeys: account.signingKeys,
    exp: account.exp,
    nbf: account.nbf,
  };
  const jwt = await account.reissue(claims, opts);
  Object.assign(account, saved);
  return jwt;
}
