/**
 * Pre-flight of a push: what would change if this account JWT (an importer's, an exporter's, or
 * both) were pushed, computed on a what-if copy of the directory. Nothing is pushed.
 *
 * First the resolver's own gate: a JWT it would refuse changes nothing (the server keeps serving
 * the stored version), so the answer is the refusal and the imports the JWT declares, none of
 * which would take effect. Otherwise the proposed JWT replaces the stored one in the copy, and
 * every import it can affect — its own, and every other account's import from it (the reverse
 * index) — is diagnosed before and after. Both sides are the JWTs' verdict at the same instant:
 * the servers' own view and pushes they rejected earlier are the live check's business.
 */
import { subjectPhrase, label } from "../causes/cause.js";
import { causeContext, diagnose } from "../report.js";
import type { ImportDiagnosis } from "../diagnosis.js";
import { standInEntry, type AccountDirectory, type AccountEntry } from "../directory.js";
import type { EvaluationOptions, Finding } from "../evaluate.js";
import { iso } from "../time.js";
import { activationOf, parseAccount, type AccountClaims, type ImportClaim } from "../jwt/claims.js";
import { isPublicKey } from "../jwt/nkey.js";
import { refusalOnPush } from "../push-refusal.js";
import { timeProblem } from "../validate.js";
import { compare, diagnosesByImport, type PredictedChange } from "./changes.js";
import { refuse, type Refusal } from "../result.js";

export interface PreflightResult {
  account: string;
  account_name: string | null;
  /** The resolver would store the JWT. */
  stored: boolean;
  /** Why it would not (our replica of its validation), or null. */
  refusal: string | null;
  /** Some import would stop working, or a newly declared one would not work. */
  breaks: boolean;
  /** Stored only: imports whose (status, cause) would change; breaks first. */
  changes: PredictedChange[];
  /** Stored only: imports the stored JWT declares and the proposed one does not, as they are today. */
  removed: ImportDiagnosis[];
  /** Refused only: every import the proposed JWT declares, `push_rejected`, naming the import at fault. */
  refused_imports: ImportDiagnosis[];
  /** What else the operator should know: a roll-back, an account the server would not load, … */
  notes: string[];
}

export type PreflightOutcome = { ok: true; result: PreflightResult } | Refusal;

export function preflight(dir: AccountDirectory, jwt: string, opts: EvaluationOptions): PreflightOutcome {
  const token = jwt.trim();
  const parsed = parseAccount(token);
  // The resolver answers these too ("jwt update resulted in error"), but with no account to name
  // there is no import to say anything about: it is the caller's input that is wrong.
  if (!parsed.ok) return refuse("invalid", `jwt: not an account JWT: ${parsed.error}`);
  const claims = parsed.claims;
  if (!isPublicKey(claims.subject, "account"))
    return refuse("invalid", `jwt: its subject "${claims.subject}" is not an account public key`);
  const refusal = refusalOnPush(claims, dir.trust);
  const result = refusal === null ? stored(dir, token, claims, opts) : refused(dir, claims, refusal, opts);
  return { ok: true, result };
}

function stored(dir: AccountDirectory, token: string, claims: AccountClaims, opts: EvaluationOptions): PreflightResult {
  const current = dir.get(claims.subject);
  const whatIf = dir.clone();
  const { entry } = whatIf.upsert(token);
  // Importers of the account are the same before and after: only its own JWT changes.
  const affected = new Set([...dir.affectedBy(entry.id), ...whatIf.affectedBy(entry.id)]);
  const { changes, removed } = compare(
    diagnosesByImport(dir, affected, opts),
    diagnosesByImport(whatIf, affected, opts),
  );
  return {
    ...identity(claims),
    stored: true,
    refusal: null,
    breaks: changes.some((c) => c.breaks),
    changes,
    removed,
    refused_imports: [],
    notes: notesOnStore(current, entry, opts.now),
  };
}

function refused(
  dir: AccountDirectory,
  claims: AccountClaims,
  refusal: string,
  opts: EvaluationOptions,
): PreflightResult {
  const issues = dir.trust.validate(claims).imports;
  const importer = standInEntry(claims);
  const hasStored = dir.get(claims.subject) !== undefined;
  const refused_imports = claims.imports.map((imp) => {
    const detail = issues.get(imp.index)?.[0]?.message ?? refusal;
    return refusedImport(dir, importer, imp, detail, hasStored, opts.now);
  });
  const name = claims.name || claims.subject;
  const kept = hasStored
    ? `the server would keep serving the stored version of ${name}`
    : `the server would still have no JWT for ${name}`;
  return {
    ...identity(claims),
    stored: false,
    refusal,
    breaks: false,
    changes: [],
    removed: [],
    refused_imports,
    notes: [`The resolver would refuse this JWT (${refusal}): nothing would change, ${kept}.`],
  };
}

/** An import of a refused JWT: it would never take effect as declared. */
function refusedImport(
  dir: AccountDirectory,
  importer: AccountEntry,
  imp: ImportClaim,
  detail: string,
  hasStored: boolean,
  now: number,
): ImportDiagnosis {
  const finding: Finding = {
    importer,
    imp,
    cause: "push_rejected",
    detail,
    exportClaim: null,
    activation: activationOf(imp),
  };
  const d = diagnose(dir, finding, now);
  const ctx = causeContext(dir, finding, now);
  const keeps = hasStored
    ? `keep serving the stored version of ${label(ctx.importer)}`
    : `have no JWT for ${label(ctx.importer)}`;
  return {
    ...d,
    message: `${subjectPhrase(ctx)} would not take effect: the server would refuse this JWT (${detail}) and ${keeps}.`,
  };
}

function notesOnStore(current: AccountEntry | undefined, proposed: AccountEntry, now: number): string[] {
  const notes: string[] = [];
  const name = label(proposed);
  if (!current) notes.push(`No JWT is stored for ${name} yet: this push would add the account.`);
  else if (current.digest === proposed.digest)
    notes.push(`This is the JWT the server already stores for ${name}: pushing it changes nothing.`);
  else if (current.claims && proposed.claims!.issuedAt < current.claims.issuedAt) {
    notes.push(
      `This JWT was issued at ${iso(proposed.claims!.issuedAt)}, before the stored one (${iso(current.claims.issuedAt)}): ` +
        `the resolver stores a pushed JWT whatever its age, so pushing it rolls ${name} back.`,
    );
  }
  if (proposed.problem)
    notes.push(
      `The resolver would store this JWT, but the server would not load ${name}: ${proposed.problem.message}.`,
    );
  const time = timeProblem(proposed.claims!, now);
  if (time === "expired")
    notes.push(`This JWT expired at ${iso(proposed.claims!.expires)}: the server would not load ${name}.`);
  if (time === "not_yet_valid")
    notes.push(
      `This JWT is not valid before ${iso(proposed.claims!.notBefore)}: the server would not load ${name} until then.`,
    );
  return notes;
}

const identity = (claims: AccountClaims) => ({ account: claims.subject, account_name: claims.name || null });
