/**
 * The evaluator: for each import an account JWT declares, walk nats-server's decision procedure
 * (docs/decision-procedure.md, steps A to F) in the server's order and stop at the first step
 * that fails. Pure: the directory and the clock in, findings out.
 */
import type { AccountDirectory, AccountEntry, ExportIndex } from "./directory.js";
import { exactExport, installedImport, installedImports, installedMappings } from "./directory.js";
import type { ActivationClaims, ExportClaim, ImportClaim } from "./jwt/claims.js";
import { activationOf, exportTypeOf, importActivation } from "./jwt/claims.js";
import type { CauseCode } from "./diagnosis.js";
import { isSubsetMatch, isValidSubject, subjectsCollide } from "./subject.js";
import { label, NOT_YET_VALID_ACCOUNT } from "./causes/cause.js";
import { iso } from "./time.js";
import { activationIssues, exporterSubject, timeProblem } from "./validate.js";
import { implicitlyImported } from "./system-account.js";
import { cycleOf, MAX_CYCLE_SEARCH_DEPTH, type CycleStep } from "./cycle.js";
import { mappingReach, soleDestination, type MappingFunctions } from "./mapping.js";
import { repliesFinding } from "./replies.js";
import { causeOf } from "./causes/index.js";
import type { MappingFinding } from "./causes/cause.js";
import { jetStreamSet, type ActiveSibling, type JetStreamSet } from "./jetstream.js";

export interface EvaluationOptions {
  /** Unix seconds. */
  now: number;
  /** A valid token expiring within this many seconds is a warning. */
  expiryWarningSeconds: number;
}

export const DEFAULT_EXPIRY_WARNING_SECONDS = 7 * 24 * 3600;

/** What the evaluator finds for one import: no cause means active. */
export interface Finding {
  importer: AccountEntry;
  imp: ImportClaim;
  cause: CauseCode | null;
  /** The precise reason, where the cause alone does not say it. */
  detail: string | null;
  exportClaim: ExportClaim | null;
  activation: ActivationClaims | null;
  /** For import_cycle: the imports forming the cycle, this one first. */
  cycle?: CycleStep[] | null;
  /** For the mapping causes: the importer's mapping of the local subject. */
  mapping?: MappingFinding | null;
  /** For jetstream_imports_incomplete: what the import's JetStream set lacks. */
  jetstream?: JetStreamSet | null;
  /** For exports_overlap (only): every export that contains the import's subject, with what each would decide. */
  exports?: ExportChoice[];
  /**
   * The import as the servers install it, where that differs from `imp` (account-scoped functions
   * expanded: account-hash.ts); the evaluation judged this one.
   */
  installed?: ImportClaim | null;
}

/** One of several exports an import's subject matches, and what the server concludes when it picks that one. */
export interface ExportChoice {
  exportClaim: ExportClaim;
  /** The cause this export gives the import; null: it approves it. */
  cause: CauseCode | null;
}

/** What one step of the procedure concludes (no cause: this step passes); not an import's Verdict. */
type StepOutcome = Pick<Finding, "cause" | "detail"> &
  Partial<Pick<Finding, "exportClaim" | "activation" | "cycle" | "mapping" | "jetstream" | "exports">>;

const pass = null;
const fail = (cause: CauseCode, detail: string | null = null, extra: Partial<StepOutcome> = {}): StepOutcome => ({
  cause,
  detail,
  ...extra,
});

/** Evaluate every import of every account, or of the given accounts only. */
export function evaluate(dir: AccountDirectory, opts: EvaluationOptions, only?: Iterable<string>): Finding[] {
  const entries = only ? [...only].map((id) => dir.get(id)).filter((e): e is AccountEntry => !!e) : dir.accounts();
  return entries.flatMap((importer) =>
    (importer.claims?.imports ?? []).map((imp) => evaluateImport(dir, importer, imp, opts)),
  );
}

export function evaluateImport(
  dir: AccountDirectory,
  importer: AccountEntry,
  declared: ImportClaim,
  opts: EvaluationOptions,
): Finding {
  const activation = activationOf(declared);
  // The servers judge the import they install: its subjects expanded where their line does that.
  const imp = installedImport(importer, declared);
  if (typeof imp === "string")
    return { importer, imp: declared, cause: "import_invalid", detail: imp, exportClaim: null, activation };
  let outcome = serverOutcome(dir, importer, imp, opts);
  // The server keeps an import the accounts' own mappings starve: what reaches it is decided per message.
  if (approved(outcome)) outcome = mappingsOutcome(dir, importer, imp, outcome);
  // One the load order adds or refuses is dead either way when the mappings take every request or reply.
  else if (outcome.cause === "import_cycle")
    outcome = starvedAnyway(mappingsOutcome(dir, importer, imp, outcome)) ?? outcome;
  // An import the server honours may still be one piece of an incomplete JetStream set.
  if (outcome.cause === null) outcome = jetStreamOutcome(dir, importer, imp, outcome, opts) ?? outcome;
  const finding: Finding = {
    importer,
    imp: declared,
    ...(imp !== declared ? { installed: imp } : {}),
    cause: outcome.cause,
    detail: outcome.detail,
    exportClaim: outcome.exportClaim ?? null,
    activation: outcome.activation ?? activation,
    cycle: outcome.cycle ?? null,
    mapping: outcome.mapping ?? null,
    jetstream: outcome.jetstream ?? null,
  };
  // Only where intersecting exports disagree: no field more on every other finding (decision 40).
  if (outcome.exports) finding.exports = outcome.exports;
  return finding;
}

/**
 * The importer's own mappings apply to every request before a service import sees it (see
 * mapping.ts): one that sends all requests on the local subject elsewhere starves the import, one
 * that sends some of them elsewhere starves that share, and several that would keep different
 * shares leave it to the server's load order. Stream imports are not touched.
 */
function mappedOutcome(
  importer: AccountEntry,
  imp: ImportClaim,
  outcome: StepOutcome,
  functions: MappingFunctions,
): StepOutcome {
  const mappings = installedMappings(importer);
  if (imp.type !== "service" || mappings.length === 0) return outcome;
  const local = imp.localSubject ?? imp.subject;
  const reach = mappingReach(mappings, local, functions);
  const kept = {
    exportClaim: outcome.exportClaim ?? null,
    ...(outcome.activation ? { activation: outcome.activation } : {}),
  };
  switch (reach.kind) {
    case "untouched":
      return outcome;
    case "through":
      return {
        ...outcome,
        detail: `requests on "${local}" are mapped elsewhere; requests on "${reach.via.source}" are mapped onto it and reach it`,
      };
    case "away":
      return fail("local_subject_mapped", null, {
        ...kept,
        mapping: {
          source: reach.mapping.source,
          to: reach.to,
          percent: 0,
          newLocal: soleDestination(reach, local, functions),
        },
      });
    case "contested": {
      const overlapping = reach.shares.map((s) => ({ source: s.mapping.source, percent: s.percent }));
      return fail("local_subject_mappings_overlap", null, {
        ...kept,
        mapping: {
          source: overlapping[0]!.source,
          to: [],
          percent: overlapping.at(-1)!.percent,
          newLocal: null,
          overlapping,
        },
      });
    }
    case "partial":
      // a mapping starving the import now outweighs a token that expires later
      return fail("local_subject_partly_mapped", null, {
        ...kept,
        mapping: { source: reach.mapping.source, to: reach.to, percent: reach.percent, newLocal: null },
      });
  }
}

/**
 * What the accounts' mappings do to a service import: to its requests on the local subject
 * (mappedOutcome), then to its replies (replies.ts); a reply finding stands where it is worse.
 */
function mappingsOutcome(
  dir: AccountDirectory,
  importer: AccountEntry,
  imp: ImportClaim,
  outcome: StepOutcome,
): StepOutcome {
  const { rules: oldest, otherLines } = dir.trust;
  let worst = mappingsOutcomeOn(dir, importer, imp, outcome, oldest.mappingFunctions);
  // Servers of several lines (a rolling upgrade) may build different mappings: the line that
  // starves the import most decides, as the import is broken on its servers.
  for (const rules of otherLines) {
    if (rules.mappingFunctions === oldest.mappingFunctions) continue;
    const on = mappingsOutcomeOn(dir, importer, imp, outcome, rules.mappingFunctions);
    if (severity(on.cause) < severity(worst.cause)) worst = on;
  }
  return worst;
}

/** mappingsOutcome on servers that build these mapping functions. */
function mappingsOutcomeOn(
  dir: AccountDirectory,
  importer: AccountEntry,
  imp: ImportClaim,
  outcome: StepOutcome,
  functions: MappingFunctions,
): StepOutcome {
  const requests = mappedOutcome(importer, imp, outcome, functions);
  if (imp.type !== "service") return requests;
  const replies = repliesFinding(installedMappings(dir.get(imp.account)), installedMappings(importer), functions);
  if (!replies || severity(replies.cause) >= severity(requests.cause)) return requests;
  return fail(replies.cause, null, {
    exportClaim: outcome.exportClaim ?? null,
    ...(outcome.activation ? { activation: outcome.activation } : {}),
    mapping: replies.mapping,
  });
}

/** How badly a mapping finding starves the import: lower is worse; anything else ranks last. */
function severity(cause: CauseCode | null): number {
  const status = cause === null ? "active" : causeOf(cause).status;
  return status === "inactive" ? 0 : status === "undetermined" ? 1 : status === "warning" ? 2 : 3;
}

/** An outcome of the mappings that leaves the import dead whatever the server's load order: null if none. */
function starvedAnyway(outcome: StepOutcome): StepOutcome | null {
  return outcome.cause === "local_subject_mapped" || outcome.cause === "replies_mapped" ? outcome : null;
}

/** Whether the server honours the import: authorization, then cycles, then duplicate streams. */
function serverOutcome(
  dir: AccountDirectory,
  importer: AccountEntry,
  imp: ImportClaim,
  opts: EvaluationOptions,
): StepOutcome {
  const outcome = authorized(dir, importer, imp, opts);
  // After authorization the server refuses an import that closes a cycle, then a duplicate stream (step F).
  return approved(outcome)
    ? (cycleOutcome(dir, importer, imp, opts) ?? duplicateOf(dir, importer, imp, opts) ?? outcome)
    : outcome;
}

/**
 * An active import that uses another account's JetStream consumer, judged with the importer's other
 * active imports from the same account (jetstream.ts): a warning when the set lacks a piece.
 * Only for an exporter whose JWT grants JetStream; the system account's API is not a shared consumer.
 */
function jetStreamOutcome(
  dir: AccountDirectory,
  importer: AccountEntry,
  imp: ImportClaim,
  outcome: StepOutcome,
  opts: EvaluationOptions,
): StepOutcome | null {
  const exporter = dir.get(imp.account);
  if (!exporter?.claims?.limits.jetStream || imp.account === dir.trust.systemAccount) return null;
  const siblings = installedImports(importer).flatMap((other): ActiveSibling[] => {
    if (other.account !== imp.account) return [];
    const o = other === imp ? outcome : serverOutcome(dir, importer, other, opts);
    return approved(o) ? [{ imp: other, exportClaim: o.exportClaim ?? null }] : [];
  });
  const index = dir.exportsOf(imp.account)!;
  const set = jetStreamSet(
    imp,
    outcome.exportClaim ?? null,
    siblings,
    (type, subject) => matchExport(index, type, subject) !== null,
  );
  return set ? { ...outcome, cause: "jetstream_imports_incomplete", jetstream: set } : null;
}

const approved = (outcome: StepOutcome) => outcome.cause === null || outcome.cause === "activation_expiring_soon";

/** Every check up to the export's approval of this import. */
function authorized(
  dir: AccountDirectory,
  importer: AccountEntry,
  imp: ImportClaim,
  opts: EvaluationOptions,
): StepOutcome {
  return (
    importerLoads(importer, imp, opts.now) ??
    importedByTheServer(dir, imp) ??
    sourceAccountLoads(dir, imp, opts.now) ??
    exportApproves(dir, importer, imp, opts)
  );
}

/**
 * `authorized` for the declared import itself, without the server's own import of its subject, for
 * an import met on a walk. Its account is reached only as the source of an import the walk followed,
 * which `sourceAccountLoads` let through, so that account loads: step A would say nothing more (any
 * invalid import makes the whole JWT a problem).
 */
function addedAsDeclared(
  dir: AccountDirectory,
  importer: AccountEntry,
  imp: ImportClaim,
  opts: EvaluationOptions,
): StepOutcome {
  return sourceAccountLoads(dir, imp, opts.now) ?? exportApproves(dir, importer, imp, opts);
}

/**
 * nats-server refuses an import that would close a cycle of imports, and one its walk through the
 * source's imports rejoins or takes past its depth (see cycle.ts).
 */
function cycleOutcome(
  dir: AccountDirectory,
  importer: AccountEntry,
  imp: ImportClaim,
  opts: EvaluationOptions,
): StepOutcome | null {
  // An import the server makes itself (importedByTheServer) goes through the same cycle check as a
  // declared one, so the walk runs for it too; on the way, a declared import of such a subject counts
  // only where the exports approve it, since the server's own one delivers to another subject.
  const found = cycleOf(dir, importer, imp, (account, other) => approved(addedAsDeclared(dir, account, other, opts)));
  if (!found) return null;
  if (found.kind === "depth")
    return fail("cycle_search_refused", `its walk through the imports passes ${MAX_CYCLE_SEARCH_DEPTH} accounts`);
  if (found.kind === "rejoin")
    return fail(
      "cycle_search_refused",
      `its walk through the imports reaches an account a second time, ${found.steps.length - 1} import(s) in, by another way`,
    );
  const cycle = found.steps;
  const detail = cycle
    .map(
      (s) =>
        `${label(s.account)} imports ${s.imp.type} "${exporterSubject(s.imp)}" from ${dir.nameOf(s.imp.account) ?? s.imp.account}`,
    )
    .join(", ");
  return fail("import_cycle", detail, { cycle });
}

/**
 * After approval, nats-server refuses a second stream import of the same subject from the same
 * account (isStreamImportDuplicate), whatever its local subject: only the first one it added counts.
 * The cycle walk comes first, so an earlier import it refuses was never added: the first one added
 * is the first earlier one authorized that no walk refuses (nothing before it was added, so it is no
 * duplicate itself; an import is never compared with itself or a later one). An earlier import on a
 * cycle is refused or added by the server's load order (import_cycle): where it comes before any
 * other, the JWTs do not decide whether this one is a duplicate.
 */
function duplicateOf(
  dir: AccountDirectory,
  importer: AccountEntry,
  imp: ImportClaim,
  opts: EvaluationOptions,
): StepOutcome | null {
  if (imp.type === "service") return null;
  let onCycle: ImportClaim | null = null;
  for (const other of installedImports(importer)) {
    if (other.index >= imp.index || other.type === "service") continue;
    if (other.account !== imp.account || other.subject !== imp.subject) continue;
    if (!approved(authorized(dir, importer, other, opts))) continue;
    const walk = cycleOutcome(dir, importer, other, opts);
    if (walk === null) {
      return fail(
        "duplicate_import",
        `it repeats import #${other.index + 1}${other.name ? ` ("${other.name}")` : ""}, which the server keeps`,
      );
    }
    if (walk.cause === "import_cycle") onCycle ??= other;
  }
  if (!onCycle) return null;
  return fail(
    "duplicate_of_cycle_import",
    `repeats import #${onCycle.index + 1}${onCycle.name ? ` ("${onCycle.name}")` : ""}, which is on a cycle of imports`,
  );
}

/** Step A: the importer's own JWT must be loadable; a blocking error anywhere rejects it whole. */
function importerLoads(importer: AccountEntry, imp: ImportClaim, now: number): StepOutcome | null {
  const problem = importer.problem;
  const ownIssues = importer.validation?.imports.get(imp.index) ?? [];
  if (ownIssues.length > 0) {
    const tokenIssue = ownIssues.find((i) => i.aboutToken);
    const structural = ownIssues.find((i) => !i.aboutToken);
    // Structural problems of the import itself come first: fixing the token would not save it.
    return structural ? fail("import_invalid", structural.message) : fail("activation_invalid", tokenIssue!.message);
  }
  if (problem) return fail("account_jwt_invalid", problem.message);
  const time = importer.claims && timeProblem(importer.claims, now);
  if (time === "expired") return fail("account_expired", null);
  if (time === "not_yet_valid")
    return fail("account_jwt_invalid", `${NOT_YET_VALID_ACCOUNT} ${iso(importer.claims!.notBefore)}`);
  return pass;
}

/**
 * The server imports a few system-account services into every account itself (registerSystemImports):
 * requests on those subjects reach the system account whatever becomes of the declared import.
 */
function importedByTheServer(dir: AccountDirectory, imp: ImportClaim): StepOutcome | null {
  return implicitlyImported(imp, dir.trust.systemAccount)
    ? { cause: null, detail: "the server imports this subject into every account itself" }
    : null;
}

/** Step B: the source account must be found and loadable. */
function sourceAccountLoads(dir: AccountDirectory, imp: ImportClaim, now: number): StepOutcome | null {
  const source = dir.get(imp.account);
  if (!source) return fail("source_account_not_found", null);
  if (source.problem)
    return fail(
      "source_account_not_found",
      `its JWT is present but the server will not load it: ${source.problem.message}`,
    );
  const time = source.claims && timeProblem(source.claims, now);
  if (time === "expired") return fail("source_account_expired", `its JWT expired at ${iso(source.claims!.expires)}`);
  if (time === "not_yet_valid")
    return fail("source_account_expired", `its JWT is not valid before ${iso(source.claims!.notBefore)}`);
  return pass;
}

/** Steps C–E: an export of the right type must approve the exporter-side subject. */
function exportApproves(
  dir: AccountDirectory,
  importer: AccountEntry,
  imp: ImportClaim,
  opts: EvaluationOptions,
): StepOutcome {
  const subject = exporterSubject(imp);
  const local = imp.localSubject ?? subject;
  if (!isValidSubject(subject) || !isValidSubject(local)) {
    return fail("import_invalid", `"${!isValidSubject(subject) ? subject : local}" is not a valid subject`);
  }
  const index = dir.exportsOf(imp.account)!;
  const exporter = dir.get(imp.account)!;
  const { exports, exact } = matchingExports(index, imp.type, subject);
  if (exports.length === 0) return noExport(index.all, imp, subject);
  const judged = exports.map((e) => authorize(e, exporter, importer, imp, exact ? null : subject, opts));
  if (judged.length === 1) return judged[0]!;
  return chosenByMapOrder(exports, judged);
}

/**
 * The outcome of an import whose subject several (wildcard) exports of its type contain. jwt
 * refuses only exports that contain one another, so intersecting ones (`a.*.c` and `a.b.*`) pass.
 * nats-server holds the import against the first of them it meets ranging over a Go map of the
 * exports (checkServiceExportApproved, checkStreamExportApproved), an order drawn anew at every
 * check: where they do not all approve or all refuse, the JWTs do not decide (docs/decisions.md 45).
 */
function chosenByMapOrder(exports: ExportClaim[], judged: StepOutcome[]): StepOutcome {
  const approving = judged.filter(approved);
  // All approve: a warning of one (a token expiring soon) is worth saying; all refuse: the first says why.
  if (approving.length === judged.length) return approving.find((o) => o.cause !== null) ?? approving[0]!;
  if (approving.length === 0) return judged[0]!;
  const choices = exports.map((exportClaim, i) => ({ exportClaim, cause: judged[i]!.cause }));
  return fail("exports_overlap", null, {
    exportClaim: exports[judged.findIndex((o) => !approved(o))]!,
    exports: choices,
  });
}

/**
 * The export the server holds an import's exporter-side subject against. Like the server: an
 * exact subject match decides alone; otherwise an export of the same type whose subject contains
 * the import's (the first in the JWT: where several do, see matchingExports).
 */
export function matchExport(
  index: ExportIndex,
  type: string,
  subject: string,
): { exportClaim: ExportClaim; exact: boolean } | null {
  const { exports, exact } = matchingExports(index, type, subject);
  return exports.length > 0 ? { exportClaim: exports[0]!, exact } : null;
}

/**
 * Every export the server may hold the import against: the exact match alone, or else every
 * export of the same type whose subject contains the import's, in the JWT's order.
 */
export function matchingExports(
  index: ExportIndex,
  type: string,
  subject: string,
): { exports: ExportClaim[]; exact: boolean } {
  const exact = exactExport(index, type, subject);
  if (exact) return { exports: [exact], exact: true };
  return {
    exports: index.all.filter((e) => sameKind(e.type, type) && isSubsetMatch(subject, e.subject)),
    exact: false,
  };
}

const sameKind = (exportType: string, importType: string) => exportTypeOf(exportType) === exportTypeOf(importType);

/** Why no export approves the import: the other type, a narrower export, or none at all (with the export nearest to it). */
export function noExport(exports: ExportClaim[], imp: ImportClaim, subject: string): StepOutcome {
  const otherType = exports.find(
    (e) => !sameKind(e.type, imp.type) && (e.subject === subject || isSubsetMatch(subject, e.subject)),
  );
  if (otherType) return fail("export_type_mismatch", null, { exportClaim: otherType });
  const narrower = exports.find((e) => sameKind(e.type, imp.type) && subjectsCollide(subject, e.subject));
  if (narrower) return fail("subject_mismatch", null, { exportClaim: narrower });
  return fail("export_not_found", null);
}

/**
 * Steps D and E, in nats-server's checkAuth order. `wildcardMatched`: the exporter-side subject the
 * export matched by wildcard, null for an exact match.
 */
function authorize(
  exp: ExportClaim,
  exporter: AccountEntry,
  importer: AccountEntry,
  imp: ImportClaim,
  wildcardMatched: string | null,
  opts: EvaluationOptions,
): StepOutcome {
  const found = { exportClaim: exp };
  if (!exp.tokenReq && exp.accountTokenPosition === 0) return { cause: null, detail: null, ...found };
  const pos = exp.accountTokenPosition;
  if (pos > 0) {
    // The server checks the position against the import's tokens; an exact match passes none.
    // (Split only here: most exports name no position, and splitting a kept subject is not cheap.)
    const tokens = wildcardMatched?.split(".") ?? null;
    const ok = tokens !== null && pos <= tokens.length && tokens[pos - 1] === importer.id;
    return ok ? { cause: null, detail: null, ...found } : fail("account_token_position_mismatch", null, found);
  }
  return checkActivation(exp, exporter, importer, imp, opts);
}

/** Step E of docs/decision-procedure.md: nats-server's checkActivation, in its order. */
function checkActivation(
  exp: ExportClaim,
  exporter: AccountEntry,
  importer: AccountEntry,
  imp: ImportClaim,
  opts: EvaluationOptions,
): StepOutcome {
  const found = { exportClaim: exp };
  const parsed = importActivation(imp);
  if (!parsed) return fail("missing_activation_token", null, found);
  if (!parsed.ok) return fail("activation_invalid", `the activation token does not decode: ${parsed.error}`, found);
  const act = parsed.claims;
  const withAct = { ...found, activation: act };
  // The directory validated the importer's own imports (step A, which passed to get here), so a
  // token check is only needed for an import that is not the one validated.
  const validated = importer.validation !== null && importer.claims?.imports[imp.index] === imp;
  const issue = validated ? undefined : activationIssues(imp, act, importer.id)[0];
  if (issue) return fail("activation_invalid", issue, withAct);
  const untrusted = signerUntrusted(act, exporter);
  if (untrusted) return fail("activation_signer_untrusted", untrusted, withAct);
  const time = timeProblem(act, opts.now);
  if (time === "not_yet_valid") return fail("activation_not_yet_valid", null, withAct);
  if (time === "expired") return fail("activation_expired", null, withAct);
  if (isRevoked(exp, importer.id, act.issuedAt)) return fail("activation_revoked", null, withAct);
  if (act.expires > 0 && act.expires - opts.now <= opts.expiryWarningSeconds) {
    return fail("activation_expiring_soon", null, withAct);
  }
  return { cause: null, detail: null, ...withAct };
}

/**
 * nats-server's isIssuerClaimTrusted: a token without issuer_account was signed by the exporter
 * itself (the import check already enforced that); one with issuer_account must name the exporter
 * and be signed by one of its current signing keys.
 */
function signerUntrusted(act: ActivationClaims, exporter: AccountEntry): string | null {
  if (act.issuerAccount === null) return null;
  if (act.issuerAccount !== exporter.id) {
    return `the token names issuer_account ${act.issuerAccount}, not the source account`;
  }
  // The server counts the account's own key among its signing keys, unless the operator
  // demands strict signing-key usage.
  const keys = exporter.claims!.signingKeys;
  if (keys.has(act.issuer) || (act.issuer === exporter.id && !exporter.strictSigningKeys)) return null;
  return `it is signed by ${act.issuer}, which is not one of the source account's current signing keys`;
}

function isRevoked(exp: ExportClaim, importerId: string, issuedAt: number): boolean {
  const at = (key: string) => exp.revocations.get(key);
  const own = at(importerId);
  const all = at("*");
  return (own !== undefined && own >= issuedAt) || (all !== undefined && all >= issuedAt);
}
