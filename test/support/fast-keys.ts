/**
 * A KeyPair whose `sign` goes through node:crypto, for tests that sign thousands of JWTs: the
 * tweetnacl signer inside @nats-io/nkeys takes milliseconds per signature. Same key, same bytes.
 */
import { createPrivateKey, sign } from "node:crypto";
import type { KeyPair } from "@nats-io/nkeys";
import { Codec } from "@nats-io/nkeys/lib/codec.js";

// PKCS#8 DER header of an Ed25519 private key (RFC 8410); the 32 seed bytes follow.
const PKCS8_ED25519_PREFIX = Buffer.from("302e020100300506032b657004220420", "hex");

export function fast(kp: KeyPair): KeyPair {
  const { buf } = Codec.decodeSeed(kp.getSeed());
  const key = createPrivateKey({ key: Buffer.concat([PKCS8_ED25519_PREFIX, Buffer.from(buf)]), format: "der", type: "pkcs8" });
  return Object.assign(Object.create(Object.getPrototypeOf(kp) as object) as KeyPair, kp, {
    sign: (data: Uint8Array) => new Uint8Array(sign(null, data, key)),
  });
}
