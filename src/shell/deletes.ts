/**
 * Account deletes, seen on `$SYS.REQ.CLAIMS.DELETE` (what `nsc push --prune` and `--account-removal`
 * send; never answered: the server does that). The payload is a generic JWT signed by the operator
 * or one of its signing keys, self-signed (sub = iss), listing the accounts in `nats.accounts`.
 * Like a push it is only a hint: the resolver is asked whether it still stores each account, since
 * a full resolver without `allow_delete` refuses the request and keeps every JWT.
 */
import type { Msg } from "@nats-io/nats-core";
import type { Failure } from "../core/result.js";
import type { OperatorTrust } from "../core/directory.js";
import { decodeJwt, MAX_TOKEN_BYTES } from "../core/jwt/decode.js";
import { isPublicKey } from "../core/jwt/nkey.js";
import { MAX_ACCOUNTS } from "./resolver.js";

export type DeleteHint = { ok: true; accounts: string[] } | Failure;

/** Read a delete request; bad input is a failure that says why, never trusted. */
export function readDelete(msg: Msg, trust: OperatorTrust): DeleteHint {
  if (msg.data.length > MAX_TOKEN_BYTES)
    return { ok: false, error: `delete request of ${msg.data.length} bytes exceeds ${MAX_TOKEN_BYTES}` };
  const decoded = decodeJwt(msg.string().trim());
  if (!decoded.ok) return { ok: false, error: `delete request does not decode: ${decoded.error}` };
  const { payload, issuer } = decoded.jwt;
  // The server's checks, in its order (handleDeleteRequest): self-signed, by a trusted operator key.
  if (payload["sub"] !== issuer) return { ok: false, error: "delete request is not self-signed" };
  if (!trust.trusts(issuer))
    return { ok: false, error: `delete request is signed by ${issuer}, not a trusted operator key` };
  const nats = payload["nats"];
  const list = nats !== null && typeof nats === "object" ? (nats as Record<string, unknown>)["accounts"] : undefined;
  if (!Array.isArray(list) || list.length > MAX_ACCOUNTS || !list.every((id) => isPublicKey(id, "account"))) {
    return { ok: false, error: "delete request does not list account public keys" };
  }
  return { ok: true, accounts: [...new Set(list)] };
}
