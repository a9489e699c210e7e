/**
 * Before and after: the diagnoses of the same imports in the deployment as it is and as it would
 * be after a change (a what-if clone of the directory), matched by import identity, and the
 * differences of (status, cause) — the same notion of change the live events use.
 */
import { byImport, diagnose } from "../report.js";
import { sameVerdict, type CauseCode, type ImportDiagnosis, type ImportStatus } from "../diagnosis.js";
import type { AccountDirectory } from "../directory.js";
import { evaluateImport, type EvaluationOptions } from "../evaluate.js";
import { keyedImports } from "../import-key.js";

/** The diagnosis an import would have after the change, with the (status, cause) it has now. */
export type PredictedChange = ImportDiagnosis & {
  /** Null: the import is not declared today. */
  previous_status: ImportStatus | null;
  previous_cause: CauseCode | null;
  /** It would stop working: inactive after, and working (or not yet declared) before. */
  breaks: boolean;
};

export interface Comparison {
  /** Imports whose (status, cause) would change, or that would be newly declared; breaks first. */
  changes: PredictedChange[];
  /** Imports declared today that would no longer be declared, with their diagnosis today. */
  removed: ImportDiagnosis[];
}

/** The diagnoses of these accounts' imports, keyed by import identity. */
export function diagnosesByImport(
  dir: AccountDirectory,
  accountIds: Iterable<string>,
  opts: EvaluationOptions,
): Map<string, ImportDiagnosis> {
  const out = new Map<string, ImportDiagnosis>();
  for (const id of new Set(accountIds)) {
    const entry = dir.get(id);
    if (!entry?.claims) continue;
    for (const [key, imp] of keyedImports(id, entry.claims.imports)) {
      out.set(key, diagnose(dir, evaluateImport(dir, entry, imp, opts), opts.now));
    }
  }
  return out;
}

const mayBeDead = (d: ImportDiagnosis): boolean => d.status === "inactive" || d.status === "undetermined";

export function predictedChange(after: ImportDiagnosis, before: ImportDiagnosis | null): PredictedChange {
  return {
    ...after,
    previous_status: before?.status ?? null,
    previous_cause: before?.cause ?? null,
    // An import that would join a cycle may be the one a server refuses: that too breaks it.
    breaks: mayBeDead(after) && !(before && mayBeDead(before)),
  };
}

export function compare(before: Map<string, ImportDiagnosis>, after: Map<string, ImportDiagnosis>): Comparison {
  const changes: PredictedChange[] = [];
  for (const [key, d] of after) {
    const previous = before.get(key) ?? null;
    if (sameVerdict(previous, d)) continue;
    changes.push(predictedChange(d, previous));
  }
  const removed = [...before].filter(([key]) => !after.has(key)).map(([, d]) => d);
  return { changes: changes.sort(byImpact), removed: removed.sort(byImport) };
}

/** What breaks first, then what else turns inactive, then the rest; by account and subject. */
function byImpact(a: PredictedChange, b: PredictedChange): number {
  const rank = (c: PredictedChange) => (c.breaks ? 0 : c.status === "inactive" ? 1 : 2);
  return rank(a) - rank(b) || byImport(a, b);
}
