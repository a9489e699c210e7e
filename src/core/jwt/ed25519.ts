/**
 * Ed25519 signature verification: libsodium through sodium-native where its native addon loads
 * (1.1–2x faster than node:crypto on the machines measured), else node:crypto (OpenSSL). The
 * tweetnacl verify inside @nats-io/nkeys is about 100x slower, and every account JWT and
 * activation token is verified.
 *
 * Each thread chooses when this module loads; useEd25519Verifier changes the choice (the tests run
 * both), and the verification threads are told the loading thread's, so a load uses one verifier.
 */
import { createPublicKey, verify, type KeyObject } from "node:crypto";
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
 * A refusal by libsodium is asked again of node:crypto: libsodium also refuses keys and signatures
 * of small order, which Go's crypto/ed25519 (the server's) and OpenSSL accept — an account whose
 * public key is the identity point "signs" anything with R = identity, S = 0 — and the server is
 * the judge. Genuine signatures, nearly all of them, cost one libsodium verify.
 */
export function verifyEd25519(cacheKey: string, raw: Uint8Array, data: Uint8Array, signature: Uint8Array): boolean {
  if (signature.length !== 64 || raw.length !== 32) return false;
  try {
    if (sodium?.crypto_sign_verify_detached(signature, data, raw)) return true;
    return verify(null, data, keyObjectFor(cacheKey, raw), signature);
  } catch {
    return false;
  }
}
