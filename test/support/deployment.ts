/**
 * Builder of operator-mode NATS deployments (operator, accounts, users, activation tokens) made
 * with @nats-io/jwt — no nsc. Everything here is real key material and real signatures; tests can
 * also craft unusual JWTs with `signClaims`.
 *
 * Every key made here signs through node:crypto (fast-keys.ts): the same signatures, without the
 * milliseconds per signature of the pure-JS signer, so building a catalogue does not depend on how
 * busy the machine is.
 *
 * Notes on @nats-io/jwt 0.0.11 (read from node_modules/@nats-io/jwt/lib/jwt.js):
 *  - `encode()` always overwrites `iss` (signer public key) and `iat` (`Math.floor(Date.now()/1000)`,
 *    i.e. whole seconds), then sets `jti` = standard base64 (with `+/=`) of SHA-512 over the JSON of
 *    the claims (which already contain `iat`, but not `jti`). So two JWTs with identical claims issued
 *    within the same second get the same `jti` AND the same `iat` — relevant for revocation tests
 *    (revoked when `revocations[x] >= iat`, second granularity): wait a second or set `iat` yourself
 *    with `signClaims`. Go's jwt uses base32 SHA-512/256 for `jti`; the server does not check it.
 *  - `encodeAccount/encodeOperator/encodeActivation` MUTATE the `nats` object they are given
 *    (`type`, `version`, `issuer_account`, `kind` are written into it). We always pass clones.
 *  - `encodeAccount(name, akp, claims)` WITHOUT `opts.signer` self-signs with the account key, which
 *    a server in operator mode rejects; we always pass the operator (signing) key as signer.
 *  - `encodeUser` without `scopedUser` fills `{data:-1,payload:-1,subs:-1}` and no `pub`/`sub`
 *    permissions, i.e. an unrestricted user (unless the account sets `default_permissions`).
 *  - `encodeActivation(name, subject, issuer, kind, data, {signer})` puts `issuer_account = issuer`
 *    when a signer is given, and writes `nats.kind` (v2) — matching what nsc produces.
 */
import { createHash } from "node:crypto";
import { base32 } from "@nats-io/nkeys/lib/base32.js";
import {
  Algorithms,
  createAccount,
  createOperator,
  createUser,
  encodeAccount,
  encodeActivation,
  encodeOperator,
  encodeUser,
  fmtCreds,
  type Account,
  type Export,
  type Import,
  type KeyPair,
  type Operator,
  type User,
} from "@nats-io/jwt";

import { fast } from "./fast-keys.js";

export type { Account, KeyPair } from "@nats-io/jwt";

/** Current time in JWT units (whole seconds since the epoch). */
export function nowSec(): number {
  return Math.floor(Date.now() / 1000);
}

function clone<T>(v: T): T {
  return structuredClone(v);
}

// ---------------------------------------------------------------------------------------------
// Low-level signing
// ---------------------------------------------------------------------------------------------

/** RFC 4648 base32 without padding, as Go's jwt writes `jti` (the nkeys codec's own base32). */
function base32NoPad(bytes: Uint8Array): string {
  return new TextDecoder().decode(base32.encode(bytes));
}

export const V2_HEADER = Object.freeze({ typ: "JWT", alg: Algorithms.v2 });

/**
 * Signs arbitrary claims as a NATS v2 JWT: `base64url(header).base64url(claims).base64url(sig)`
 * where `sig = ed25519(signer, "<header>.<claims>")` — exactly what nats-io/jwt v2 verifies.
 *
 * Nothing about the payload is validated or rewritten, so tests can build anything (wrong kind,
 * wrong sub, `iss` that is not the signer → signature check fails on the server, ...). Only absent
 * fields are filled: `iss` (signer public key), `iat` (now, seconds) and `jti` (base32 of
 * SHA-512/256 over the claims JSON without `jti`, like Go's jwt). Remember v2 claims need
 * `nats.version: 2` and `nats.type` ("account" | "activation" | "user" | "operator").
 * `header` may be overridden (e.g. a v1 `alg` to test rejection).
 */
export async function signClaims(
  payload: object,
  signer: KeyPair,
  header: Record<string, unknown> = V2_HEADER,
): Promise<string> {
  const claims: Record<string, unknown> = { ...(payload as Record<string, unknown>) };
  if (claims["iss"] === undefined) claims["iss"] = signer.getPublicKey();
  if (claims["iat"] === undefined) claims["iat"] = nowSec();
  if (claims["jti"] === undefined) {
    const digest = createHash("sha512-256").update(JSON.stringify(claims)).digest();
    claims["jti"] = base32NoPad(digest);
  }
  const h = Buffer.from(JSON.stringify(header)).toString("base64url");
  const b = Buffer.from(JSON.stringify(claims)).toString("base64url");
  const sig = signer.sign(new TextEncoder().encode(`${h}.${b}`));
  return `${h}.${b}.${Buffer.from(sig).toString("base64url")}`;
}

/** Decodes a JWT WITHOUT verifying its signature (for inspecting/mutating in tests). */
export function decodeUnverified<T = Record<string, unknown>>(
  jwt: string,
): { header: Record<string, unknown>; claims: T } {
  const parts = jwt.split(".");
  if (parts.length !== 3) throw new Error(`not a JWT: ${parts.length} parts`);
  const parse = (s: string): unknown => JSON.parse(Buffer.from(s, "base64url").toString("utf8"));
  return { header: parse(parts[0]!) as Record<string, unknown>, claims: parse(parts[1]!) as T };
}

/** Same header and claims, but the signature is made by a random key: verification must fail. */
export function forgeSignature(jwt: string): string {
  const [h, b] = jwt.split(".");
  const rogue = createAccount();
  const sig = rogue.sign(new TextEncoder().encode(`${h}.${b}`));
  return `${h}.${b}.${Buffer.from(sig).toString("base64url")}`;
}

// ---------------------------------------------------------------------------------------------
// Operator / accounts
// ---------------------------------------------------------------------------------------------

/**
 * Unlimited account limits, as `nsc add account` writes them. They are REQUIRED in practice: the
 * server reads an absent `limits` object as all zeros (Go zero values), i.e. `conn: 0` → "maximum
 * account active connections exceeded", `imports: 0`/`exports: 0`, `wildcards: false`. @nats-io/jwt
 * does not add them, so every account built here gets these, overridden by `claims.limits`.
 * (Use `signClaims` to build an account JWT without them.)
 */
export function defaultAccountLimits(): NonNullable<Account["limits"]> {
  return {
    subs: -1,
    data: -1,
    payload: -1,
    imports: -1,
    exports: -1,
    wildcards: true,
    conn: -1,
    leaf: -1,
  };
}

/**
 * Account claims as tests write them: nats-io/jwt's, and what the server reads beyond its types
 * (imports and exports without a name, subject mappings), so that tests need no casts.
 */
export type AccountClaims = Omit<Partial<Account>, "imports" | "exports"> & {
  imports?: ImportClaim[];
  exports?: ExportClaim[];
  mappings?: Record<string, { subject: string; weight?: number; cluster?: string }[]>;
};

export type ImportClaim = Omit<Import, "name"> & { name?: string };
export type ExportClaim = Omit<Export, "name"> & { name?: string };

/** Operator claims as tests write them: with strict signing-key usage, which nats-io/jwt's types lack. */
export type OperatorClaims = Partial<Operator> & { strict_signing_key_usage?: boolean };

export interface AccountOptions {
  /** Signing keys to generate (number) or to use (KeyPair[]). Their public keys are appended to
   *  the JWT's `signing_keys`. On `reissue`, absent = keep the current ones. */
  signingKeys?: number | KeyPair[];
  /** JWT `exp` (seconds). On `reissue`, absent key = keep; present but undefined = remove. */
  exp?: number;
  /** JWT `nbf` (seconds). Same carry-over rule as `exp`. */
  nbf?: number;
  /** Key that signs the account JWT; default: operator signing key if any, else operator key. */
  issuer?: KeyPair;
}

export class TestAccount {
  readonly name: string;
  readonly key: KeyPair;
  readonly id: string;
  readonly operator: TestOperator;
  signingKeys: KeyPair[] = [];
  /** The claims of the current JWT (without the generated signing keys). */
  claims: AccountClaims = {};
  jwt = "";
  exp: number | undefined;
  nbf: number | undefined;

  /** @internal use `TestOperator.account()` */
  constructor(operator: TestOperator, name: string, key: KeyPair = fast(createAccount())) {
    this.operator = operator;
    this.name = name;
    this.key = key;
    this.id = key.getPublicKey();
  }

  /**
   * Re-signs a new JWT for the same account key (to change exports, imports, signing keys, ...).
   * `claims` replaces the previous claims when given. Updates `this.jwt` and returns it.
   * The new JWT is NOT pushed anywhere — use `pushAccount`.
   */
  async reissue(claims?: AccountClaims, opts: AccountOptions = {}): Promise<string> {
    if (claims !== undefined) this.claims = clone(claims);
    if (opts.signingKeys !== undefined) {
      this.signingKeys =
        typeof opts.signingKeys === "number"
          ? Array.from({ length: opts.signingKeys }, () => fast(createAccount()))
          : [...opts.signingKeys];
    }
    if ("exp" in opts) this.exp = opts.exp;
    if ("nbf" in opts) this.nbf = opts.nbf;

    const nats = clone(this.claims);
    nats.limits = { ...defaultAccountLimits(), ...(nats.limits ?? {}) };
    const sks = [...(nats.signing_keys ?? [])];
    for (const kp of this.signingKeys) {
      const pk = kp.getPublicKey();
      if (!sks.some((s) => (typeof s === "string" ? s : s.key) === pk)) sks.push(pk);
    }
    if (sks.length > 0) nats.signing_keys = sks;

    const encOpts: { signer: KeyPair; exp?: number; nbf?: number } = {
      signer: opts.issuer ?? this.operator.accountSigner,
    };
    if (this.exp !== undefined) encOpts.exp = this.exp;
    if (this.nbf !== undefined) encOpts.nbf = this.nbf;
    // The one place claims meet nats-io/jwt's narrower types: it encodes whatever it is given.
    this.jwt = await encodeAccount(this.name, this.key, nats as Partial<Account>, encOpts);
    return this.jwt;
  }

  /**
   * A creds file (text) for a fresh user of this account, without permission restrictions.
   * `signer`: one of this account's signing keys (then `issuer_account` is set), default the
   * account key itself (its first signing key under a strict operator).
   */
  async userCreds(opts: { signer?: KeyPair; name?: string; user?: Partial<User> } = {}): Promise<string> {
    const ukp = fast(createUser());
    // A strict operator's server trusts no account's identity key for users: sign with a signing key.
    const signer = opts.signer ?? (this.operator.strict ? this.signingKeys[0] : undefined);
    const encOpts = signer ? { signer } : {};
    const jwt = await encodeUser(opts.name ?? `${this.name}-user`, ukp, this.key, clone(opts.user ?? {}), encOpts);
    return new TextDecoder().decode(fmtCreds(jwt, ukp));
  }
}

export class TestOperator {
  readonly name: string;
  readonly key: KeyPair;
  readonly id: string;
  /** Operator signing key (signs accounts) when created with `{ signingKey: true }`. */
  readonly signingKey: KeyPair | null;
  jwt = "";
  /** The system account "SYS". */
  system!: TestAccount;
  /** The operator JWT demands strict signing-key usage (set by `reissue`). */
  strict = false;

  private constructor(name: string, key: KeyPair, signingKey: KeyPair | null) {
    this.name = name;
    this.key = key;
    this.id = key.getPublicKey();
    this.signingKey = signingKey;
  }

  static async create(opts: { signingKey?: boolean; name?: string } = {}): Promise<TestOperator> {
    const op = new TestOperator(
      opts.name ?? "TEST_OP",
      fast(createOperator()),
      opts.signingKey ? fast(createOperator()) : null,
    );
    op.system = await op.account("SYS");
    await op.reissue();
    return op;
  }

  /** The key that signs account JWTs by default. */
  get accountSigner(): KeyPair {
    return this.signingKey ?? this.key;
  }

  /** Re-signs the operator JWT (system_account + signing key), optionally with extra claims. */
  async reissue(extra: OperatorClaims = {}): Promise<string> {
    const claims: OperatorClaims = { system_account: this.system.id, ...clone(extra) };
    this.strict = extra.strict_signing_key_usage === true;
    if (this.signingKey) {
      const sks = [...(claims.signing_keys ?? [])];
      if (!sks.includes(this.signingKey.getPublicKey())) sks.push(this.signingKey.getPublicKey());
      claims.signing_keys = sks;
    }
    this.jwt = await encodeOperator(this.name, this.key, claims);
    return this.jwt;
  }

  /**
   * Creates a new account signed by this operator (not pushed anywhere yet). Under a strict
   * operator it gets one signing key unless told otherwise, so its users can connect.
   */
  async account(name: string, claims: AccountClaims = {}, opts: AccountOptions = {}): Promise<TestAccount> {
    const acc = new TestAccount(this, name);
    await acc.reissue(claims, { ...opts, signingKeys: opts.signingKeys ?? (this.strict ? 1 : 0) });
    return acc;
  }
}

/**
 * An activation token letting `importerId` import `subject` of `kind` from `exporter`.
 * Signed by the exporter's account key, or by `opts.signer` (then `issuer_account` = exporter id;
 * the server only trusts it if the signer is one of the exporter's current signing keys).
 */
export async function activation(
  exporter: TestAccount,
  importerId: string,
  subject: string,
  kind: "stream" | "service",
  opts: { signer?: KeyPair; exp?: number; nbf?: number; name?: string } = {},
): Promise<string> {
  const encOpts: { signer?: KeyPair; exp?: number; nbf?: number } = {};
  if (opts.signer) encOpts.signer = opts.signer;
  if (opts.exp !== undefined) encOpts.exp = opts.exp;
  if (opts.nbf !== undefined) encOpts.nbf = opts.nbf;
  return encodeActivation(opts.name ?? subject, importerId, exporter.key, kind, { subject }, encOpts);
}
