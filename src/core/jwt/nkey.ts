/**
 * NATS public keys (nkeys): the role a key has and its raw Ed25519 bytes.
 * Decoding (base32 + CRC16) is @nats-io/nkeys' own codec; only the role table is ours.
 */
import { Prefix } from "@nats-io/nkeys";
import { Codec } from "@nats-io/nkeys/lib/codec.js";

export type KeyRole = "operator" | "account" | "user" | "server";

const PREFIX_OF: Record<KeyRole, Prefix> = {
  operator: Prefix.Operator,
  account: Prefix.Account,
  user: Prefix.User,
  server: Prefix.Server,
};

const encoder = new TextEncoder();

/** The 32 raw key bytes if `key` is a valid public key of the given role, else null. */
export function rawPublicKey(key: string, role: KeyRole): Uint8Array | null {
  if (typeof key !== "string" || key.length !== 56) return null;
  try {
    const raw = Codec.decode(PREFIX_OF[role], encoder.encode(key));
    return raw.length === 32 ? raw : null;
  } catch {
    return null;
  }
}

export function isPublicKey(key: unknown, role: KeyRole): key is string {
  return typeof key === "string" && rawPublicKey(key, role) !== null;
}

/** The role of a public key, or null when it is none of them. */
export function roleOf(key: string): KeyRole | null {
  for (const role of Object.keys(PREFIX_OF) as KeyRole[]) {
    if (rawPublicKey(key, role)) return role;
  }
  return null;
}
