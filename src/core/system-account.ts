/**
 * What nats-server adds to the system account, and to every other account, by itself: exports
 * and imports that no JWT declares (server/events.go: addSystemAccountExports and
 * registerSystemImports, identical in every supported line, see docs/servers.md). A declared
 * import of one of them works although the system account's JWT exports nothing of the kind.
 */
import type { ExportClaim, ImportClaim } from "./jwt/claims.js";

const NO_REVOCATIONS: ReadonlyMap<string, number> = new Map();

function serviceExport(subject: string, accountTokenPosition: number, responseType: string | null): ExportClaim {
  return {
    index: -1,
    name: "added by nats-server",
    type: "service",
    subject,
    tokenReq: false,
    accountTokenPosition,
    revocations: NO_REVOCATIONS,
    responseType,
    allowTrace: false,
  };
}

/**
 * The service exports the server gives the system account. The per-account request subjects carry
 * the importing account's key as token 4; the others are public. (`$JS.API.>` is exported too when
 * the server runs JetStream or is clustered: see JETSTREAM_API_EXPORT.)
 */
export const SYSTEM_EXPORTS: readonly ExportClaim[] = Object.freeze([
  serviceExport("$SYS.REQ.ACCOUNT.*.CONNZ", 4, "Stream"),
  serviceExport("$SYS.REQ.ACCOUNT.*.STATZ", 4, "Stream"),
  serviceExport("$SYS.DEBUG.SUBSCRIBERS", 0, null),
  serviceExport("$SYS.REQ.USER.*.INFO", 0, null),
]);

/** The JetStream API export, added only where the server runs JetStream or is in a cluster. */
export const JETSTREAM_API_EXPORT: ExportClaim = serviceExport("$JS.API.>", 0, null);

/**
 * The exports the server actually holds for the system account: the declared ones, plus each of
 * its own whose subject the JWT does not declare as a service export (a declared export of the
 * same subject replaces the server's when the claims are applied).
 */
export function withSystemExports(declared: ExportClaim[], jetStream: boolean): ExportClaim[] {
  const own = jetStream ? [...SYSTEM_EXPORTS, JETSTREAM_API_EXPORT] : SYSTEM_EXPORTS;
  const declaredServices = new Set(declared.filter((e) => e.type === "service").map((e) => e.subject));
  return [...declared, ...own.filter((e) => !declaredServices.has(e.subject))];
}

/**
 * The importer-side subjects the server imports from the system account into every other
 * account (each mapped to that account's own request subject).
 */
export const SYSTEM_IMPORT_SUBJECTS: ReadonlySet<string> = new Set([
  "$SYS.REQ.ACCOUNT.PING.CONNZ",
  "$SYS.REQ.SERVER.PING.CONNZ",
  "$SYS.REQ.ACCOUNT.PING.STATZ",
  "$SYS.REQ.USER.INFO",
]);

/** Does the server itself already import what this declared import asks for? */
export function implicitlyImported(imp: ImportClaim, systemAccount: string | null): boolean {
  if (imp.type !== "service" || systemAccount === null || imp.account !== systemAccount) return false;
  return SYSTEM_IMPORT_SUBJECTS.has(imp.localSubject ?? imp.subject);
}
