/**
 * What nats-server adds to the system account, and to every other account, by itself: exports
 * and imports that no JWT declares (server/events.go: addSystemAccountExports and
 * registerSystemImports, identical in every supported line, see docs/servers.md). A declared
 * import of one of them works although the system account's JWT exports nothing of the kind.
 */
import type { ExportClaim, ImportClaim } from "./jwt/claims.js";
import { isSubsetMatch } from "./subject.js";

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
 * its own that no declared service export covers. The server adds its own only where none of the
 * account's service exports matches it (hasServiceExportMatching: equal or wider, so a declared
 * public `>` keeps the per-account subjects public); `$JS.API.>` only where that exact subject is
 * not exported (checkJetStreamExports).
 */
export function withSystemExports(declared: ExportClaim[], jetStream: boolean): ExportClaim[] {
  const services = declared.filter((e) => e.type === "service");
  const covered = (own: ExportClaim) =>
    own === JETSTREAM_API_EXPORT
      ? services.some((e) => e.subject === own.subject)
      : services.some((e) => isSubsetMatch(own.subject, e.subject));
  const own = jetStream ? [...SYSTEM_EXPORTS, JETSTREAM_API_EXPORT] : SYSTEM_EXPORTS;
  return [...declared, ...own.filter((e) => !covered(e))];
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
