/**
 * NATS public keys (nkeys): the role a key has and its raw Ed25519 bytes.
 * Decoding (base32 + CRC16) is @nats-io/nkeys' own codec; only the role table is ours.
 */
import { Prefix } from "@nats-io/nkeys";
import { Codec } from "@nats-io/nkeys/lib/codec.js";
import { shared } from "../strings.js";
import { isSmallOrder } from "./ed25519.js";

export type KeyRole = "operator" | "account" | "user" | "server";

const PREFIX_OF: Record<KeyRole, Prefix> = {
  operator: Prefix.Operator,
  account: Prefix.Account,
  user: Prefix.User,
  server: Prefix.Server,
};

const encoder = new TextEncoder();

/**
 * Valid public keys already decoded (base32 + CRC16 is ~2 µs, and the same keys are checked on
 * every evaluation): key → its role and raw bytes. Bounded; cleared when full.
 */
const decoded = new Map<string, { role: KeyRole; raw: Uint8Array }>();
const MAX_DECODED = 200_000;

/** The 32 raw key bytes if `key` is a valid public key of the given role, else null. */
export function rawPublicKey(key: string, role: KeyRole): Uint8Array | null {
  // Go's base32 (no padding) drops a lone last character: a valid key with one more letter decodes
  // to the same bytes in nkeys, and so in jwt and nats-server (as it does in @nats-io/nkeys' codec).
  if (typeof key !== "string" || key.length < 56 || key.length > 57) return null;
  const known = decoded.get(key);
  if (known) return known.role === role ? known.raw : null;
  try {
    const raw = Codec.decode(PREFIX_OF[role], encoder.encode(key));
    if (raw.length !== 32) return null;
    if (decoded.size >= MAX_DECODED) decoded.clear();
    // Filed under a copy of its own: the key may be a slice of a whole resolver message, which it
    // would keep alive (9 MB at 10,000 accounts).
    decoded.set(shared(key), { role, raw });
    return raw;
  } catch {
    return null;
  }
}

/**
 * nkeys' IsValidPublicAccountKey (and the like), with which jwt checks an account's signing keys: a
 * valid checksum and prefix, whatever the number of bytes. Every pinned server stores an account JWT
 * with a signing key of 16, 31 or 33 bytes (test/integration/account-validation.test.ts); such a
 * key signs nothing (rawPublicKey). Bounded: no real key is near 1,024 characters.
 */
export function isEncodedKey(key: string, role: KeyRole): boolean {
  if (key.length > 1024) return false;
  try {
    Codec.decode(PREFIX_OF[role], encoder.encode(key));
    return true;
  } catch {
    return false;
  }
}

export function isPublicKey(key: unknown, role: KeyRole): key is string {
  return typeof key === "string" && rawPublicKey(key, role) !== null;
}

/**
 * nkeys v0.4.17's IsValidPublicAccountKey (nats-server 2.14.10, 2.15.3 on): a valid checksum and
 * prefix, exactly 32 bytes, and not a point of small order.
 */
export function isWholeKey(key: string, role: KeyRole): boolean {
  if (key.length > 1024) return false;
  let raw: Uint8Array;
  try {
    raw = Codec.decode(PREFIX_OF[role], encoder.encode(key));
  } catch {
    return false;
  }
  return raw.length === 32 && !isSmallOrder(raw);
}
