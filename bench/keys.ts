/**
 * Deterministic key material and fast signing for the benchmark. Seeds come from a seeded PRNG, so
 * the same (size, seed) gives the same keys and, Ed25519 being deterministic, the same JWTs.
 * Signing goes through node:crypto: the tweetnacl signer in @nats-io/nkeys is far too slow for the
 * tens of thousands of JWTs a 10,000-account deployment needs.
 */
import { createHash, createPrivateKey, createPublicKey, sign, type KeyObject } from "node:crypto";
import { Prefix } from "@nats-io/nkeys";
import { Codec } from "@nats-io/nkeys/lib/codec.js";

/** sfc32: small, fast, and good enough to lay out a synthetic deployment. */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number) {
    this.a = 0x9e3779b9;
    this.b = 0x243f6a88;
    this.c = 0xb7e15162;
    this.d = seed >>> 0;
    for (let i = 0; i < 16; i++) this.next();
  }

  /** A uniform 32-bit unsigned integer. */
  next(): number {
    this.a >>>= 0;
    this.b >>>= 0;
    this.c >>>= 0;
    this.d >>>= 0;
    let t = (this.a + this.b) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.d = (this.d + 1) | 0;
    t = (t + this.d) | 0;
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** A float in [0, 1). */
  float(): number {
    return this.next() / 4294967296;
  }

  /** An integer in [lo, hi]. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.float() * (hi - lo + 1));
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.float() * items.length)]!;
  }

  bytes(n: number): Buffer {
    const out = Buffer.alloc(n);
    for (let i = 0; i < n; i += 4) out.writeUInt32LE(this.next(), i);
    return out;
  }
}

// PKCS#8 DER header of an Ed25519 private key (RFC 8410); the 32 seed bytes follow.
const PKCS8_ED25519_PREFIX = Buffer.from("302e020100300506032b657004220420", "hex");

export type Role = "operator" | "account" | "user";
const PREFIX: Record<Role, Prefix> = { operator: Prefix.Operator, account: Prefix.Account, user: Prefix.User };

/** An nkey whose private half is a node:crypto KeyObject. */
export interface BenchKey {
  role: Role;
  /** The nkey public key (O…, A…, U…). */
  publicKey: string;
  /** The 32 raw seed bytes. */
  seed: Buffer;
  privateKey: KeyObject;
}

export function keyFromSeed(role: Role, seed: Buffer): BenchKey {
  const privateKey = createPrivateKey({
    key: Buffer.concat([PKCS8_ED25519_PREFIX, seed]),
    format: "der",
    type: "pkcs8",
  });
  const raw = createPublicKey(privateKey).export({ format: "der", type: "spki" }).subarray(-32);
  const publicKey = Buffer.from(Codec.encode(PREFIX[role], new Uint8Array(raw))).toString("ascii");
  return { role, publicKey, seed, privateKey };
}

/** The nkey seed string (S…) of a key, as a creds file or nsc's keystore holds it. */
export function seedString(key: BenchKey): string {
  return Buffer.from(Codec.encodeSeed(PREFIX[key.role], new Uint8Array(key.seed))).toString("ascii");
}

/** A public key of `role` nobody holds the seed of (for imports from accounts that do not exist). */
export function phantomPublicKey(role: Role, rng: Rng): string {
  return Buffer.from(Codec.encode(PREFIX[role], new Uint8Array(rng.bytes(32)))).toString("ascii");
}

const B32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

function base32NoPad(bytes: Uint8Array): string {
  let out = "";
  let bits = 0;
  let value = 0;
  for (const b of bytes) {
    value = (value << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += B32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += B32[(value << (5 - bits)) & 31];
  return out;
}

const HEADER = Buffer.from(JSON.stringify({ typ: "JWT", alg: "ed25519-nkey" })).toString("base64url");

/**
 * A NATS v2 JWT: `iss` is the signer's public key, `jti` the base32 SHA-512/256 of the claims (as
 * Go's jwt library does). `claims` must carry `iat` (kept fixed for reproducible output).
 */
export function signJwt(claims: Record<string, unknown>, signer: BenchKey): string {
  const body: Record<string, unknown> = { ...claims, iss: signer.publicKey };
  delete body["jti"];
  const jti = base32NoPad(createHash("sha512-256").update(JSON.stringify(body)).digest());
  const payload = Buffer.from(JSON.stringify({ jti, ...body })).toString("base64url");
  const signed = `${HEADER}.${payload}`;
  return `${signed}.${sign(null, Buffer.from(signed), signer.privateKey).toString("base64url")}`;
}
