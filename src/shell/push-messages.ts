/**
 * Pushed JWTs, seen on the three update subjects (never answered: the server does that). A payload
 * is only a hint: the resolver is asked what it really stored, and a push it did not store becomes
 * `push_rejected` for the imports the pushed JWT declared.
 */
import type { Msg } from "@nats-io/nats-core";
import type { Failure } from "../core/result.js";
import { parseAccount, type AccountClaims } from "../core/jwt/claims.js";
import { MAX_TOKEN_BYTES } from "../core/jwt/decode.js";

export type PushHint = { ok: true; claims: AccountClaims; jwt: string } | Failure;

/** Read a pushed JWT from an update message; bad input is a failure that says why, never trusted. */
export function readPush(msg: Msg): PushHint {
  if (msg.data.length > MAX_TOKEN_BYTES)
    return { ok: false, error: `pushed JWT of ${msg.data.length} bytes exceeds ${MAX_TOKEN_BYTES}` };
  const jwt = msg.string().trim();
  const parsed = parseAccount(jwt);
  if (!parsed.ok) return { ok: false, error: `pushed JWT does not decode: ${parsed.error}` };
  const tokens = msg.subject.split(".");
  // $SYS.REQ.ACCOUNT.<id>.CLAIMS.UPDATE and $SYS.ACCOUNT.<id>.CLAIMS.UPDATE name the account.
  const named = tokens.length === 6 ? tokens[3] : tokens.length === 5 ? tokens[2] : undefined;
  if (named !== undefined && named !== parsed.claims.subject) {
    return { ok: false, error: `pushed JWT is for ${parsed.claims.subject}, the subject names ${named}` };
  }
  return { ok: true, claims: parsed.claims, jwt };
}
