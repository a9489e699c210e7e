/**
 * What the resolver does with a pushed account JWT, before anything is loaded: nats-server's
 * update handler (DirAccResolver.Start in server/accounts.go) decodes the claims, refuses an
 * account JWT signed by a strict operator's identity key, runs the non-time validation
 * (claimValidate), and otherwise stores it, whatever its age. It does not check that a trusted
 * operator signed it: that fails only when the account is loaded.
 */
import { distinctRules, type OperatorTrust, type ServersJudged } from "./directory.js";
import type { AccountClaims } from "./jwt/claims.js";
import type { ServerRules } from "./validate.js";

/** Why the resolver would refuse to store this (decoded) account JWT, or null. */
export function refusalOnPush(claims: AccountClaims, trust: OperatorTrust): string | null {
  if (trust.operators.some((o) => o.strictSigningKeyUsage && o.subject === claims.issuer)) {
    return "operator requires issuer to be a signing key";
  }
  const v = trust.validate(claims);
  return [...v.imports.values()][0]?.[0]?.message ?? v.other[0] ?? null;
}

/**
 * The rules for JWTs a server loaded without a push: a memory resolver's `resolver_preload` (or a
 * URL resolver's answer). nats-server checks such a JWT as it loads the account (verifyAccountClaims:
 * decoding, a trusted issuer, jwt's validation) but runs claimValidate's check that every mapping
 * can be installed (2.15.2 on) only on the resolver's push: a preloaded JWT with a mapping it cannot
 * build is loaded, the mapping logged and left out, as on the lines before (measured on 2.15.2,
 * test/fuzz/scenarios/fixed-mapping-left-out-of-preload.json).
 */
export function rulesForLoaded(rules: ServerRules): ServerRules {
  return rules.refusesUninstallableMappings ? { ...rules, refusesUninstallableMappings: false } : rules;
}

/** The servers, judging JWTs they loaded without a push (rulesForLoaded on every line). */
export function judgedAsLoaded(servers: ServersJudged): ServersJudged {
  const rules = rulesForLoaded(servers.rules);
  return { ...servers, rules, otherLines: distinctRules(servers.otherLines.map(rulesForLoaded), rules) };
}
