/**
 * The identity of an import across JWT versions, shared by the live monitor and the what-if code:
 * an import keeps its key while what it imports, from whom and to where stay the same.
 */
import type { ImportDiagnosis } from "./diagnosis.js";
import type { ImportClaim } from "./jwt/claims.js";

/** The identity of an import across JWT versions: what it imports, from whom, to where. */
export function importKey(
  accountId: string,
  imp: Pick<ImportClaim, "type" | "account" | "subject" | "localSubject" | "to">,
): string {
  return [accountId, imp.type, imp.account, imp.subject, imp.localSubject ?? imp.to ?? ""].join("|");
}

/**
 * The key of a diagnosed import, for a caller that has only the diagnosis (it keeps the local
 * subject, not a service import's deprecated `to`, so such an import's key differs from importKey's).
 */
export function diagnosisKey(
  d: Pick<ImportDiagnosis, "account" | "type" | "source_account" | "subject" | "local_subject">,
): string {
  return importKey(d.account, {
    type: d.type,
    account: d.source_account,
    subject: d.subject,
    localSubject: d.local_subject,
    to: null,
  });
}

/**
 * What an import key alone says of an import (for one no JWT declares any more): who imports what
 * from whom; names, verdict and message are the caller's to fill in. Null for a key not made by importKey.
 */
export function importOfKey(
  key: string,
): Pick<ImportDiagnosis, "account" | "type" | "source_account" | "subject" | "local_subject"> | null {
  const [account, type, source, subject, local] = key.replace(/#\d+$/, "").split("|");
  if (!account || !source || !subject || (type !== "stream" && type !== "service")) return null;
  return { account, type, source_account: source, subject, local_subject: local || null };
}

/** An account's imports keyed by identity, in declaration order; a repeated declaration gets "#2", "#3", …. */
export function keyedImports(accountId: string, imports: readonly ImportClaim[]): [string, ImportClaim][] {
  const seen = new Set<string>();
  return imports.map((imp) => {
    const base = importKey(accountId, imp);
    let key = base;
    for (let n = 2; seen.has(key); n++) key = `${base}#${n}`;
    seen.add(key);
    return [key, imp];
  });
}
