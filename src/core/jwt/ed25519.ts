/**
 * Ed25519 signature verification: libsodium through sodium-native where its native addon loads
 * (1.1–2x faster than node:crypto on the machines measured), else node:crypto (OpenSSL). The
 * tweetnacl verify inside @nats-io/nkeys is about 100x slower, and every account JWT and
 * activation token is verified.
 *
 * Each thread chooses when this module loads; useEd25519Verifier changes the choice (the tests run
 * both), and the verification threads are told the loading thread's, so a load uses one verifier.
 */
import { createHash, createPublicKey, verify, type KeyObject } from "node:crypto";
import { createRequire } from "node:module";

export type Ed25519Verifier = "sodium-native" | "node:crypto";

interface Sodium {
  crypto_sign_verify_detached(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean;
}

function loadSodium(): Sodium | null {
  try {
    const sodium = createRequire(import.meta.url)("sodium-native") as Partial<Sodium>;
    return typeof sodium.crypto_sign_verify_detached === "function" ? (sodium as Sodium) : null;
  } catch {
    // No prebuild for this platform, or the addon does not load here: node:crypto does the work.
    return null;
  }
}

const loaded = loadSodium();
let sodium = loaded;

/** The implementation this thread verifies with. */
export function ed25519Verifier(): Ed25519Verifier {
  return sodium ? "sodium-native" : "node:crypto";
}

/** Verify with this implementation from now on (sodium-native only where it loaded); returns the one in use. */
export function useEd25519Verifier(verifier: Ed25519Verifier): Ed25519Verifier {
  sodium = verifier === "sodium-native" ? loaded : null;
  return ed25519Verifier();
}

const keyObjects = new Map<string, KeyObject>();
const MAX_CACHED_KEYS = 100_000;

function keyObjectFor(cacheKey: string, raw: Uint8Array): KeyObject {
  let key = keyObjects.get(cacheKey);
  if (!key) {
    // A JWK (RFC 8037) rather than DER: OpenSSL 3 imports a raw OKP key about 10x faster than it
    // decodes a SubjectPublicKeyInfo (~7 µs against ~70 µs here), and a large deployment has
    // thousands of signing keys.
    key = createPublicKey({
      key: { kty: "OKP", crv: "Ed25519", x: Buffer.from(raw).toString("base64url") },
      format: "jwk",
    });
    if (keyObjects.size >= MAX_CACHED_KEYS) keyObjects.clear();
    keyObjects.set(cacheKey, key);
  }
  return key;
}

/**
 * Verify `signature` over `data` with the raw public key; `cacheKey` names the key (its nkey).
 *
 * Go's crypto/ed25519 (the server's, through nkeys before v0.4.17) checks R = [S]B - [k]A and
 * nothing more, where libsodium also refuses a key or an R of small order and a key encoded with
 * y >= p, and OpenSSL refuses some of them depending on its version (Node 24's refuses R = identity,
 * S = 0 under the identity key, Node 20's and 22's accept it). Those shapes, and only they, are
 * decided by `goVerify` (the server is the judge): an account whose key is the identity point
 * "signs" anything with R = identity and S = 0. Every other signature is one libsodium (or node:crypto
 * where it does not load) judges as Go does, at the cost of one native verify.
 */
export function verifyEd25519(cacheKey: string, raw: Uint8Array, data: Uint8Array, signature: Uint8Array): boolean {
  if (signature.length !== 64 || raw.length !== 32) return false;
  if (outsideLibsodium(raw, signature)) return goVerify(raw, data, signature);
  try {
    if (sodium) return sodium.crypto_sign_verify_detached(signature, data, raw);
    return verify(null, data, keyObjectFor(cacheKey, raw), signature);
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------------------------------------
// Go's verification equation, for the shapes libsodium and OpenSSL refuse (slow: BigInt)
// ---------------------------------------------------------------------------------------------

const P = 2n ** 255n - 19n;
const L = 2n ** 252n + 27742317777372353535851937790883648493n;
const mod = (a: bigint) => ((a % P) + P) % P;
function pow(b: bigint, e: bigint): bigint {
  let r = 1n;
  b = mod(b);
  for (; e > 0n; e >>= 1n, b = (b * b) % P) if (e & 1n) r = (r * b) % P;
  return r;
}
const inv = (a: bigint) => pow(a, P - 2n);
const D = mod(-121665n * inv(121666n));
const SQRT_M1 = pow(2n, (P - 1n) / 4n);

/** A point in extended coordinates (X:Y:Z:T), x = X/Z, y = Y/Z, xy = T/Z. */
type Point = readonly [bigint, bigint, bigint, bigint];
const IDENTITY: Point = [0n, 1n, 1n, 0n];
const BASE_Y = mod(4n * inv(5n));
const BASE: Point = [
  15112221349535400772501151409588531511454012693041857206046113283949847762202n,
  BASE_Y,
  1n,
  mod(15112221349535400772501151409588531511454012693041857206046113283949847762202n * BASE_Y),
];

/** The unified addition of twisted Edwards curves with a = -1 (it doubles too). */
function add([x1, y1, z1, t1]: Point, [x2, y2, z2, t2]: Point): Point {
  const a = mod((y1 - x1) * (y2 - x2));
  const b = mod((y1 + x1) * (y2 + x2));
  const c = mod(2n * D * t1 * t2);
  const d = mod(2n * z1 * z2);
  const e = b - a;
  const f = d - c;
  const g = d + c;
  const h = b + a;
  return [mod(e * f), mod(g * h), mod(f * g), mod(e * h)];
}

function times(p: Point, k: bigint): Point {
  let r = IDENTITY;
  for (let q = p; k > 0n; k >>= 1n, q = add(q, q)) if (k & 1n) r = add(r, q);
  return r;
}

const littleEndian = (b: Uint8Array) => b.reduceRight((n, byte) => (n << 8n) | BigInt(byte), 0n);

/** Go's (filippo.io/edwards25519) SetBytes: y taken mod p (non-canonical encodings accepted), x from the sign bit. */
function decodePoint(b: Uint8Array): Point | null {
  const bytes = Uint8Array.from(b);
  const sign = bytes[31]! >> 7;
  bytes[31] = bytes[31]! & 0x7f;
  const y = mod(littleEndian(bytes));
  const u = mod(y * y - 1n);
  const v = mod(D * y * y + 1n);
  let x = mod(u * pow(v, 3n) * pow(u * pow(v, 7n), (P - 5n) / 8n));
  const vx2 = mod(v * x * x);
  if (vx2 === mod(-u)) x = mod(x * SQRT_M1);
  else if (vx2 !== u) return null;
  // The non-negative (even) root, negated if the sign bit is set: x = 0 with the bit set is 0.
  if (x & 1n) x = P - x;
  if (sign === 1) x = mod(-x);
  return [x, y, 1n, mod(x * y)];
}

function encodePoint([x, y, z]: Point): Uint8Array {
  const zi = inv(z);
  const ax = mod(x * zi);
  let n = mod(y * zi) | ((ax & 1n) << 255n);
  const out = new Uint8Array(32);
  for (let i = 0; i < 32; i++, n >>= 8n) out[i] = Number(n & 0xffn);
  return out;
}

/** Go's ed25519.Verify: S canonical, then R == [S]B - [k]A byte for byte, k = SHA-512(R || A || M) mod L. */
export function goVerify(raw: Uint8Array, data: Uint8Array, signature: Uint8Array): boolean {
  if (signature.length !== 64 || raw.length !== 32) return false;
  const a = decodePoint(raw);
  const s = littleEndian(signature.subarray(32));
  if (!a || s >= L) return false;
  const k = littleEndian(createHash("sha512").update(signature.subarray(0, 32)).update(raw).update(data).digest()) % L;
  const minusA: Point = [mod(-a[0]), a[1], a[2], mod(-a[3])];
  const r = encodePoint(add(times(BASE, s), times(minusA, k)));
  return Buffer.from(r).equals(Buffer.from(signature.subarray(0, 32)));
}

/**
 * The Ed25519 points of small order as libsodium lists them (0, 1, the two of order 8, and p-1, p,
 * p+1 as y), compared with the sign bit cleared; nkey.ts's `isWholeKey` refuses the same keys.
 */
const SMALL_ORDER = [
  "00".repeat(32),
  "01" + "00".repeat(31),
  "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
  "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
  "ec" + "ff".repeat(30) + "7f",
  "ed" + "ff".repeat(30) + "7f",
  "ee" + "ff".repeat(30) + "7f",
];

/** The first bytes of SMALL_ORDER: a point whose first byte is none of them is not listed. */
const SMALL_ORDER_FIRST_BYTES = new Set(SMALL_ORDER.map((hex) => parseInt(hex.slice(0, 2), 16)));

/** Of small order, with the sign bit cleared (libsodium's list). */
export function isSmallOrder(point: Uint8Array): boolean {
  // Asked before every verify: nearly every key and R fail the first byte, without a copy or a hex string.
  if (!SMALL_ORDER_FIRST_BYTES.has(point[0]!)) return false;
  const masked = Buffer.from(point.subarray(0, 32));
  masked[31] = masked[31]! & 0x7f;
  return SMALL_ORDER.includes(masked.toString("hex"));
}

/** y >= p: 2^255 - 19 and up, sign bit aside (Go takes it mod p, libsodium refuses it). */
function nonCanonical(point: Uint8Array): boolean {
  if ((point[31]! & 0x7f) !== 0x7f || point[0]! < 0xed) return false;
  for (let i = 1; i < 31; i++) if (point[i] !== 0xff) return false;
  return true;
}

/** A key or R that libsodium refuses outright and Go's equation may still take. */
function outsideLibsodium(raw: Uint8Array, signature: Uint8Array): boolean {
  return isSmallOrder(raw) || nonCanonical(raw) || isSmallOrder(signature.subarray(0, 32));
}
