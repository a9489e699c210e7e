/**
 * Ed25519 signature verification through node:crypto (OpenSSL). The tweetnacl verify inside
 * @nats-io/nkeys is about 100x slower, and every account JWT and activation token is verified.
 */
import { createPublicKey, verify, type KeyObject } from "node:crypto";

// DER SubjectPublicKeyInfo header for an Ed25519 key (RFC 8410); the 32 key bytes follow.
const SPKI_ED25519_PREFIX = Buffer.from("302a300506032b6570032100", "hex");

const keyObjects = new Map<string, KeyObject>();
const MAX_CACHED_KEYS = 100_000;

function keyObjectFor(cacheKey: string, raw: Uint8Array): KeyObject {
  let key = keyObjects.get(cacheKey);
  if (!key) {
    key = createPublicKey({ key: Buffer.concat([SPKI_ED25519_PREFIX, raw]), format: "der", type: "spki" });
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
