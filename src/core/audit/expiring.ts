/**
 * Expiry forecast: the activation tokens that expire within a window, soonest first, each with
 * what its import will be at that second (a token on a public export, say, does not matter) and
 * the commands that renew it for as long as it lasted. Tokens already expired are not listed:
 * the check reports them (`activation_expired`).
 */
import { causeOf } from "../causes/index.js";
import { byImport, diagnose } from "../report.js";
import type { CauseCode, ImportDiagnosis, ImportStatus } from "../diagnosis.js";
import type { AccountDirectory } from "../directory.js";
import { evaluateImport, type EvaluationOptions } from "../evaluate.js";
import { renewalSigner, renewedExpiry, reissueCommands, tokenImports, type TokenImport } from "../tokens.js";

export const DEFAULT_EXPIRING_DAYS = 30;

export type ExpiringToken = ImportDiagnosis & {
  expires_in_seconds: number;
  /** The import at the token's exp second, if nothing else changes before. */
  status_at_expiry: ImportStatus;
  cause_at_expiry: CauseCode | null;
  renewal: string[];
};

/** Tokens expiring after `now` and at most `days` days later; of imports into or out of `accountId` when given. */
export function expiringTokens(
  dir: AccountDirectory,
  opts: EvaluationOptions,
  days: number,
  accountId?: string,
): ExpiringToken[] {
  const until = opts.now + days * 86400;
  return tokenImports(dir)
    .filter((t) => accountId === undefined || t.importer.id === accountId || t.imp.account === accountId)
    .filter((t) => t.activation.expires > opts.now && t.activation.expires <= until)
    .map((t) => expiringToken(dir, t, opts))
    .sort((a, b) => a.expires_in_seconds - b.expires_in_seconds || byImport(a, b));
}

function expiringToken(dir: AccountDirectory, t: TokenImport, opts: EvaluationOptions): ExpiringToken {
  const finding = evaluateImport(dir, t.importer, t.imp, opts);
  const atExpiry = evaluateImport(dir, t.importer, t.imp, { ...opts, now: t.activation.expires });
  const exporter = dir.get(t.imp.account);
  const signer = exporter ? renewalSigner(exporter, t.activation) : t.activation.issuer;
  return {
    ...diagnose(dir, finding, opts.now),
    expires_in_seconds: t.activation.expires - opts.now,
    status_at_expiry: atExpiry.cause ? causeOf(atExpiry.cause).status : "active",
    cause_at_expiry: atExpiry.cause,
    renewal: reissueCommands(dir, finding, signer, renewedExpiry(t.activation), opts.now),
  };
}
