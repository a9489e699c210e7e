/** The diagnosis of one declared import: the object replies and events carry (schemas/import-diagnosis.schema.json). */

/**
 * `undetermined`: the JWTs do not decide whether the import works. For an import cycle, which of
 * its imports a server refuses depends on the order it loaded the accounts: the servers' own view
 * says, and turns the verdict into `inactive` or `warning`. For overlapping mappings of the
 * importer, the order a server installed them in decides, and no view shows it: it stays undetermined.
 * For intersecting exports that disagree about an import, the export a server picked (in its map's
 * order, drawn anew at each check) decides; its view shows the outcome, as for a cycle.
 */
export type ImportStatus = "active" | "inactive" | "warning" | "undetermined";

export const CAUSE_CODES = [
  "missing_activation_token",
  "activation_invalid",
  "activation_signer_untrusted",
  "activation_not_yet_valid",
  "activation_expired",
  "activation_revoked",
  "activation_expiring_soon",
  "export_not_found",
  "subject_mismatch",
  "export_type_mismatch",
  "account_token_position_mismatch",
  "source_account_not_found",
  "source_account_expired",
  "push_rejected",
  "import_invalid",
  "account_jwt_invalid",
  "account_expired",
  "server_state_stale",
  "duplicate_import",
  "import_cycle",
  "duplicate_of_cycle_import",
  "cycle_search_refused",
  "local_subject_mapped",
  "local_subject_partly_mapped",
  "local_subject_mappings_overlap",
  "replies_mapped",
  "replies_partly_mapped",
  "replies_mappings_overlap",
  "jetstream_imports_incomplete",
  "exports_overlap",
] as const;

export type CauseCode = (typeof CAUSE_CODES)[number];

export interface TokenSummary {
  issuer: string;
  issuer_account: string | null;
  issued_at: string | null;
  not_before: string | null;
  expires_at: string | null;
}

/** What the servers themselves report about the import (filled by the live service). */
export interface ServerView {
  servers: number;
  registered: boolean;
  invalid: boolean;
}

/**
 * An import's verdict: its (status, cause). A change of verdict is what the live service publishes
 * as an event and what a what-if reports; anything else in a diagnosis may change silently.
 */
export type Verdict = Pick<ImportDiagnosis, "status" | "cause">;

/** One frozen object per (status, cause) pair met: a bounded set (the statuses times the causes). */
const SHARED_VERDICTS = new Map<string, Verdict>();

/**
 * The verdict of `d` as an object shared by every import that has it. The live service keeps the
 * last verdict of every import in per-import records (the publish gate's, the event publisher's):
 * one two-field object each was ~40 bytes times ~509,000 imports per record at 100,000 accounts.
 */
export function sharedVerdict(d: Verdict): Verdict {
  const id = `${d.status} ${d.cause}`;
  let shared = SHARED_VERDICTS.get(id);
  if (!shared) SHARED_VERDICTS.set(id, (shared = Object.freeze({ status: d.status, cause: d.cause })));
  return shared;
}

/** Do both hold the same verdict? False when either is missing. */
export function sameVerdict(a: Verdict | null | undefined, b: Verdict | null | undefined): boolean {
  return !!a && !!b && a.status === b.status && a.cause === b.cause;
}

export interface ImportDiagnosis {
  account: string;
  account_name: string | null;
  name: string | null;
  type: "stream" | "service";
  source_account: string;
  source_account_name: string | null;
  subject: string;
  local_subject: string | null;
  status: ImportStatus;
  cause: CauseCode | null;
  message: string;
  remediation: string[];
  token: TokenSummary | null;
  server: ServerView | null;
  /**
   * An active import that carries nothing, from the servers' subscriptions (the live service, each
   * epoch): "no_responders" (a service import whose exporter has no responder on any server),
   * "no_subscribers" (a stream import no client of the importer subscribes to); null otherwise or
   * when not known.
   */
  idle: "no_responders" | "no_subscribers" | null;
}
