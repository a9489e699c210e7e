/** Turns evaluator findings into the report: the ImportDiagnosis objects of the API, account errors, a summary (schemas/import-diagnosis.schema.json). */
import { causeOf, type CauseContext } from "./causes/index.js";
import { subjectPhrase } from "./causes/cause.js";
import type { AccountDirectory, AccountEntry } from "./directory.js";
import { timeProblem } from "./validate.js";
import type { ImportDiagnosis, ImportStatus, TokenSummary } from "./diagnosis.js";
import { exportTypeOf, type ActivationClaims } from "./jwt/claims.js";
import { peekClaims } from "./jwt/decode.js";
import { evaluate, type EvaluationOptions, type Finding } from "./evaluate.js";
import { shared } from "./strings.js";
import { iso } from "./time.js";
import { exporterSubject } from "./validate.js";

/** What the cause modules (and other command builders) may say about a finding. */
export function causeContext(dir: AccountDirectory, finding: Finding, now: number): CauseContext {
  const { importer, imp } = finding;
  return {
    importer: { id: importer.id, name: importer.name },
    exporter: { id: imp.account, name: dir.nameOf(imp.account) },
    imp,
    exporterSubject: exporterSubject(imp),
    localSubject: imp.localSubject ?? exporterSubject(imp),
    detail: finding.detail,
    exportClaim: finding.exportClaim,
    activation: finding.activation,
    now,
    ...(finding.mapping ? { mapping: finding.mapping } : {}),
    ...(finding.cycle
      ? { cycle: finding.cycle.map((s) => ({ account: { id: s.account.id, name: s.account.name }, imp: s.imp })) }
      : {}),
    ...(finding.jetstream ? { jetstream: finding.jetstream } : {}),
  };
}

/** Shared by every import with nothing to do (most of them); frozen, since nothing edits a remediation in place. */
const NO_REMEDIATION: string[] = Object.freeze([]) as unknown as string[];

export function diagnose(dir: AccountDirectory, finding: Finding, now: number): ImportDiagnosis {
  const { importer, imp } = finding;
  const ctx = causeContext(dir, finding, now);
  const cause = finding.cause ? causeOf(finding.cause) : null;
  const status: ImportStatus = cause ? cause.status : "active";
  return {
    account: importer.id,
    account_name: importer.name,
    name: imp.name,
    type: exportTypeOf(imp.type),
    source_account: imp.account,
    source_account_name: ctx.exporter.name,
    subject: imp.subject,
    local_subject: imp.localSubject,
    status,
    cause: finding.cause,
    // Kept for every import while the service runs: flat (not the pieces they were built from), and
    // one copy of each distinct text.
    message: shared(
      cause ? cause.message(ctx) : `${subjectPhrase(ctx)} is active${finding.detail ? ` (${finding.detail})` : ""}.`,
    ),
    remediation: cause ? cause.remediation(ctx).map(shared) : NO_REMEDIATION,
    token: tokenSummary(finding.activation, imp.token),
    server: null,
    idle: null,
  };
}

/** Summaries of verified tokens, made once per token (three ISO dates each) and shared: frozen. */
const summaries = new WeakMap<ActivationClaims, TokenSummary>();

/** Token times for display; for a token that does not verify, what it claims (never the token itself). */
function tokenSummary(act: ActivationClaims | null, token: string | null): TokenSummary | null {
  if (act) {
    let known = summaries.get(act);
    if (!known)
      summaries.set(
        act,
        (known = Object.freeze(summary(act.issuer, act.issuerAccount, act.issuedAt, act.notBefore, act.expires))),
      );
    return known;
  }
  if (!token) return null;
  const claims = peekClaims(token);
  if (!claims) return { issuer: "", issuer_account: null, issued_at: null, not_before: null, expires_at: null };
  const n = (k: string) => (typeof claims[k] === "number" ? claims[k] : 0);
  const nats = (claims["nats"] ?? {}) as Record<string, unknown>;
  const ia = typeof nats["issuer_account"] === "string" ? nats["issuer_account"] : null;
  return summary(typeof claims["iss"] === "string" ? claims["iss"] : "", ia, n("iat"), n("nbf"), n("exp"));
}

function summary(issuer: string, issuerAccount: string | null, iat: number, nbf: number, exp: number): TokenSummary {
  // Kept for every token while the service runs; tokens issued or expiring at the same second share one copy.
  const t = (s: number) => (s > 0 ? shared(iso(s)) : null);
  return { issuer, issuer_account: issuerAccount, issued_at: t(iat), not_before: t(nbf), expires_at: t(exp) };
}

/** A stable order of diagnoses: by importing account (name, then key), subject, source account. */
export function byImport(a: ImportDiagnosis, b: ImportDiagnosis): number {
  return (
    (a.account_name ?? a.account).localeCompare(b.account_name ?? b.account) ||
    a.account.localeCompare(b.account) ||
    a.subject.localeCompare(b.subject) ||
    a.source_account.localeCompare(b.source_account)
  );
}

/** Evaluate and diagnose every import (or those of the given accounts). */
export function diagnoseAll(
  dir: AccountDirectory,
  opts: EvaluationOptions,
  only?: Iterable<string>,
): ImportDiagnosis[] {
  return evaluate(dir, opts, only).map((f) => diagnose(dir, f, opts.now));
}

/** An account JWT the server would not load, named so the operator can find it. */
export interface AccountError {
  account: string;
  account_name: string | null;
  error: string;
}

/**
 * Accounts whose JWT the server would refuse to load; of one account only, given its id. With
 * `now` (unix seconds), also those whose JWT is outside its validity window: the resolver still
 * stores an expired JWT, but the server loads none of it.
 */
export function accountErrors(dir: AccountDirectory, only?: string, now?: number): AccountError[] {
  const entries =
    only === undefined ? dir.accounts() : [dir.get(only)].filter((e): e is NonNullable<typeof e> => e !== undefined);
  return entries.flatMap((e) => {
    const error = e.problem?.message ?? (now === undefined ? null : timeError(e, now));
    return error === null ? [] : [{ account: e.id, account_name: e.name, error }];
  });
}

function timeError(e: AccountEntry, now: number): string | null {
  const time = e.claims && timeProblem(e.claims, now);
  if (time === "expired") return `its JWT expired at ${iso(e.claims!.expires)}`;
  if (time === "not_yet_valid") return `its JWT is not valid before ${iso(e.claims!.notBefore)}`;
  return null;
}

export interface CheckSummary {
  accounts: number;
  imports: number;
  active: number;
  inactive: number;
  warning: number;
  undetermined: number;
}

export function summarize(accounts: number, diagnoses: ImportDiagnosis[]): CheckSummary {
  const count = (s: ImportStatus) => diagnoses.filter((d) => d.status === s).length;
  return {
    accounts,
    imports: diagnoses.length,
    active: count("active"),
    inactive: count("inactive"),
    warning: count("warning"),
    undetermined: count("undetermined"),
  };
}
