/**
 * Ed25519 signature verification through node:crypto (OpenSSL). The tweetnacl verify inside
 * @nats-io/nkeys is about 100x slower, and every account JWT and activation token is verified.
 */
import { createPublicKey, verify, type KeyObject } from "node:crypto";

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

/** Verify `signature` over `data` with the raw public key; `cacheKey` names the key (its nkey). */
export function verifyEd25519(cacheKey: string, raw: Uint8Array, data: Uint8Array, signature: Uint8Array): boolean {
  if (signature.length !== 64) return false;
  try {
    return verify(null, data, keyObjectFor(cacheKey, raw), signature);
  } catch {
    return false;
  }
}
