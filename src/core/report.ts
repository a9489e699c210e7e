/** Turns evaluator findings into the report: the ImportDiagnosis objects of the API, account errors, a summary (schemas/import-diagnosis.schema.json). */
import { causeOf, type CauseContext } from "./causes/index.js";
import { subjectPhrase } from "./causes/cause.js";
import type { AccountDirectory, AccountEntry } from "./directory.js";
import { timeProblem } from "./validate.js";
import type { CauseCode, ImportDiagnosis, ImportStatus, ServerView, TokenSummary } from "./diagnosis.js";
import { exportTypeOf, type ActivationClaims, type ImportClaim } from "./jwt/claims.js";
import { peekClaims } from "./jwt/decode.js";
import { evaluate, type EvaluationOptions, type Finding } from "./evaluate.js";
import { shared } from "./strings.js";
import { iso } from "./time.js";
import { exporterSubject } from "./validate.js";

/** What the cause modules (and other command builders) may say about a finding. */
export function causeContext(dir: AccountDirectory, finding: Finding, now: number): CauseContext {
  const { importer, imp } = finding;
  // The subjects the server installs (account-scoped functions expanded), where they differ.
  const served = finding.installed ?? imp;
  return {
    importer: { id: importer.id, name: importer.name },
    exporter: { id: imp.account, name: dir.nameOf(imp.account) },
    imp,
    exporterSubject: exporterSubject(served),
    localSubject: served.localSubject ?? exporterSubject(served),
    detail: finding.detail,
    exportClaim: finding.exportClaim,
    activation: finding.activation,
    now,
    ...(finding.mapping ? { mapping: finding.mapping } : {}),
    ...(finding.cycle
      ? { cycle: finding.cycle.map((s) => ({ account: { id: s.account.id, name: s.account.name }, imp: s.imp })) }
      : {}),
    ...(finding.jetstream ? { jetstream: finding.jetstream } : {}),
    ...(finding.exports ? { exports: finding.exports } : {}),
  };
}

/** Shared by every import with nothing to do (most of them); frozen, since nothing edits a remediation in place. */
const NO_REMEDIATION: string[] = Object.freeze([]) as unknown as string[];

export function diagnose(dir: AccountDirectory, finding: Finding, now: number): ImportDiagnosis {
  const { importer, imp } = finding;
  const cause = finding.cause ? causeOf(finding.cause) : null;
  const plain = finding.cause === null && !finding.detail;
  return new Diagnosis(
    {
      account: importer.id,
      account_name: importer.name,
      name: imp.name,
      type: exportTypeOf(imp.type),
      source_account: imp.account,
      source_account_name: dir.nameOf(imp.account),
      subject: imp.subject,
      local_subject: imp.localSubject,
      status: cause ? cause.status : "active",
      cause: finding.cause,
      token: tokenSummary(finding.activation, imp.token),
      server: null,
      idle: null,
    },
    plain ? imp : finding,
    plain ? null : instantOf(now),
  );
}

/**
 * A copy of a diagnosis with some of its fields changed (`{ ...d, ...fields }`): the copy of one
 * whose texts are built when read builds them when read too, unless `fields` gives them.
 */
export function amended(d: ImportDiagnosis, fields: Partial<ImportDiagnosis>): ImportDiagnosis {
  if (d instanceof Diagnosis && fields.message === undefined && fields.remediation === undefined)
    return d.amended(fields);
  return { ...d, ...fields };
}

/** The instant a diagnosis was made, shared by every diagnosis of one evaluation (a number outside V8's small integers is boxed). */
interface Instant {
  readonly now: number;
}
let lastInstant: Instant = { now: Number.NaN };
function instantOf(now: number): Instant {
  if (lastInstant.now !== now) lastInstant = { now };
  return lastInstant;
}

/**
 * message and remediation, built when read: own enumerable properties (JSON, `{...d}`, Object.keys
 * and equality see them as data, in the schema's order), one getter each for every diagnosis (V8
 * shares one hidden class only when the getter is the same function).
 */
const MESSAGE: PropertyDescriptor = {
  get(this: Diagnosis): string {
    return this.text().message;
  },
  enumerable: true,
};
const REMEDIATION: PropertyDescriptor = {
  get(this: Diagnosis): string[] {
    return this.text().remediation;
  },
  enumerable: true,
};

/**
 * A diagnosis whose message and remediation are made from what it was made from, when something
 * reads them (a reply, an event, the history), not kept: they were the largest part of the live
 * service's heap (~160 MB of text at 100,000 accounts), and almost none is ever read. They come out
 * byte-identical to text built at once: the cause reads the same finding, the same instant and the
 * names this diagnosis holds (the names of the moment it was made), and none of those changes
 * (claims and findings are never edited; a new JWT makes new ones and new diagnoses).
 */
class Diagnosis implements ImportDiagnosis {
  // Declared only: fields would be defined before the constructor's body runs, ahead of the two
  // accessors, and JSON follows the order in which properties were added.
  declare readonly account: string;
  declare readonly account_name: string | null;
  declare readonly name: string | null;
  declare readonly type: "stream" | "service";
  declare readonly source_account: string;
  declare readonly source_account_name: string | null;
  declare readonly subject: string;
  declare readonly local_subject: string | null;
  declare readonly status: ImportStatus;
  declare readonly cause: CauseCode | null;
  declare readonly message: string;
  declare readonly remediation: string[];
  declare readonly token: TokenSummary | null;
  declare readonly server: ServerView | null;
  declare readonly idle: ImportDiagnosis["idle"];
  /** What the texts are made from: an active import with nothing to add needs only the import. */
  readonly #from: Finding | ImportClaim;
  readonly #at: Instant | null;

  constructor(fields: Fields, from: Finding | ImportClaim, at: Instant | null) {
    // Each as `this.x = …`: V8 sizes the object from the assignments to `this` it counts in the
    // constructor, and fields it did not count go to a separate property array (16 bytes more a
    // diagnosis, ~8 MB at 100,000 accounts; decision 40).
    this.account = fields.account;
    this.account_name = fields.account_name;
    this.name = fields.name;
    this.type = fields.type;
    this.source_account = fields.source_account;
    this.source_account_name = fields.source_account_name;
    this.subject = fields.subject;
    this.local_subject = fields.local_subject;
    this.status = fields.status;
    this.cause = fields.cause;
    Object.defineProperty(this, "message", MESSAGE);
    Object.defineProperty(this, "remediation", REMEDIATION);
    this.token = fields.token;
    this.server = fields.server;
    this.idle = fields.idle;
    this.#from = from;
    this.#at = at;
  }

  amended(fields: Partial<Fields>): Diagnosis {
    // Not `{ ...this }`: that would read (build) the texts.
    const own: Fields = {
      account: this.account,
      account_name: this.account_name,
      name: this.name,
      type: this.type,
      source_account: this.source_account,
      source_account_name: this.source_account_name,
      subject: this.subject,
      local_subject: this.local_subject,
      status: this.status,
      cause: this.cause,
      token: this.token,
      server: this.server,
      idle: this.idle,
    };
    return new Diagnosis({ ...own, ...fields }, this.#from, this.#at);
  }

  text(): { message: string; remediation: string[] } {
    const from = this.#from;
    const finding = "imp" in from ? from : null;
    const ctx = contextOf(this, finding?.imp ?? (from as ImportClaim), finding, this.#at?.now ?? 0);
    const cause = finding?.cause ? causeOf(finding.cause) : null;
    if (cause) return { message: cause.message(ctx), remediation: cause.remediation(ctx) };
    const detail = finding?.detail;
    return { message: `${subjectPhrase(ctx)} is active${detail ? ` (${detail})` : ""}.`, remediation: NO_REMEDIATION };
  }
}

/** A diagnosis's fields but its texts. */
type Fields = Omit<ImportDiagnosis, "message" | "remediation">;

/** causeContext, with the names the diagnosis was made with (`finding` null: an active import with nothing to add). */
function contextOf(d: ImportDiagnosis, imp: ImportClaim, finding: Finding | null, now: number): CauseContext {
  return {
    importer: { id: d.account, name: d.account_name },
    exporter: { id: d.source_account, name: d.source_account_name },
    imp,
    exporterSubject: exporterSubject(finding?.installed ?? imp),
    localSubject: (finding?.installed ?? imp).localSubject ?? exporterSubject(finding?.installed ?? imp),
    detail: finding?.detail ?? null,
    exportClaim: finding?.exportClaim ?? null,
    activation: finding?.activation ?? null,
    now,
    ...(finding?.mapping ? { mapping: finding.mapping } : {}),
    ...(finding?.cycle
      ? { cycle: finding.cycle.map((s) => ({ account: { id: s.account.id, name: s.account.name }, imp: s.imp })) }
      : {}),
    ...(finding?.jetstream ? { jetstream: finding.jetstream } : {}),
    ...(finding?.exports ? { exports: finding.exports } : {}),
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
