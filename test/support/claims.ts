/**
 * Parsed claims built by hand, for unit tests that feed the core's pure functions without a JWT.
 * The caller names what the test is about (type, subject, account); everything else is what the
 * parser gives for a field the JWT leaves out.
 */
import type { AccountClaims, ExportClaim, ImportClaim, MappingClaim } from "../../src/core/jwt/claims.js";

type Named<T extends { type: string; subject: string }> = Pick<T, "type" | "subject"> & Partial<T>;

/** An import as the parser gives it when the JWT names only its type, subject and account. */
export function importClaim(fields: Named<ImportClaim> & Pick<ImportClaim, "account">): ImportClaim {
  return {
    index: 0,
    name: null,
    token: null,
    to: null,
    localSubject: null,
    share: false,
    allowTrace: false,
    ...fields,
  };
}

/** An export as the parser gives it when the JWT names only its type and subject. */
export function exportClaim(fields: Named<ExportClaim>): ExportClaim {
  return {
    index: 0,
    name: null,
    tokenReq: false,
    accountTokenPosition: 0,
    revocations: new Map(),
    responseType: null,
    allowTrace: false,
    ...fields,
  };
}

/** A mapping as the parser gives it: each destination a subject, a weight (0 or none reads as 100) and an optional cluster. */
export function mappingClaim(source: string, ...dests: [string, number?, string?][]): MappingClaim {
  return {
    source,
    destinations: dests.map(([subject, weight, cluster]) => ({
      subject,
      weight: weight || 100,
      written: weight ?? 0,
      cluster: cluster ?? null,
    })),
  };
}

/** Account claims as the parser gives them for a JWT naming only its subject: no limits, nothing else. */
export function accountClaims(fields: Pick<AccountClaims, "subject"> & Partial<AccountClaims>): AccountClaims {
  return {
    issuer: "",
    name: "A",
    issuedAt: 0,
    expires: 0,
    notBefore: 0,
    digest: "",
    signingKeys: new Map(),
    imports: [],
    exports: [],
    mappings: [],
    limits: { imports: -1, exports: -1, wildcardExports: true, jetStream: false, blankTier: false },
    ...fields,
  };
}
