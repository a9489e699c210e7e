/**
 * A KeyPair whose `sign` goes through node:crypto and whose public key is computed once, for tests
 * that sign thousands of JWTs: the tweetnacl code inside @nats-io/nkeys takes milliseconds per
 * signature, and as long again for every `getPublicKey()` (it derives the key from the seed on each
 * call; encoding one JWT asks for two). Same key, same bytes.
 */
import { createPrivateKey, createPublicKey, sign } from "node:crypto";
import { Prefix, type KeyPair } from "@nats-io/nkeys";
import { Codec } from "@nats-io/nkeys/lib/codec.js";

// PKCS#8 DER header of an Ed25519 private key (RFC 8410); the 32 seed bytes follow.
const PKCS8_ED25519_PREFIX = Buffer.from("302e020100300506032b657004220420", "hex");

export function fast(kp: KeyPair): KeyPair {
  const { prefix, buf } = Codec.decodeSeed(kp.getSeed());
  const key = createPrivateKey({
    key: Buffer.concat([PKCS8_ED25519_PREFIX, Buffer.from(buf)]),
    format: "der",
    type: "pkcs8",
  });
  // The raw Ed25519 public key is the last 32 bytes of its SPKI DER encoding.
  const raw = createPublicKey(key).export({ format: "der", type: "spki" }).subarray(-32);
  const publicKey = new TextDecoder().decode(Codec.encode(prefix, new Uint8Array(raw)));
  return Object.assign(Object.create(Object.getPrototypeOf(kp) as object) as KeyPair, kp, {
    sign: (data: Uint8Array) => new Uint8Array(sign(null, data, key)),
    getPublicKey: () => publicKey,
  });
}

/**
 * The identity point as an account key, "signing" anything with R = identity and S = 0: Go's
 * ed25519 (the server's, through nkeys before v0.4.17) takes that signature for any data; libsodium
 * and nkeys v0.4.17 refuse the key. Only what signClaims asks of a signer.
 */
export function identityPointSigner(): KeyPair {
  const publicKey = new TextDecoder().decode(
    Codec.encode(
      Prefix.Account,
      Uint8Array.from({ length: 32 }, (_, i) => (i === 0 ? 1 : 0)),
    ),
  );
  const signature = Uint8Array.from({ length: 64 }, (_, i) => (i === 0 ? 1 : 0));
  return { getPublicKey: () => publicKey, sign: () => signature } as unknown as KeyPair;
}
