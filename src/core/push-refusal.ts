/**
 * What the resolver does with a pushed account JWT, before anything is loaded: nats-server's
 * update handler (DirAccResolver.Start in server/accounts.go) decodes the claims, refuses an
 * account JWT signed by a strict operator's identity key, runs the non-time validation
 * (claimValidate), and otherwise stores it, whatever its age. It does not check that a trusted
 * operator signed it: that fails only when the account is loaded.
 */
import type { OperatorTrust } from "./directory.js";
import type { AccountClaims } from "./jwt/claims.js";
import { validateAccount } from "./validate.js";

/** Why the resolver would refuse to store this (decoded) account JWT, or null. */
export function refusalOnPush(claims: AccountClaims, trust: OperatorTrust): string | null {
  if (trust.operators.some((o) => o.strictSigningKeyUsage && o.subject === claims.issuer)) {
    return "operator requires issuer to be a signing key";
  }
  const v = validateAccount(claims, trust.rules);
  return [...v.imports.values()][0]?.[0]?.message ?? v.other[0] ?? null;
}
