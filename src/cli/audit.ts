/** The offline audit: deployments in, diagnoses and named account errors out. No I/O. */
import { accountErrors, diagnose, summarize, type AccountError, type CheckSummary } from "../core/report.js";
import { evaluate } from "../core/evaluate.js";
import type { ImportDiagnosis, ImportStatus } from "../core/diagnosis.js";
import type { AccountDirectory } from "../core/directory.js";
import { importKey } from "../core/import-key.js";
import { directoryBasis, ServerViews } from "../shell/server-views.js";
import type { Deployment } from "./deployment.js";
import { loadDirectories } from "./sources.js";

export interface AuditFilters {
  account?: string;
  status?: ImportStatus;
}

export interface AuditReport {
  checked_at: string;
  summary: CheckSummary;
  imports: ImportDiagnosis[];
  account_errors: AccountError[];
}

export function audit(
  deployments: Deployment[],
  now: Date,
  expiryWarningSeconds: number,
  filters: AuditFilters = {},
): AuditReport {
  const diagnoses: ImportDiagnosis[] = [];
  const errors: AccountError[] = [];
  let accounts = 0;
  for (const { deployment, dir, errors: unreadable } of loadDirectories(deployments)) {
    errors.push(...unreadable);
    const only = filters.account ? matchingAccounts(dir, filters.account) : undefined;
    accounts += only ? only.length : dir.size;
    const findings = evaluate(dir, { now: Math.floor(now.getTime() / 1000), expiryWarningSeconds }, only);
    const found = findings.map((f): [string, ImportDiagnosis] => [
      importKey(f.importer.id, f.imp),
      diagnose(dir, f, Math.floor(now.getTime() / 1000)),
    ]);
    diagnoses.push(
      ...(deployment.serverViews ? withServerViews(found, dir, deployment.serverViews, now) : found.map(([, d]) => d)),
    );
    errors.push(
      ...accountErrors(dir, undefined, Math.floor(now.getTime() / 1000)).filter(
        (e) => !only || only.includes(e.account),
      ),
    );
  }
  const shown = diagnoses.filter((d) => !filters.status || d.status === filters.status);
  return { checked_at: now.toISOString(), summary: summarize(accounts, shown), imports: shown, account_errors: errors };
}

/**
 * The servers' views recorded with the JWTs, applied as the live service applies its own: only a
 * server that had applied the same JWTs speaks to a verdict. One snapshot is one look, so a server
 * still honouring a dead import is not yet called an exposure (that takes two looks); a server that
 * refuses a valid import makes it server_state_stale.
 */
function withServerViews(
  found: [string, ImportDiagnosis][],
  dir: AccountDirectory,
  snapshot: NonNullable<Deployment["serverViews"]>,
  at: Date,
): ImportDiagnosis[] {
  const views = new ServerViews();
  const basis = directoryBasis(dir);
  views.record(snapshot.replies, snapshot.servers, basis, at.getTime());
  return found.map(([key, d]) => views.apply(key, d, basis));
}

function matchingAccounts(dir: AccountDirectory, keyOrName: string): string[] {
  const entry = dir.resolve(keyOrName);
  return entry ? [entry.id] : [];
}
