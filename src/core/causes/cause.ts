/**
 * What a cause module declares, and the phrases and commands its messages are made of. Adding a
 * cause is adding a module that exports a `Cause` and listing it in ./index.ts.
 */
import {
  exportTypeOf,
  type ActivationClaims,
  type ExportClaim,
  type ExportType,
  type ImportClaim,
} from "../jwt/claims.js";
import type { CauseCode, ImportStatus } from "../diagnosis.js";
import type { JetStreamSet } from "../jetstream.js";

export interface AccountRef {
  id: string;
  name: string | null;
}

/** Everything a cause may say about one import. */
export interface CauseContext {
  importer: AccountRef;
  exporter: AccountRef;
  imp: ImportClaim;
  /** The subject the exporter must approve. */
  exporterSubject: string;
  /** The subject the importer's clients use. */
  localSubject: string;
  detail: string | null;
  exportClaim: ExportClaim | null;
  activation: ActivationClaims | null;
  /** Unix seconds. */
  now: number;
  /** For import_cycle: the imports forming the cycle, this one first. */
  cycle?: { account: AccountRef; imp: ImportClaim }[];
  /** For the mapping causes: the importer's mapping that takes requests on the local subject elsewhere. */
  mapping?: MappingFinding;
  /** For jetstream_imports_incomplete: the import's JetStream set and what it lacks. */
  jetstream?: JetStreamSet;
  /** For exports_overlap: every export containing the import's subject, with the cause each gives it (null: approves). */
  exports?: { exportClaim: ExportClaim; cause: CauseCode | null }[];
}

/** The importer's mapping of a service import's local subject, as the evaluator found it. */
export interface MappingFinding {
  source: string;
  /** Where it sends requests that leave the local subject. */
  to: string[];
  /** Share of requests on the local subject that stay on it (and so reach the import). */
  percent: number;
  /** A literal subject every request on the local subject goes to: a local subject that keeps the mapping. */
  newLocal: string | null;
  /** For the overlap causes: every mapping that takes these requests or replies, most kept first. */
  overlapping?: { source: string; percent: number }[];
  /** For the replies causes: whose mapping takes them (the exporter's, on the server's reply subject; the importer's, on the requester's inbox), and that subject. */
  leg?: "response" | "inbox";
  replySubject?: string;
}

export interface Cause {
  code: CauseCode;
  status: Exclude<ImportStatus, "active">;
  /**
   * For the causes the servers' own view decides (live only): the status instead of `status` when
   * at least one server that has the importer loaded honours the import all the same.
   */
  statusWhereHonoured?: Exclude<ImportStatus, "active">;
  /**
   * For a cause whose `status` is `undetermined` (the JWTs do not decide): the status when every
   * server that has the importer loaded refuses the import.
   */
  statusWhereRefused?: "inactive";
  /**
   * The server registers the import and its INFO lists it as valid: what keeps messages from it is
   * the importer's own configuration, so a server that "honours" it is no exposure.
   */
  serverRegisters?: true;
  /**
   * A server may list the import as valid although nothing can cross it (a deleted source account:
   * the server keeps it disabled and refuses its users), so a server that "honours" it is no exposure.
   */
  honouredCarriesNothing?: true;
  /** A few words, for tables and docs. */
  title: string;
  /** Why nats-server refuses (or will refuse) the import, for docs. */
  explanation: string;
  message(ctx: CauseContext): string;
  remediation(ctx: CauseContext): string[];
}

/** How the detail of a not-yet-valid importer JWT begins (the evaluator writes it, a cause reads it). */
export const NOT_YET_VALID_ACCOUNT = "the account JWT is not valid before";

/** How the account is known to nsc: its name where the JWT has one. */
export const label = (a: AccountRef): string => a.name ?? a.id;

/** Quote a shell argument only when it needs it. */
export function arg(value: string): string {
  return /^[A-Za-z0-9_./:=@%+-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}

export const kindOf = (ctx: CauseContext): ExportType => exportTypeOf(ctx.imp.type);

/** "Account A's import of stream "x" from B" */
export function subjectPhrase(ctx: CauseContext): string {
  return `${label(ctx.importer)}'s ${kindOf(ctx)} import of "${ctx.exporterSubject}" from ${label(ctx.exporter)}`;
}

/** What the operator sees: for streams the data is missing, for services requests time out. */
export function consequence(ctx: CauseContext): string {
  return kindOf(ctx) === "stream"
    ? `subscribers in ${label(ctx.importer)} on "${ctx.localSubject}" receive none of its messages`
    : `requests from ${label(ctx.importer)} to "${ctx.localSubject}" get no responder and time out`;
}

export const push = (a: AccountRef): string => `nsc push --account ${arg(label(a))}`;

/** A file name for a new activation token. */
export const tokenFile = (ctx: CauseContext): string =>
  `${label(ctx.importer)}-${ctx.exporterSubject}.activation.jwt`.replace(/[^A-Za-z0-9_.-]/g, "_");

/**
 * A token for exactly the subject the import names, not the whole export: `nsc add import --token`
 * takes the import's subject from the token, so a wider token would widen the import.
 */
export function generateActivation(ctx: CauseContext, extra = ""): string {
  return (
    `nsc generate activation --account ${arg(label(ctx.exporter))} --target-account ${ctx.importer.id}` +
    ` --subject ${arg(ctx.exporterSubject)} --output-file ${tokenFile(ctx)}${extra}`
  );
}

/** Where the token file goes: nsc writes a relative --output-file in the current directory. */
export const tokenFileNote = (ctx: CauseContext): string =>
  `# the token is written to ./${tokenFile(ctx)} in the current directory, where nsc add import reads it`;

export const deleteImport = (ctx: CauseContext): string =>
  `nsc delete import --account ${arg(label(ctx.importer))} --subject ${arg(ctx.imp.subject)} --src-account ${ctx.exporter.id}`;

/** Re-add the import with a token file, keeping its local subject and name. */
export function addImportWithToken(ctx: CauseContext): string {
  return `nsc add import --account ${arg(label(ctx.importer))} --token ${tokenFile(ctx)}${keepLocal(ctx)}`;
}

/** Re-add the import as a public one with the given exporter-side subject and type. */
export function addPublicImport(ctx: CauseContext, subject: string, type: "stream" | "service" = kindOf(ctx)): string {
  return (
    `nsc add import --account ${arg(label(ctx.importer))} --src-account ${ctx.exporter.id}` +
    ` --remote-subject ${arg(subject)}${type === "service" ? " --service" : ""}${keepLocal(ctx)}`
  );
}

function keepLocal(ctx: CauseContext): string {
  const local = ctx.imp.localSubject;
  const name = ctx.imp.name;
  return `${local ? ` --local-subject ${arg(local)}` : ""}${name ? ` --name ${arg(name)}` : ""}`;
}

/** The full sequence that gives an import a fresh token from the exporter. */
export function reissueToken(ctx: CauseContext, extra = ""): string[] {
  return [
    tokenFileNote(ctx),
    generateActivation(ctx, extra),
    deleteImport(ctx),
    addImportWithToken(ctx),
    push(ctx.importer),
  ];
}

/**
 * Re-sign the importer's JWT and push it. nats-server adds an import only when the importer's JWT
 * is loaded or changes: an import it refused (no export, a dead token, a missing source account)
 * stays refused after the exporter is fixed and pushed, and pushing the identical JWT again does
 * nothing. Adding and removing a tag changes nothing but the JWT's issue time.
 */
export function reloadImporter(ctx: CauseContext): string[] {
  return resignAndPush(ctx.importer, "so the server adds the import again");
}

/**
 * Re-sign an account (a tag added and removed: a new `iat`, the same claims) and push it. The server
 * skips a JWT whose claims it already holds, so a push of the very same JWT changes nothing.
 */
export function resignAndPush(a: AccountRef, why: string): string[] {
  const name = arg(label(a));
  return [
    `# re-sign ${label(a)} and push it, ${why} (a push of the same JWT does nothing):`,
    `nsc edit account --name ${name} --tag insights-reload`,
    `nsc edit account --name ${name} --rm-tag insights-reload`,
    push(a),
  ];
}

/**
 * Export what the import asks for from the exporter: private when the import carries a token (the
 * export it was made for was private), for the token's subject when it has one (what was exported).
 */
export function addExportForImport(ctx: CauseContext): string {
  const subject = ctx.activation?.importSubject || ctx.exporterSubject;
  return (
    `nsc add export --account ${arg(label(ctx.exporter))} --subject ${arg(subject)}` +
    `${kindOf(ctx) === "service" ? " --service" : ""}${ctx.imp.token ? " --private" : ""}`
  );
}

/** The fix on the exporter's side: its change pushed, then the importer reloaded. */
export function fixOnExporter(ctx: CauseContext, ...commands: string[]): string[] {
  return [...commands, push(ctx.exporter), ...reloadImporter(ctx)];
}
