/**
 * How the core says no. Every failure is `{ ok: false, error }`: one sentence, naming the request
 * field at fault first when a request is at fault. A question the core cannot answer also says why
 * in `kind`: what it names is not known, or it asks what cannot be. The core knows no HTTP-like
 * codes; src/service/refusal.ts alone turns a refusal into a service error.
 */
import type { AccountDirectory, AccountEntry } from "./directory.js";

export interface Failure {
  ok: false;
  error: string;
}

export type RefusalKind = "not_found" | "invalid";

export interface Refusal extends Failure {
  kind: RefusalKind;
}

export function refuse(kind: RefusalKind, error: string): Refusal {
  return { ok: false, kind, error };
}

/** The account a request names (a public key or a JWT name), or a refusal that names the field. */
export function namedAccount(
  dir: AccountDirectory,
  keyOrName: string,
  field = "account",
): { ok: true; entry: AccountEntry } | Refusal {
  const entry = dir.resolve(keyOrName);
  if (!entry)
    return refuse("not_found", `${field}: no account "${keyOrName}" is known (give a public key or a JWT name)`);
  return { ok: true, entry };
}
