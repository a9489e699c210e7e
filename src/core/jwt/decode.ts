/**
 * Decoding and signature verification of NATS JWTs, following nats-io/jwt v2 `Decode`:
 * three base64url chunks, a `JWT` header with an ed25519(-nkey) algorithm, a claim whose kind and
 * version come from `nats.type`/`nats.version` (or a top-level `type` for v1), a valid Ed25519
 * signature by `iss`, and an issuer of a role allowed to sign that kind. Nothing is trusted before
 * the signature checks out; the last results are memoised per token string (a load's verification
 * threads hand theirs over through the memo).
 */
import { hash } from "node:crypto";
import { verifyEd25519 } from "./ed25519.js";
import { CLAIMS_SHAPE, HEADER_SHAPE, withGoKeys } from "./go-keys.js";
import { rawPublicKey, type KeyRole } from "./nkey.js";
import type { Failure } from "../result.js";

/** The largest token nats-io/jwt decodes (MaxTokenSize). */
export const MAX_TOKEN_BYTES = 1024 * 1024;
/** The highest claim version this code understands (jwt v2's libVersion). */
const LIB_VERSION = 2;

export type ClaimKind = "operator" | "account" | "user" | "activation" | "generic";

/**
 * The roles allowed to sign each kind (the claims' ExpectedPrefixes in nats-io/jwt). An account
 * JWT signed by an account key decodes: the resolver stores it and only loading the account fails
 * (the issuer is not trusted), as for a foreign operator's (scenario "importer JWT signed by its own
 * account key").
 */
const SIGNER_ROLES: Record<ClaimKind, KeyRole[]> = {
  operator: ["operator"],
  account: ["account", "operator"],
  user: ["account"],
  activation: ["account", "operator"],
  generic: ["operator", "account", "user", "server"],
};

export interface VerifiedJwt {
  token: string;
  kind: ClaimKind;
  version: number;
  /** The claim set, signature verified; its fields are still unchecked input. */
  payload: Record<string, unknown>;
  issuer: string;
}

export type DecodeResult = { ok: true; jwt: VerifiedJwt } | Failure;

const BASE64URL = /^[A-Za-z0-9_-]*$/;

function decodeChunk(chunk: string): Buffer | null {
  // Go's RawURLEncoding: URL alphabet, no padding, and a length that is not 1 mod 4.
  if (!BASE64URL.test(chunk) || chunk.length % 4 === 1) return null;
  return Buffer.from(chunk, "base64url");
}

function parseJsonObject(bytes: Buffer): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(bytes.toString("utf8"));
    return value !== null && typeof value === "object" && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : null;
  } catch {
    return null;
  }
}

function headerError(header: Record<string, unknown>): string | null {
  const typ = typeof header["typ"] === "string" ? header["typ"] : "";
  if (typ.toUpperCase() !== "JWT") return `not supported type "${typ}"`;
  const alg = typeof header["alg"] === "string" ? header["alg"].toLowerCase() : "";
  if (alg !== "ed25519" && alg !== "ed25519-nkey") return `unexpected "${String(header["alg"])}" algorithm`;
  return null;
}

function kindAndVersion(payload: Record<string, unknown>): { kind: ClaimKind; version: number; type: string } {
  const nats = payload["nats"];
  const natsObj = nats !== null && typeof nats === "object" ? (nats as Record<string, unknown>) : {};
  const topType = typeof payload["type"] === "string" ? payload["type"] : "";
  const type = topType !== "" ? topType : typeof natsObj["type"] === "string" ? natsObj["type"] : "";
  const version = topType !== "" ? 1 : typeof natsObj["version"] === "number" ? natsObj["version"] : 0;
  const kind: ClaimKind =
    type === "operator" || type === "account" || type === "user" || type === "activation" ? type : "generic";
  return { kind, version, type };
}

/**
 * Checks a signature over the signing input (header.claims, or the claims alone for v1):
 * verifyEd25519, or a verdict already reached on another thread.
 */
export type SignatureCheck = (issuer: string, raw: Uint8Array, signed: string, signature: Uint8Array) => boolean;

const verifySigned: SignatureCheck = (issuer, raw, signed, signature) =>
  verifyEd25519(issuer, raw, Buffer.from(signed, "utf8"), signature);

/**
 * The verdict on a header chunk (null: fine, else the error). Every JWT of a deployment carries one
 * of very few headers, so they are decoded once; the bound keeps hostile input from growing it.
 */
const headers = new Map<string, string | null>();
const MAX_HEADERS = 64;

function headerChunkError(chunk: string): string | null {
  const known = headers.get(chunk);
  if (known !== undefined) return known;
  const bytes = decodeChunk(chunk);
  const header = bytes && parseJsonObject(bytes);
  const error = header ? headerError(withGoKeys(header, HEADER_SHAPE)) : "header is not base64url-encoded JSON";
  if (headers.size < MAX_HEADERS && chunk.length <= 256) headers.set(chunk, error);
  return error;
}

/**
 * Decode and verify without the memo. `check` verifies the signature once everything before it
 * holds; it is not called for a token that fails earlier. (Verification threads pass their own.)
 */
export function decodeUncached(token: string, check: SignatureCheck = verifySigned): DecodeResult {
  if (typeof token !== "string") return { ok: false, error: "token is not a string" };
  if (token.length > MAX_TOKEN_BYTES) {
    return { ok: false, error: `token size ${token.length} exceeds maximum of ${MAX_TOKEN_BYTES} bytes` };
  }
  const chunks = token.split(".");
  if (chunks.length !== 3) return { ok: false, error: "expected 3 chunks" };
  const [headerChunk, payloadChunk, sigChunk] = chunks as [string, string, string];

  const badHeader = headerChunkError(headerChunk);
  if (badHeader) return { ok: false, error: badHeader };

  const payloadBytes = decodeChunk(payloadChunk);
  const payload = payloadBytes && claimsOf(payloadBytes);
  if (!payload) return { ok: false, error: "claims are not base64url-encoded JSON" };
  const { kind, version, type } = kindAndVersion(payload);
  if (version > LIB_VERSION) return { ok: false, error: "JWT was generated by a newer version" };
  if (kind !== "generic" && version < 1) {
    return { ok: false, error: `library supports version ${LIB_VERSION} or less - received ${version}` };
  }
  if (type === "cluster" || type === "server") return { ok: false, error: `${type} claims are not supported` };

  const signature = decodeChunk(sigChunk);
  if (!signature) return { ok: false, error: "signature is not base64url-encoded" };
  const issuer = typeof payload["iss"] === "string" ? payload["iss"] : "";
  const signed = version <= 1 ? payloadChunk : token.slice(0, headerChunk.length + payloadChunk.length + 1);
  const issuerRole = SIGNER_ROLES[kind].find((role) => rawPublicKey(issuer, role) !== null);
  const anyRole =
    issuerRole ?? (["operator", "account", "user", "server"] as KeyRole[]).find((r) => rawPublicKey(issuer, r));
  const raw = anyRole ? rawPublicKey(issuer, anyRole) : null;
  if (!raw || !check(issuer, raw, signed, signature)) {
    return { ok: false, error: `claim failed V${version <= 1 ? 1 : 2} signature verification` };
  }
  if (!issuerRole) {
    return {
      ok: false,
      error: `a ${kind} JWT cannot be signed by ${issuer} (expected a key of role ${SIGNER_ROLES[kind].join(" or ")})`,
    };
  }
  return { ok: true, jwt: new Verified(token, kind, version, payload, issuer) };
}

/**
 * A verified JWT as the memo keeps it. The parsed claim set is held only until the typed claims are
 * built from it (releasePayload): the memo outlives that, and at 10,000 accounts the parsed JSON
 * trees are tens of MB that nothing reads again. A later read parses the claims chunk again
 * (already verified: no signature check).
 */
class Verified implements VerifiedJwt {
  #payload: Record<string, unknown> | null;

  constructor(
    readonly token: string,
    readonly kind: ClaimKind,
    readonly version: number,
    payload: Record<string, unknown>,
    readonly issuer: string,
  ) {
    this.#payload = payload;
  }

  get payload(): Record<string, unknown> {
    return this.#payload ?? peekClaims(this.token) ?? {};
  }

  release(): void {
    this.#payload = null;
  }
}

/** Drop the parsed claim set a memoised JWT holds (its typed claims have been built). */
export function releasePayload(jwt: VerifiedJwt): void {
  if (jwt instanceof Verified) jwt.release();
}

const memo = new Map<string, DecodeResult>();
/**
 * The memo is bounded by count, and small: nothing is decoded twice in a load. A load's verification
 * threads file each account's results here just before it is decoded (decodeJwtVerified); the
 * directory keeps the typed claims of every account, and each import the parsed claims of its token
 * (importActivation), so the evaluations after the load decode nothing. Holding the whole load here
 * kept every JWT's text alive: ~500 MB at 100,000 accounts.
 */
const MEMO_SIZE = 4096;
// Real account JWTs and tokens are a few KB; huge ones (hostile or not) are not worth keeping.
const MAX_MEMO_TOKEN = 64 * 1024;

/**
 * Verifies a batch of account JWTs (and the activation tokens inside them) ahead of their
 * decoding, elsewhere — the shell's worker threads — and files each result with
 * decodeJwtVerified. The core calls settle(i) just before it decodes the i-th JWT of the batch and
 * stop() when the batch is done; results are the same with or without one, only faster.
 */
export interface AheadVerifier {
  settle(i: number): void;
  stop(): void;
  /** Checks the load may defer (only when it was started deferrable). */
  readonly deferred?: DeferredChecks | null;
}

/**
 * Signature checks a first load hands to another core instead of making them (ImportMonitor's
 * replaceAll): `check` returns true for a check it took (decoding goes on as if the signature
 * held) or the verdict itself for one it did not; `allHeld()` waits until every check taken has
 * been verified and says whether each held. When one did not, the load is redone without it.
 */
export interface DeferredChecks {
  check: SignatureCheck;
  allHeld(): boolean;
}

/**
 * Starts an AheadVerifier for a batch, or returns null when that would not pay. `deferrable`: the
 * load may take `deferred` checks (the directory is empty, so it can be redone from nothing).
 */
export type StartAheadVerifier = (jwts: readonly string[], deferrable: boolean) => AheadVerifier | null;

/** While a load defers its signature checks: what decodeJwt checks signatures with instead. */
let deferredCheck: SignatureCheck | null = null;

/**
 * Defer signature checks to `check` from now on (null: verify here again). Whatever is decoded
 * meanwhile is believed only once the checks are confirmed: a caller that finds one failed must
 * call forgetDecoded() and decode again.
 */
export function deferSignatureChecks(check: SignatureCheck | null): void {
  deferredCheck = check;
}

/** Forget every memoised decode (they were made with deferred checks, one of which failed). */
export function forgetDecoded(): void {
  memo.clear();
}

/**
 * Decode and verify a JWT; memoised per token string (bounded, oldest first out), except while a
 * load defers its signature checks: it decodes each JWT once, and nothing decoded then is to be
 * believed before the checks are confirmed. (Filing every JWT of a first load in the memo, each
 * hashed whole and the oldest evicted, cost ~4 µs a JWT on the loading thread.)
 */
export function decodeJwt(token: string): DecodeResult {
  if (deferredCheck) return decodeUncached(token, deferredCheck);
  const cached = memo.get(token);
  if (cached) return cached;
  return remember(token, decodeUncached(token, verifySigned));
}

/**
 * Decode a JWT whose signature another thread has verified (`signatureValid` is what
 * verifyEd25519 returned there, for this very token): everything else is checked here, and the
 * result is memoised as decodeJwt's would be.
 */
export function decodeJwtVerified(token: string, signatureValid: boolean): DecodeResult {
  const cached = memo.get(token);
  if (cached) return cached;
  return remember(
    token,
    decodeUncached(token, () => signatureValid),
  );
}

function remember(token: string, result: DecodeResult): DecodeResult {
  if (typeof token === "string" && token.length <= MAX_MEMO_TOKEN) {
    if (memo.size >= MEMO_SIZE) memo.delete(memo.keys().next().value as string);
    memo.set(token, result);
  }
  return result;
}

/**
 * A JWT's identity, without its text: the SHA-256 of the exact string (44 characters for a JWT of
 * a few KB). What the service keeps to tell whether a JWT it sees again is the one it holds.
 */
export function jwtDigest(token: string): string {
  return hash("sha256", token, "base64");
}

/** Only the JSON claims of a token, without any verification: for display of bad tokens. */
export function peekClaims(token: string): Record<string, unknown> | null {
  const chunk = typeof token === "string" ? token.split(".")[1] : undefined;
  const bytes = chunk === undefined ? null : decodeChunk(chunk);
  return bytes ? claimsOf(bytes) : null;
}

/** A claim set with the keys jwt would file under the fields the engine reads given their tag names (go-keys.ts). */
function claimsOf(bytes: Buffer): Record<string, unknown> | null {
  const claims = parseJsonObject(bytes);
  return claims && withGoKeys(claims, CLAIMS_SHAPE);
}
