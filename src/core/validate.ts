/**
 * The non-time validation nats-server applies to a whole account JWT, on push (the resolver's
 * claimValidate) and again at load (verifyAccountClaims): nats-io/jwt v2 `Account.Validate` for
 * the parts that bear on imports and exports. A single blocking error rejects the whole JWT, so
 * every import of that account is dead, not only the faulty one.
 */
import type { AccountClaims, ActivationClaims, ExportClaim, ImportClaim, MappingClaim } from "./jwt/claims.js";
import { importActivation, parseActivation } from "./jwt/claims.js";
import { isEncodedKey, isPublicKey, isWholeKey } from "./jwt/nkey.js";
import { hasWildcard, isContainedIn, subjectErrors } from "./subject.js";
import { install, type MappingFunctions } from "./mapping.js";
import { expandMapping } from "./account-hash.js";
import { atoi } from "./atoi.js";

export interface ImportIssue {
  message: string;
  /** True when the issue is about the import's activation token. */
  aboutToken: boolean;
}

export interface AccountValidation {
  /** Issues of each import, by import index. */
  imports: Map<number, ImportIssue[]>;
  /** Blocking issues elsewhere in the JWT (exports, limits, signing keys). */
  other: string[];
}

const isExportType = (t: string) => t === "stream" || t === "service";

/** The exporter-side subject of an import: what the export must approve. */
export function exporterSubject(imp: ImportClaim): string {
  return imp.type === "service" && imp.to ? imp.to : imp.subject;
}

/** nats-io/jwt Import.Validate without time checks: structural issues, then the token's. */
export function importIssues(imp: ImportClaim, importerId: string): ImportIssue[] {
  const issues: ImportIssue[] = [];
  const add = (message: string, aboutToken = false) => issues.push({ message, aboutToken });
  if (!isExportType(imp.type)) add(`invalid import type "${imp.type}"`);
  if (imp.type === "service" && imp.allowTrace) add("allow_trace is only valid for a stream import");
  if (imp.account === "") add("the account to import from is not specified");
  for (const e of subjectErrors(imp.subject)) add(e);
  if (imp.localSubject !== null) {
    for (const e of subjectErrors(imp.localSubject)) add(`local_subject: ${e}`);
    for (const e of renamingErrors(imp.localSubject, imp.subject)) add(`local_subject: ${e}`);
    if (imp.to !== null) add("local_subject replaces to; both are set");
  }
  if (imp.share && imp.type !== "service") add("share (latency tracking) is only valid for a service import");
  if (imp.token !== null) issues.push(...tokenIssues(imp, importerId));
  return issues;
}

/**
 * nats-io/jwt RenamingSubject.Validate (beyond Subject.Validate): the local subject and the subject
 * both end in `>` or neither does, and the local subject uses each `*` of the subject exactly once
 * in number, as a `*` or a `$N` reference to an existing one. Found by the differential fuzzer: the
 * server rejects the whole JWT (e.g. `l.>.*` for `*.c.>`).
 */
function renamingErrors(local: string, subject: string): string[] {
  const errors: string[] = [];
  const endsInFwc = (x: string) => x === ">" || x.endsWith(".>");
  if (endsInFwc(local) !== endsInFwc(subject))
    errors.push(`"${local}" and the subject "${subject}" must both end in > or both not`);
  const stars = subject === "*" ? 1 : subject.split(".").filter((t) => t === "*").length;
  let refs = 0;
  for (const t of local.split(".")) {
    if (t === "*") refs++;
    // A number Atoi refuses (past int64 too) makes no reference: the token is ordinary.
    const n = t.length < 2 || t[0] !== "$" ? null : atoi(t.slice(1));
    if (n === null) continue;
    if (n > stars) errors.push(`reference ${t} in "${local}" names a * that "${subject}" does not have`);
    else refs++;
  }
  if (refs !== stars) errors.push(`"${local}" does not refer to each * of "${subject}" (with * or $N)`);
  return errors;
}

function tokenIssues(imp: ImportClaim, importerId: string): ImportIssue[] {
  // An empty token (only a hand-built claim has one) does not decode either.
  const parsed = importActivation(imp) ?? parseActivation("");
  if (!parsed.ok) return [{ message: `the activation token does not decode: ${parsed.error}`, aboutToken: true }];
  return activationIssues(imp, parsed.claims, importerId).map((message) => ({ message, aboutToken: true }));
}

/**
 * nkeys v0.4.17 (signingKeysNeed32Bytes) refuses a public key of small order when jwt makes the
 * verifier of a token's issuer, so such a token does not decode there; earlier nkeys hands it to
 * Go's ed25519, which takes R = identity and S = 0 under the identity point whatever was signed
 * (ed25519.ts), and the token decodes. Measured: a token so "signed" by a signing key the exporter
 * lists is honoured by 2.10.29, 2.12.15 and 2.15.2, and 2.15.3 refuses the importer's JWT.
 */
function tokenIssuerRefused(imp: ImportClaim): ImportIssue | null {
  const parsed = importActivation(imp);
  if (!parsed?.ok || isWholeKey(parsed.claims.issuer, "account")) return null;
  return {
    message: `the activation token does not decode: its issuer ${parsed.claims.issuer} is a key of small order, which nkeys v0.4.17 refuses`,
    aboutToken: true,
  };
}

/** The checks an import makes of its (decoded) activation token, times excepted. */
export function activationIssues(imp: ImportClaim, act: ActivationClaims, importerId: string): string[] {
  const issues: string[] = [];
  if (act.issuer !== imp.account && act.issuerAccount !== imp.account) {
    issues.push(`the token was issued by ${act.issuerAccount ?? act.issuer}, not by the source account ${imp.account}`);
  }
  if (act.subject !== importerId)
    issues.push(`the token was issued to ${act.subject}, not to this account ${importerId}`);
  if (act.kind !== imp.type)
    issues.push(`the token is for a ${act.kind || "(no kind)"} import, this import is a ${imp.type}`);
  if (!isExportType(act.kind)) issues.push(`the token's kind "${act.kind}" is invalid`);
  for (const e of subjectErrors(act.importSubject)) issues.push(`the token's subject: ${e}`);
  if (act.issuerAccount !== null && !isPublicKey(act.issuerAccount, "account")) {
    issues.push("the token's issuer_account is not an account public key");
  }
  const subject = exporterSubject(imp);
  if (!isContainedIn(subject, act.importSubject)) {
    issues.push(`the token grants "${act.importSubject}", which does not contain the import subject "${subject}"`);
  }
  return issues;
}

/**
 * What differs between the server lines in the validation they run (their nats-io/jwt and nkeys
 * versions) and in what they install. Measured on 2.10.20, 2.10.29, 2.11.4, 2.11.17, 2.12.4,
 * 2.12.15, 2.14.10, 2.15.2 and 2.15.3 (docs/servers.md); the boundaries between them are read from each release's go.mod and
 * source.
 */
export interface ServerRules {
  /**
   * True: only service imports from the same source account may not overlap (jwt >= v2.8.1,
   * nats-server#6704; 2.11.15 and 2.12.6 on); jwt v2.8.0 (2.11.10-2.11.14, 2.12.0-2.12.5) and older
   * refuse them whatever their source (measured: 2.11.4 refuses, 2.11.17 accepts).
   */
  serviceOverlapPerSourceAccount: boolean;
  /**
   * True: a mapping the server cannot install rejects the whole JWT (claimValidate's
   * validateAccountClaimMappings, from 2.14.8 and 2.15.2); before, it is logged and left out.
   */
  refusesUninstallableMappings: boolean;
  /** Which mapping destinations the server builds (`MappingFunctions`, measured per line). */
  mappingFunctions: MappingFunctions;
  /**
   * True: the cycle walk keeps a subject it narrowed for the account's next imports too (before
   * 2.12.6: nats-server commit ea94f62), so it misses what they would lead to (cycle.ts).
   */
  cycleWalkKeepsNarrowing: boolean;
  /**
   * True: jwt before v2.8.1 (nats-server before 2.12.6, and 2.11.15 by its go.mod) adds a mapping's
   * weights in a uint8, so a sum past 255 wraps, and a destination of a cluster as written (0 as
   * 0). Measured: 2.10.29 stores a JWT whose mapping has three destinations of 100; 2.12.15 refuses it.
   */
  mappingWeightsInUint8: boolean;
  /**
   * True: nkeys v0.4.17 (nats-server 2.14.10 and 2.15.3 on) takes a public key as valid only if it
   * has 32 bytes that are not a small-order point, so jwt refuses an account signing key of 16, 31
   * or 33 bytes; earlier nkeys asks only that it decodes (measured: 2.15.2 stores such a JWT, 2.15.3
   * refuses it).
   */
  signingKeysNeed32Bytes: boolean;
  /**
   * True: jwt v2.7.3 and later (nats-server 2.10.24 on) read the account's `cluster_traffic` and
   * refuse a JWT where it is not "", "system" or "owner" (or not a string); jwt v2.5.8 (2.10.20-
   * 2.10.23) does not know the field. Measured: 2.10.29, 2.11.4, 2.11.17 and 2.15.2 refuse a push
   * of "bogus" or 7, 2.10.20 stores it.
   */
  checksClusterTraffic: boolean;
  /**
   * True: the server replaces the account-scoped mapping functions (`{{account-hash()}}`,
   * `{{account-hash-import()}}`) in exports, imports and mappings by account hashes when it installs
   * them (account-hash.ts; nats-server 2.14.10 and 2.15.3 on, by source); earlier lines read them as
   * literal tokens (a mapping destination's as an unknown function). Measured on 2.14.10, 2.15.2 and
   * 2.15.3: test/integration/account-hash.test.ts.
   */
  expandsAccountHash: boolean;
}

/** The newest server line modelled: CURRENT_RULES are its rules. */
export const NEWEST_MODELLED = "2.15.3";

/** 2.15.3 and 2.14.10 on (nkeys v0.4.17), and any version that cannot be read. */
export const CURRENT_RULES: ServerRules = Object.freeze({
  serviceOverlapPerSourceAccount: true,
  refusesUninstallableMappings: true,
  mappingFunctions: "2.15.2",
  cycleWalkKeepsNarrowing: false,
  mappingWeightsInUint8: false,
  signingKeysNeed32Bytes: true,
  checksClusterTraffic: true,
  expandsAccountHash: true,
});
/** 2.15.2, 2.14.8 and 2.14.9. */
const BEFORE_2_15_3: ServerRules = Object.freeze({
  ...CURRENT_RULES,
  signingKeysNeed32Bytes: false,
  expandsAccountHash: false,
});
/** 2.15.0, 2.15.1 and 2.14.7: `left` and `right`, but a mapping they cannot install is left out. */
const BEFORE_2_15_2: ServerRules = Object.freeze({ ...BEFORE_2_15_3, refusesUninstallableMappings: false });
/** 2.12.6 on, and 2.14.0-2.14.6. */
const BEFORE_2_14_7: ServerRules = Object.freeze({ ...BEFORE_2_15_2, mappingFunctions: "2.12" });
/** 2.12.0-2.12.5 (jwt v2.8.0). */
const BEFORE_2_12_6: ServerRules = Object.freeze({
  ...BEFORE_2_14_7,
  serviceOverlapPerSourceAccount: false,
  cycleWalkKeepsNarrowing: true,
  mappingWeightsInUint8: true,
});
const BEFORE_2_12: ServerRules = Object.freeze({
  serviceOverlapPerSourceAccount: false,
  refusesUninstallableMappings: false,
  mappingFunctions: "2.10",
  cycleWalkKeepsNarrowing: true,
  mappingWeightsInUint8: true,
  signingKeysNeed32Bytes: false,
  checksClusterTraffic: true,
  expandsAccountHash: false,
});
/** 2.10.0-2.10.23 (jwt v2.5.8 and before): no `cluster_traffic`. */
const BEFORE_2_10_24: ServerRules = Object.freeze({ ...BEFORE_2_12, checksClusterTraffic: false });
/** 2.11.8-2.11.14: the index functions' number an int32 (nats-server 97dbe4d). */
const FROM_2_11_8: ServerRules = Object.freeze({ ...BEFORE_2_12, mappingFunctions: "2.11.8" });
/** 2.11.15 on (jwt v2.8.1): service imports overlap per source account, weights checked. Measured on 2.11.17. */
const FROM_2_11_15: ServerRules = Object.freeze({
  ...FROM_2_11_8,
  serviceOverlapPerSourceAccount: true,
  mappingWeightsInUint8: false,
});

/** A version's major, minor and patch ("2.10.29", "v2.12.1-RC.2"), or null when it is none. */
export function versionNumbers(version: string): [number, number, number] | null {
  const m = /^v?(\d+)\.(\d+)\.(\d+)/.exec(version);
  return m ? [Number(m[1]), Number(m[2]), Number(m[3])] : null;
}

/**
 * The oldest of the servers' versions (those that parse), or null. Servers of several lines (a
 * rolling upgrade) are judged by the oldest one's rules: an import it refuses is broken somewhere.
 */
export function oldestVersion(versions: readonly string[]): string | null {
  let oldest: { version: string; n: [number, number, number] } | null = null;
  for (const version of versions) {
    const n = versionNumbers(version);
    if (n && (!oldest || (n[0] - oldest.n[0] || n[1] - oldest.n[1] || n[2] - oldest.n[2]) < 0)) oldest = { version, n };
  }
  return oldest?.version ?? null;
}

/** The rules of a server version ("2.10.29", "v2.12.1-RC.2"); unknown or unparsable: the current ones. */
export function rulesFor(version: string | null | undefined): ServerRules {
  const n = version ? versionNumbers(version) : null;
  if (!n) return CURRENT_RULES;
  const [major, minor, patch] = n;
  if (major < 2 || (major === 2 && minor < 10)) return BEFORE_2_10_24;
  if (major === 2 && minor === 10) return patch >= 24 ? BEFORE_2_12 : BEFORE_2_10_24;
  // measured on 2.11.4 (as 2.10.29) and 2.11.17; the boundaries between from go.mod and the source
  if (major === 2 && minor === 11) return patch >= 15 ? FROM_2_11_15 : patch >= 8 ? FROM_2_11_8 : BEFORE_2_12;
  if (major > 2 || minor > 15) return CURRENT_RULES;
  if (minor === 12 && patch < 6) return BEFORE_2_12_6;
  // 2.13 was never released: read as 2.14.0
  if (minor <= 13) return BEFORE_2_14_7;
  const [last, refuses, leftRight] = minor === 14 ? [10, 8, 7] : [3, 2, 0];
  if (patch >= last) return CURRENT_RULES;
  if (patch >= refuses) return BEFORE_2_15_3;
  return patch >= leftRight ? BEFORE_2_15_2 : BEFORE_2_14_7;
}

/** nats-io/jwt Imports.Validate: service imports must not overlap locally (from one account, on jwt >= v2.8.1). */
function overlappingServiceImports(imports: ImportClaim[], rules: ServerRules): Map<number, string> {
  const seen = new Map<string, { subject: string; index: number }[]>();
  const out = new Map<number, string>();
  for (const imp of imports) {
    if (imp.type !== "service") continue;
    const local = imp.to ?? imp.localSubject ?? imp.subject;
    const group = rules.serviceOverlapPerSourceAccount ? imp.account : "";
    const others = seen.get(group) ?? [];
    for (const o of others) {
      if (isContainedIn(local, o.subject) || isContainedIn(o.subject, local)) {
        const from = rules.serviceOverlapPerSourceAccount
          ? "imported from the same account"
          : "imported by the same account (servers before 2.12.6, and 2.11 before 2.11.15, refuse that whatever the source)";
        out.set(imp.index, `service import subject "${local}" overlaps "${o.subject}" ${from}`);
      }
    }
    others.push({ subject: local, index: imp.index });
    seen.set(group, others);
  }
  return out;
}

function exportIssues(exp: ExportClaim): string[] {
  const issues: string[] = [];
  const where = `export "${exp.subject}"`;
  if (!isExportType(exp.type)) issues.push(`${where}: invalid export type "${exp.type}"`);
  const rt = exp.responseType;
  if (exp.type === "service" && rt !== null && !["Singleton", "Stream", "Chunked"].includes(rt)) {
    issues.push(`${where}: invalid response type "${rt}"`);
  }
  if (exp.type === "stream" && rt !== null) issues.push(`${where}: a stream export has no response type`);
  if (exp.type === "stream" && exp.allowTrace) issues.push(`${where}: allow_trace is only valid for a service export`);
  for (const e of subjectErrors(exp.subject)) issues.push(`${where}: ${e}`);
  const pos = exp.accountTokenPosition;
  if (pos > 0) {
    const tokens = exp.subject.split(".");
    if (!hasWildcard(exp.subject)) issues.push(`${where}: account_token_position needs a wildcard subject`);
    else if (pos > tokens.length) issues.push(`${where}: account_token_position ${pos} exceeds the subject's length`);
    else if (tokens[pos - 1] !== "*") issues.push(`${where}: account_token_position ${pos} must point at a '*'`);
  }
  return issues;
}

/** Exports of one type whose subjects contain each other (jwt's own containment test). */
function overlappingExports(exports: ExportClaim[]): string[] {
  const issues: string[] = [];
  for (const type of ["service", "stream"]) {
    const subjects = exports.filter((e) => (type === "service" ? e.type === "service" : e.type !== "service"));
    subjects.forEach((a, i) =>
      subjects.forEach((b, j) => {
        if (i !== j && isContainedIn(a.subject, b.subject)) {
          issues.push(`${type} export subject "${b.subject}" already exports "${a.subject}"`);
        }
      }),
    );
  }
  return [...new Set(issues)];
}

/**
 * The account validated by every line the servers run (a rolling upgrade): a JWT one line refuses
 * is not stored or loaded on its servers, so each line's issues count; each said once.
 */
export function validateOnLines(account: AccountClaims, lines: readonly ServerRules[]): AccountValidation {
  if (lines.length === 1) return validateAccount(account, lines[0]);
  const merged: AccountValidation = { imports: new Map(), other: [] };
  for (const rules of lines) {
    const v = validateAccount(account, rules);
    for (const [index, issues] of v.imports) {
      const kept = merged.imports.get(index) ?? [];
      for (const issue of issues) if (!kept.some((k) => k.message === issue.message)) kept.push(issue);
      merged.imports.set(index, kept);
    }
    for (const issue of v.other) if (!merged.other.includes(issue)) merged.other.push(issue);
  }
  return merged;
}

export function validateAccount(account: AccountClaims, rules: ServerRules = CURRENT_RULES): AccountValidation {
  const imports = new Map<number, ImportIssue[]>();
  const overlaps = overlappingServiceImports(account.imports, rules);
  for (const imp of account.imports) {
    const refused = rules.signingKeysNeed32Bytes ? tokenIssuerRefused(imp) : null;
    const issues = refused
      ? [...importIssues(imp, account.subject).filter((i) => !i.aboutToken), refused]
      : importIssues(imp, account.subject);
    const overlap = overlaps.get(imp.index);
    if (overlap) issues.unshift({ message: overlap, aboutToken: false });
    if (issues.length > 0) imports.set(imp.index, issues);
  }
  const other = account.exports.flatMap(exportIssues).concat(overlappingExports(account.exports));
  for (const m of account.mappings) {
    const issues = mappingIssues(m, rules);
    other.push(...issues);
    // Said only of a mapping jwt lets past: one it refuses has its reason already.
    if (issues.length > 0 || !rules.refusesUninstallableMappings) continue;
    // The server's push check expands the account-scoped functions first, where its line has them.
    const expanded = rules.expandsAccountHash ? expandMapping(m, account.subject) : { ok: true as const, mapping: m };
    if (!expanded.ok) other.push(`mapping "${m.source}": the server cannot install it (${expanded.error})`);
    else if (install(expanded.mapping, rules.mappingFunctions) === null)
      other.push(
        `mapping "${m.source}": the server cannot install it (a destination it cannot build, or one listed twice)`,
      );
  }
  const { limits } = account;
  // -1 is "no limit"; jwt checks both limits whenever they are not -1, so absent (zero) limits forbid any.
  if (limits.imports !== -1 && account.imports.length > limits.imports) {
    other.push(`the account has ${account.imports.length} imports, more than the operator allows (${limits.imports})`);
  }
  if (limits.exports !== -1 && account.exports.length > limits.exports) {
    other.push(`the account has ${account.exports.length} exports, more than the operator allows (${limits.exports})`);
  }
  if (limits.exports !== -1 && !limits.wildcardExports && account.exports.some((e) => hasWildcard(e.subject))) {
    other.push("the account has wildcard exports, which the operator does not allow");
  }
  // jwt's decoder clears untiered JetStream limits beside tiered ones, so only the blank name is left to refuse.
  if (limits.blankTier) other.push('the JetStream limits name a tier "", which jwt refuses');
  if (rules.checksClusterTraffic && account.clusterTrafficIssue) other.push(account.clusterTrafficIssue);
  // jwt asks nkeys for a valid encoding only (a key of another length than 32 bytes passes: measured),
  // of a plain key and of a user scope's key alike (UserScope.Validate).
  // nkeys v0.4.17 (signingKeysNeed32Bytes) also asks for 32 bytes that are no small-order point.
  for (const key of account.signingKeys.keys())
    if (!(rules.signingKeysNeed32Bytes ? isWholeKey(key, "account") : isEncodedKey(key, "account")))
      other.push(`"${key}" is not a valid account signing key`);
  return { imports, other };
}

/** nats-io/jwt Mapping.Validate: subjects, and weights of at most 100 per destination and in sum (per cluster). */
function mappingIssues(m: MappingClaim, rules: ServerRules): string[] {
  const issues = subjectErrors(m.source).map((e) => `mapping: ${e}`);
  for (const d of m.destinations) issues.push(...subjectErrors(d.subject).map((e) => `mapping "${m.source}": ${e}`));
  return issues.concat(rules.mappingWeightsInUint8 ? uint8WeightIssues(m) : weightIssues(m));
}

function weightIssues(m: MappingClaim): string[] {
  const issues: string[] = [];
  const totals = new Map<string | null, number>();
  for (const d of m.destinations) {
    if (d.weight > 100) issues.push(`mapping "${m.source}" has a weight ${d.weight} that exceeds 100`);
    totals.set(d.cluster, (totals.get(d.cluster) ?? 0) + d.weight);
  }
  for (const [cluster, total] of totals) if (total > 100) issues.push(overWeight(m, cluster));
  return issues;
}

/**
 * jwt before v2.8.1: no check of one weight; a cluster's weights as written (0 as 0) and the others'
 * as GetWeight reads them, each sum in a uint8 (past 255 it wraps), a cluster's checked as it grows.
 */
function uint8WeightIssues(m: MappingClaim): string[] {
  const clusters = new Map<string, number>();
  const over = new Set<string | null>();
  let total = 0;
  for (const d of m.destinations) {
    if (d.cluster === null) total = (total + d.weight) % 256;
    else {
      const sum = ((clusters.get(d.cluster) ?? 0) + d.written) % 256;
      clusters.set(d.cluster, sum);
      if (sum > 100) over.add(d.cluster);
    }
  }
  if (total > 100) over.add(null);
  return [...over].map((cluster) => overWeight(m, cluster));
}

const overWeight = (m: MappingClaim, cluster: string | null) =>
  `mapping "${m.source}"${cluster === null ? "" : ` in cluster "${cluster}"`} exceeds 100% among its weighted destinations`;

export type TimeProblem = "expired" | "not_yet_valid" | null;

/** Is a claim outside its validity window at `now` (unix seconds)? The server treats `exp` itself as expired. */
export function timeProblem(claims: { expires: number; notBefore: number }, now: number): TimeProblem {
  if (claims.expires > 0 && now >= claims.expires) return "expired";
  if (claims.notBefore > 0 && claims.notBefore > now) return "not_yet_valid";
  return null;
}
