/**
 * Typed views of verified operator, account and activation claims. The payload of a verified JWT
 * is still input: every field is checked for its type here, as Go's json.Unmarshal into the jwt
 * structs would, and a wrongly typed field makes the whole JWT undecodable.
 */
import { decodeJwt, jwtDigest, releasePayload, type DecodeResult, type VerifiedJwt } from "./decode.js";
import type { Failure } from "../result.js";
import { shared } from "../strings.js";

export type ExportType = "stream" | "service";

/** The type an import or export is reported as: anything but "service" reads as a stream (validation reports a bad type). */
export function exportTypeOf(type: string): ExportType {
  return type === "service" ? "service" : "stream";
}

export interface ImportClaim {
  /** Position in the account's `imports` array; the identity of an import within its account. */
  index: number;
  name: string | null;
  /** As declared; anything but "stream"/"service" is a validation error, kept for the report. */
  type: string;
  subject: string;
  account: string;
  /**
   * The activation token, null when the import has none. Parsed claims keep, for a token that
   * decodes, only its identity (its jwtDigest; importActivation holds what it says): the text of
   * every token was the largest string a large directory kept. A token that does not decode keeps
   * its text, for the report to show what it claims.
   */
  token: string | null;
  /** Deprecated `to`: for a service, the exporter-side subject; for a stream, a prefix. */
  to: string | null;
  localSubject: string | null;
  share: boolean;
  allowTrace: boolean;
}

export interface ExportClaim {
  index: number;
  name: string | null;
  type: string;
  subject: string;
  tokenReq: boolean;
  accountTokenPosition: number;
  /** Importer public key (or "*") → unix seconds: tokens issued at or before it are revoked. */
  revocations: ReadonlyMap<string, number>;
  responseType: string | null;
  allowTrace: boolean;
}

/** One destination of a subject mapping. */
export interface MappingDestination {
  subject: string;
  /** As the jwt library's GetWeight reads it: an absent or 0 weight is 100. */
  weight: number;
  /** As written, 0 when absent: jwt before v2.8.1 adds a destination of a cluster so (validate.ts). */
  written: number;
  /** Only servers of this cluster use it. */
  cluster: string | null;
}

/** One entry of the account's `mappings`: what its clients publish on `source` goes to the destinations. */
export interface MappingClaim {
  source: string;
  destinations: MappingDestination[];
}

interface TimedClaims {
  issuer: string;
  subject: string;
  name: string;
  issuedAt: number;
  /** Unix seconds, 0 when absent. */
  expires: number;
  notBefore: number;
}

export interface AccountClaims extends TimedClaims {
  /** The JWT's identity (jwtDigest of its text); the text itself is not kept. */
  digest: string;
  /** The account's signing keys; `scoped` ones carry a user scope template. */
  signingKeys: ReadonlyMap<string, "plain" | "scoped">;
  imports: ImportClaim[];
  exports: ExportClaim[];
  /** In the JWT's key order (the server installs them in Go's map order). */
  mappings: MappingClaim[];
  /**
   * `jetStream`: the JWT grants JetStream storage (the server enables JetStream for the account);
   * `blankTier`: its tiered limits name a tier "" (jwt refuses the JWT).
   */
  limits: { imports: number; exports: number; wildcardExports: boolean; jetStream: boolean; blankTier: boolean };
  /**
   * Why jwt (v2.7.3 on) refuses the account's `cluster_traffic`: not "", "system" or "owner", or
   * not a string. Absent when it is fine or not written.
   */
  clusterTrafficIssue?: string;
}

export interface ActivationClaims extends TimedClaims {
  issuerAccount: string | null;
  importSubject: string;
  kind: string;
}

export interface OperatorClaims extends TimedClaims {
  token: string;
  signingKeys: string[];
  systemAccount: string | null;
  strictSigningKeyUsage: boolean;
}

export type Parsed<T> = { ok: true; claims: T } | Failure;

/** A field of the wrong JSON type: the message names the field. */
class ShapeError extends Error {}

type Obj = Record<string, unknown>;

const isObject = (value: unknown): value is Obj => typeof value === "object" && value !== null && !Array.isArray(value);

function obj(value: unknown, field: string): Obj {
  if (value === undefined || value === null) return {};
  if (!isObject(value)) throw new ShapeError(`${field} is not an object`);
  return value;
}
function str(o: Obj, key: string, field: string): string {
  const v = o[key];
  if (v === undefined || v === null) return "";
  if (typeof v !== "string") throw new ShapeError(`${field}.${key} is not a string`);
  return v;
}
/**
 * Every number of these claims is an integer in Go (int64 times, limits and revocations; a uint
 * token position; a uint8 weight): json.Unmarshal refuses a fraction or a number past int64, and
 * so the whole JWT. Beyond 2^53 a double cannot tell 2^63 - 1 (fine) from 2^63 (refused): that one
 * edge is read as fine. (A whole number written `1.0` or `1e3` is also refused by Go; JSON.parse
 * no longer shows how it was written.)
 */
const INT64_LIMIT = 2 ** 63;

function num(o: Obj, key: string, field: string): number {
  const v = o[key];
  if (v === undefined || v === null) return 0;
  if (typeof v !== "number") throw new ShapeError(`${field}.${key} is not a number`);
  if (!Number.isInteger(v) || v < -INT64_LIMIT || v > INT64_LIMIT)
    throw new ShapeError(`${field}.${key} is not a whole number of 64 bits`);
  return v;
}
function bool(o: Obj, key: string, field: string): boolean {
  const v = o[key];
  if (v === undefined || v === null) return false;
  if (typeof v !== "boolean") throw new ShapeError(`${field}.${key} is not a boolean`);
  return v;
}
function arr(o: Obj, key: string, field: string): unknown[] {
  const v = o[key];
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new ShapeError(`${field}.${key} is not an array`);
  return v;
}
const orNull = (s: string): string | null => (s === "" ? null : s);

function timed(p: Obj): TimedClaims {
  return {
    // Issuers and account ids are named again by every import and token: one copy of each.
    issuer: shared(str(p, "iss", "jwt")),
    subject: shared(str(p, "sub", "jwt")),
    name: str(p, "name", "jwt"),
    issuedAt: num(p, "iat", "jwt"),
    expires: num(p, "exp", "jwt"),
    notBefore: num(p, "nbf", "jwt"),
  };
}

function parseImport(value: unknown, index: number): ImportClaim {
  const f = `imports[${index}]`;
  const o = obj(value, f);
  return keepTokenParsed({
    index,
    name: orNull(shared(str(o, "name", f))),
    type: str(o, "type", f),
    subject: shared(str(o, "subject", f)),
    account: shared(str(o, "account", f)),
    token: orNull(str(o, "token", f)),
    to: orNull(str(o, "to", f)),
    localSubject: orNull(str(o, "local_subject", f)),
    share: bool(o, "share", f),
    allowTrace: bool(o, "allow_trace", f),
  });
}

/**
 * Parse the import's token now (while the decode memo holds the verdict a verification thread
 * filed for it) and keep, of one that decodes, its digest instead of its text: at 100,000 accounts
 * the tokens' text was ~120 MB that nothing read again. importActivation answers from what it
 * parsed here, for this very object.
 */
function keepTokenParsed(imp: ImportClaim): ImportClaim {
  // A digest (base64: "+", "/", "=", no ".") is never a token that decodes, and is one flat string.
  if (imp.token !== null && importActivation(imp)?.ok) imp.token = jwtDigest(imp.token);
  return imp;
}

/**
 * Do two imports carry the same token? Exact: a token that decodes is compared by its digest, and
 * never equals one that does not (whose text is kept, and might read like a digest).
 */
export function sameToken(a: ImportClaim, b: ImportClaim): boolean {
  return a.token === b.token && (a.token === null || importActivation(a)?.ok === importActivation(b)?.ok);
}

function parseRevocations(value: unknown, field: string): Map<string, number> {
  const o = obj(value, field);
  const out = new Map<string, number>();
  for (const key of Object.keys(o)) out.set(key, num(o, key, field));
  return out;
}

function parseExport(value: unknown, index: number): ExportClaim {
  const f = `exports[${index}]`;
  const o = obj(value, f);
  const position = num(o, "account_token_position", f);
  if (position < 0) throw new ShapeError(`${f}.account_token_position is negative (a uint in Go)`);
  return {
    index,
    name: orNull(shared(str(o, "name", f))),
    type: str(o, "type", f),
    subject: shared(str(o, "subject", f)),
    tokenReq: bool(o, "token_req", f),
    accountTokenPosition: position,
    revocations: parseRevocations(o["revocations"], `${f}.revocations`),
    responseType: orNull(str(o, "response_type", f)),
    allowTrace: bool(o, "allow_trace", f),
  };
}

/** A weight is a uint8 in Go: anything else makes the JWT undecodable. */
function weightOf(o: Obj, field: string): number {
  const w = num(o, "weight", field);
  if (w < 0 || w > 255) throw new ShapeError(`${field}.weight is not a whole number from 0 to 255`);
  return w;
}

const NO_MAPPINGS: MappingClaim[] = [];

function parseMappings(value: unknown): MappingClaim[] {
  const o = obj(value, "nats.mappings");
  const sources = Object.keys(o);
  if (sources.length === 0) return NO_MAPPINGS;
  return sources.map((source) => {
    const f = `nats.mappings[${JSON.stringify(source)}]`;
    const list = o[source] === null || o[source] === undefined ? [] : o[source];
    if (!Array.isArray(list)) throw new ShapeError(`${f} is not an array`);
    return {
      source,
      destinations: list.map((d, i) => {
        const e = obj(d, `${f}[${i}]`);
        const written = weightOf(e, `${f}[${i}]`);
        return {
          subject: str(e, "subject", `${f}[${i}]`),
          weight: written === 0 ? 100 : written,
          written,
          cluster: orNull(str(e, "cluster", `${f}[${i}]`)),
        };
      }),
    };
  });
}

/** Shared by every account without signing keys (most of them); read-only by its type. */
const NO_SIGNING_KEYS: ReadonlyMap<string, "plain" | "scoped"> = new Map();

function parseSigningKeys(values: unknown[]): ReadonlyMap<string, "plain" | "scoped"> {
  if (values.length === 0) return NO_SIGNING_KEYS;
  const keys = new Map<string, "plain" | "scoped">();
  values.forEach((v, i) => {
    if (typeof v === "string") keys.set(v, "plain");
    else if (isObject(v)) {
      if (v["kind"] !== "user_scope") throw new ShapeError(`signing_keys[${i}] has an unknown scope kind`);
      keys.set(str(v, "key", `signing_keys[${i}]`), "scoped");
    }
    // jwt's SigningKeys.UnmarshalJSON reads strings and objects only: null, a number, a boolean or
    // a list in the array is skipped, and the JWT decodes (the server stores it).
  });
  return keys;
}

function limitsOf(nats: Obj): AccountClaims["limits"] {
  // Go decodes an absent field as zero, not as "no limit" (-1): an account JWT without limits
  // allows no imports and no exports, and the server rejects it if it declares any.
  const l = obj(nats["limits"], "nats.limits");
  const imports = num(l, "imports", "nats.limits");
  const exports = num(l, "exports", "nats.limits");
  const wildcardExports = bool(l, "wildcards", "nats.limits");
  const tiers = obj(l["tiered_limits"], "nats.limits.tiered_limits");
  return {
    imports,
    exports,
    wildcardExports,
    jetStream: grantsJetStream(l, tiers),
    blankTier: Object.hasOwn(tiers, ""),
  };
}

/** Memory or disk storage other than 0 (-1 is unlimited); both are read, as json.Unmarshal reads both. */
function hasStorage(limits: Obj, field: string): boolean {
  const memory = num(limits, "mem_storage", field);
  const disk = num(limits, "disk_storage", field);
  return memory !== 0 || disk !== 0;
}

/**
 * As the server decides it (jwt's OperatorLimits.IsJSEnabled): with tiered limits, a tier with
 * storage, whatever the untiered limits say (jwt's decoder clears them, so the two together are no
 * validation error: measured, test/integration/account-validation.test.ts); without them, the
 * untiered storage. A tier of streams and consumers but no storage grants nothing.
 */
function grantsJetStream(l: Obj, tiers: Obj): boolean {
  const untiered = hasStorage(l, "nats.limits");
  const names = Object.keys(tiers);
  if (names.length === 0) return untiered;
  const field = (tier: string) => `nats.limits.tiered_limits.${tier}`;
  // Every tier is read (not `some`): json.Unmarshal refuses a wrongly typed field in any of them.
  return names.map((tier) => hasStorage(obj(tiers[tier], field(tier)), field(tier))).includes(true);
}

/** The typed claims of a decoded JWT (decoded once by the caller: a load deferring its checks keeps no memo). */
function parseWith<T>(
  decoded: DecodeResult,
  kind: VerifiedJwt["kind"],
  build: (jwt: VerifiedJwt, nats: Obj) => T,
): Parsed<T> {
  if (!decoded.ok) return decoded;
  if (decoded.jwt.kind !== kind) return { ok: false, error: `not ${kind} claims (${decoded.jwt.kind})` };
  try {
    return { ok: true, claims: build(decoded.jwt, obj(decoded.jwt.payload["nats"], "nats")) };
  } catch (e) {
    if (e instanceof ShapeError) return { ok: false, error: e.message };
    throw e;
  } finally {
    releasePayload(decoded.jwt);
  }
}

export function parseAccount(token: string): Parsed<AccountClaims> {
  // Object.assign, not a spread: V8 gives every object spread from one with a double field (the
  // times, past the small-integer range) a hidden class of its own — 10,000 accounts, 10,000 maps.
  return parseWith(decodeJwt(token), "account", (jwt, nats) =>
    Object.assign(
      timed(jwt.payload),
      {
        digest: jwtDigest(token),
        signingKeys: parseSigningKeys(arr(nats, "signing_keys", "nats")),
        imports: arr(nats, "imports", "nats").map(parseImport),
        exports: arr(nats, "exports", "nats").map(parseExport),
        mappings: parseMappings(nats["mappings"]),
        limits: limitsOf(nats),
      },
      clusterTrafficIssueOf(nats),
    ),
  );
}

const CLUSTER_TRAFFIC = ["", "system", "owner"];

/** jwt's ClusterTraffic.Valid (a null or absent field is "", which is fine). */
function clusterTrafficIssueOf(nats: Obj): { clusterTrafficIssue?: string } {
  const value = nats["cluster_traffic"];
  if (value === undefined || value === null) return {};
  if (typeof value !== "string")
    return {
      clusterTrafficIssue: `cluster_traffic is ${Array.isArray(value) ? "a list" : `a ${typeof value}`}, not a string`,
    };
  if (CLUSTER_TRAFFIC.includes(value)) return {};
  const shown = value.length > 64 ? `${value.slice(0, 64)}…` : value;
  return { clusterTrafficIssue: `unknown cluster traffic option: ${JSON.stringify(shown)}` };
}

/**
 * Parsed activation claims per verified token. A token is read on every evaluation of its import
 * (validation, the evaluator, the monitor's time boundaries), so the claims are built once; the
 * entry lives as long as the decode memo keeps the verified JWT. The claims are frozen: shared.
 */
const activations = new WeakMap<VerifiedJwt, Parsed<ActivationClaims>>();

export function parseActivation(token: string): Parsed<ActivationClaims> {
  const decoded = decodeJwt(token);
  const known = decoded.ok ? activations.get(decoded.jwt) : undefined;
  if (known) return known;
  const parsed = parseWith(decoded, "activation", (jwt, nats) => {
    const t = timed(jwt.payload);
    // One literal, not Object.assign onto timed()'s: every field in the object itself (an assigned
    // field goes to a separate property array, 16 MB for the ~260,000 tokens of 100,000 accounts).
    // A token's name and subject, and the issuer account, repeat across tokens: one copy of each.
    return Object.freeze({
      issuer: t.issuer,
      subject: t.subject,
      name: shared(t.name),
      issuedAt: t.issuedAt,
      expires: t.expires,
      notBefore: t.notBefore,
      issuerAccount: orNull(shared(str(nats, "issuer_account", "nats"))),
      importSubject: shared(str(nats, "subject", "nats")),
      kind: shared(str(nats, "kind", "nats")),
    });
  });
  if (decoded.ok) activations.set(decoded.jwt, parsed);
  return parsed;
}

/**
 * The parsed token of each import, once: an import's token is read on every evaluation of it, and
 * the decode memo does not hold a whole load. Keyed by the import object (a copy with another token
 * is another object); the parse depends on the token alone.
 */
const importTokens = new WeakMap<ImportClaim, Parsed<ActivationClaims>>();

/** The parsed activation token of an import, or null when it has none. */
export function importActivation(imp: ImportClaim): Parsed<ActivationClaims> | null {
  if (!imp.token) return null;
  let parsed = importTokens.get(imp);
  if (!parsed) importTokens.set(imp, (parsed = parseActivation(imp.token)));
  return parsed;
}

/**
 * A copy of an import with other subjects (as the server installs it: account-hash.ts), keeping
 * its parsed token (a decodable token's text is not kept, so the copy could not parse it again).
 */
export function withSubjects(
  imp: ImportClaim,
  subjects: Pick<ImportClaim, "subject" | "localSubject" | "to">,
): ImportClaim {
  const copy: ImportClaim = { ...imp, ...subjects };
  const parsed = importActivation(imp);
  if (parsed) importTokens.set(copy, parsed);
  return copy;
}

/** An import's activation claims, or null when it has no token or it does not decode. */
export function activationOf(imp: ImportClaim): ActivationClaims | null {
  const parsed = importActivation(imp);
  return parsed?.ok ? parsed.claims : null;
}

export function parseOperator(token: string): Parsed<OperatorClaims> {
  return parseWith(decodeJwt(token), "operator", (jwt, nats) =>
    Object.assign(timed(jwt.payload), {
      token,
      signingKeys: arr(nats, "signing_keys", "nats").map((k, i) => {
        if (typeof k !== "string") throw new ShapeError(`nats.signing_keys[${i}] is not a string`);
        return k;
      }),
      systemAccount: orNull(str(nats, "system_account", "nats")),
      strictSigningKeyUsage: bool(nats, "strict_signing_key_usage", "nats"),
    }),
  );
}
