/**
 * Turns a fuzz deployment into real, signed JWTs with the test deployment builder: account keys
 * derived from the seed, tokens signed by the identity key or a (scoped, plain or removed) signing
 * key, revocations before or after the tokens' `iat`, `exp`/`nbf` relative to now.
 */
import { Codec } from "@nats-io/nkeys/lib/codec.js";
import { Prefix, fromSeed, type KeyPair } from "@nats-io/nkeys";
import {
  TestAccount,
  TestOperator,
  activation,
  nowSec,
  signClaims,
  type AccountClaims,
  type ExportClaim,
  type ImportClaim,
} from "../support/deployment.js";
import { fast, identityPointSigner } from "../support/fast-keys.js";
import { JETSTREAM_LIMITS } from "../support/jetstream.js";
import { withKeysInCase } from "./key-case.js";
import { Rng, type FuzzDeployment, type FuzzExport, type FuzzImport, type FuzzMapping, type OddKey } from "./model.js";

/** Revocations are this far from the tokens' `iat`, so that signing time never decides. */
const REVOCATION_MARGIN = 600;

export interface RealizedImport {
  account: number;
  index: number;
  name: string;
  /** The import as declared in the JWT, placeholders replaced. */
  claim: { type: "stream" | "service"; subject: string; local_subject?: string; to?: string; share?: boolean };
  /** The source account (the system account for `from: "system"`). */
  exporter: TestAccount;
  importer: TestAccount;
}

export interface Realized {
  op: TestOperator;
  accounts: TestAccount[];
  /** Accounts to push, in order (the system account is preloaded instead). */
  pushed: TestAccount[];
  /** Pushed accounts to delete once loaded (`$SYS.REQ.CLAIMS.DELETE`). */
  deleted: TestAccount[];
  imports: RealizedImport[];
  /** Unix seconds the relative times were resolved against. */
  now: number;
}

function keyFrom(r: Rng, prefix: Prefix = Prefix.Account): KeyPair {
  return fast(fromSeed(Codec.encodeSeed(prefix, r.bytes(32))));
}

/**
 * A signing key that is no whole key (model.ts `OddKey`): 16, 31 or 33 bytes of 7s, or the identity
 * point. It "signs" with R the identity and S zero, which Go's ed25519 takes as valid for the identity
 * point whatever the data; for the other lengths that is 64 zero bytes no verifier can take.
 */
function oddKey(kind: OddKey): KeyPair {
  if (kind === "small-order") return identityPointSigner();
  const publicKey = new TextDecoder().decode(Codec.encode(Prefix.Account, new Uint8Array(kind).fill(7)));
  const signature = new Uint8Array(64);
  // Only what signClaims asks of a signer.
  return { getPublicKey: () => publicKey, sign: () => signature } as unknown as KeyPair;
}

/** An activation token "signed" by a key that is no whole key: the claims jwt would write, by hand. */
async function oddActivation(
  exporter: TestAccount,
  importerId: string,
  subject: string,
  kind: "stream" | "service",
  signer: KeyPair,
  times: { exp?: number; nbf?: number },
): Promise<string> {
  return signClaims(
    {
      name: subject,
      sub: importerId,
      ...(times.exp !== undefined ? { exp: times.exp } : {}),
      ...(times.nbf !== undefined ? { nbf: times.nbf } : {}),
      nats: { subject, issuer_account: exporter.id, kind, type: "activation", version: 2 },
    },
    signer,
  );
}

/** The account's subject mappings as the JWT carries them (placeholders filled). */
function mappingClaims(
  mappings: FuzzMapping[],
  fillIn: (s: string) => string,
): Record<string, { subject: string; weight?: number }[]> {
  return Object.fromEntries(
    mappings.map((m) => [
      fillIn(m.source),
      m.destinations.map((d) => ({
        subject: fillIn(d.subject),
        ...(d.weight !== undefined ? { weight: d.weight } : {}),
      })),
    ]),
  );
}

function fill(subject: string, importerId: string, other: string): string {
  return subject.replaceAll("%IMPORTER%", importerId).replaceAll("%OTHER%", other);
}

export async function realize(d: FuzzDeployment, seed: number): Promise<Realized> {
  const r = new Rng(seed ^ 0x5bd1e995);
  const now = nowSec();
  const op = await TestOperator.create({ signingKey: true });
  const other = keyFrom(r).getPublicKey();
  const accounts = d.accounts.map((a) => new TestAccount(op, a.name, keyFrom(r)));
  // Odd keys draw nothing, so the other keys stay those of earlier runs' seeds.
  const signingKeys = d.accounts.map((a) => a.signing_keys.map((k) => (k.odd ? oddKey(k.odd) : keyFrom(r))));
  const stranger = keyFrom(r).getPublicKey();
  const sourceOf = (imp: FuzzImport) => (imp.from === "system" ? op.system : accounts[imp.from]!);

  const exportClaims = (exports: FuzzExport[]) =>
    exports.map((e, i) => {
      const claim: Record<string, unknown> = { name: `e${i}`, type: e.type, subject: e.subject };
      if (e.token_req) claim["token_req"] = true;
      if (e.account_token_position !== undefined) claim["account_token_position"] = e.account_token_position;
      if (e.response_type) claim["response_type"] = e.response_type;
      if (e.latency) claim["latency"] = { sampling: 100, results: `latency.e${i}` };
      if (e.revocations) {
        claim["revocations"] = Object.fromEntries(
          e.revocations.map((v) => [
            v.who === "*" ? "*" : (accounts[v.who] ?? op.system).id,
            now + (v.at === "after" ? REVOCATION_MARGIN : -REVOCATION_MARGIN),
          ]),
        );
      }
      return claim;
    });

  if (d.system_exports.length > 0)
    await op.system.reissue({ exports: exportClaims(d.system_exports) as ExportClaim[] });
  // Operator signing-key changes: a key added to the operator JWT since, and one it no longer lists.
  // Drawn last from their own stream, so the keys above stay those of earlier runs' seeds.
  const opKeys = new Rng(seed ^ 0x2c1b3c6d);
  const added = keyFrom(opKeys, Prefix.Operator);
  const retired = keyFrom(opKeys, Prefix.Operator);
  if (d.accounts.some((a) => a.signer === "added-signing-key"))
    await op.reissue({ signing_keys: [added.getPublicKey()] });
  const issuerOf = (a: FuzzDeployment["accounts"][number]): KeyPair | undefined =>
    a.signer === "operator-identity"
      ? op.key
      : a.signer === "added-signing-key"
        ? added
        : a.signer === "retired-signing-key"
          ? retired
          : undefined;

  const imports: RealizedImport[] = [];
  for (const [i, a] of d.accounts.entries()) {
    const importer = accounts[i]!;
    const claims: Record<string, unknown>[] = [];
    for (const [index, imp] of a.imports.entries()) {
      const exporter = sourceOf(imp);
      const claim: RealizedImport["claim"] = { type: imp.type, subject: fill(imp.subject, importer.id, other) };
      if (imp.local_subject !== undefined) claim.local_subject = fill(imp.local_subject, importer.id, other);
      if (imp.to !== undefined) claim.to = fill(imp.to, importer.id, other);
      if (imp.share) claim.share = true;
      const jwtImport: Record<string, unknown> = { name: imp.name, account: exporter.id, ...claim };
      if (imp.token) {
        const t = imp.token;
        const keys = imp.from === "system" ? [] : signingKeys[imp.from]!;
        const signer = t.signer === "identity" ? undefined : keys[t.signer];
        const times = {
          ...(t.exp !== undefined ? { exp: now + t.exp } : {}),
          ...(t.nbf !== undefined ? { nbf: now + t.nbf } : {}),
        };
        const to = t.to === "importer" ? importer.id : stranger;
        const subject = fill(t.subject, importer.id, other);
        const odd =
          imp.from !== "system" && t.signer !== "identity" && d.accounts[imp.from]!.signing_keys[t.signer]?.odd;
        const token =
          odd && signer
            ? await oddActivation(exporter, to, subject, imp.type, signer, times)
            : await activation(exporter, to, subject, imp.type, { ...(signer ? { signer } : {}), ...times });
        jwtImport["token"] = a.key_case ? withKeysInCase(token, a.key_case, signer ?? exporter.key) : token;
      }
      claims.push(jwtImport);
      imports.push({ account: i, index, name: imp.name, claim, exporter, importer });
    }
    const listed = a.signing_keys.flatMap((k, n) => {
      if (k.removed) return [];
      const pk = signingKeys[i]![n]!.getPublicKey();
      return [k.scoped ? { kind: "user_scope", key: pk, role: "fuzz", template: {} } : pk];
    });
    // The model's claims are JSON built field by field; their shape is the JWT's.
    const nats: AccountClaims = { exports: exportClaims(a.exports) as ExportClaim[], imports: claims as ImportClaim[] };
    if (listed.length > 0) nats.signing_keys = listed as NonNullable<AccountClaims["signing_keys"]>;
    if (a.import_limit !== undefined) nats.limits = { imports: a.import_limit };
    if (a.cluster_traffic !== undefined) (nats as Record<string, unknown>)["cluster_traffic"] = a.cluster_traffic;
    if (a.jetstream) nats.limits = { ...nats.limits, ...JETSTREAM_LIMITS };
    if (a.mappings && a.mappings.length > 0)
      nats.mappings = mappingClaims(a.mappings, (x) => fill(x, importer.id, other));
    const issuer = issuerOf(a);
    await importer.reissue(nats, {
      ...(issuer ? { issuer } : {}),
      ...(a.exp !== undefined ? { exp: now + a.exp } : {}),
      ...(a.nbf !== undefined ? { nbf: now + a.nbf } : {}),
    });
    if (a.key_case) importer.jwt = withKeysInCase(importer.jwt, a.key_case, issuer ?? op.accountSigner);
  }
  return {
    op,
    accounts,
    pushed: accounts.filter((_, i) => d.accounts[i]!.pushed),
    deleted: accounts.filter((_, i) => d.accounts[i]!.pushed && d.accounts[i]!.deleted),
    imports,
    now,
  };
}
