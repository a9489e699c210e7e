/**
 * What a cause module declares, and the phrases and commands its messages are made of. Adding a
 * cause is adding a module that exports a `Cause` and listing it in ./index.ts.
 */
import type { ActivationClaims, ExportClaim, ImportClaim } from "../jwt/claims.js";
import type { CauseCode, ImportStatus } from "../diagnosis.js";

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
}

export interface Cause {
  code: CauseCode;
  status: Exclude<ImportStatus, "active">;
  /** A few words, for tables and docs. */
  title: string;
  /** Why nats-server refuses (or will refuse) the import, for docs. */
  explanation: string;
  message(ctx: CauseContext): string;
  remediation(ctx: CauseContext): string[];
}

/** How the account is known to nsc: its name where the JWT has one. */
export const label = (a: AccountRef): string => a.name ?? a.id;

/** Quote a shell argument only when it needs it. */
export function arg(value: string): string {
  return /^[A-Za-z0-9_./:=@%+-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}

export const kindOf = (ctx: CauseContext): "stream" | "service" => (ctx.imp.type === "service" ? "service" : "stream");

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
  return [generateActivation(ctx, extra), deleteImport(ctx), addImportWithToken(ctx), push(ctx.importer)];
}

export const when = (unixSeconds: number): string => new Date(unixSeconds * 1000).toISOString();
