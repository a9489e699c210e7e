/**
 * Where the servers' own view disagrees with the verdict from the JWTs and the clock, say so.
 * The server can be stale both ways (docs/decision-procedure.md, "After the import is registered"): it keeps honouring some imports whose token
 * expired (a security exposure), and never re-enables others that became valid.
 */
import { causeOf, type CauseContext } from "./causes/index.js";
import type { ImportDiagnosis } from "./diagnosis.js";
import { amended } from "./report.js";

/**
 * What the servers that have the importing account loaded report about one import, counting only
 * the servers whose view speaks to this verdict (same JWTs, asked after it was made).
 */
export interface ServerObservation {
  /** Servers that have the importing account loaded. */
  servers: number;
  /** Of those, the ones that registered the import at all. */
  registered: number;
  /** Of those, the ones that honour it (registered and not invalid). */
  honouring: number;
  /** Of those, the ones that honour it on two looks far enough apart (what an exposure needs). */
  exposing: number;
}

/**
 * Can the servers' view change this verdict's (status, cause)? A valid import can turn out stale,
 * an import on a cycle or under intersecting exports decided by the servers (honoured or refused); any other dead
 * import only gains the exposure sentence.
 */
export function serverViewCanChange(d: ImportDiagnosis): boolean {
  return d.status !== "inactive" || d.cause === "import_cycle" || d.cause === "exports_overlap";
}

export function applyServerView(d: ImportDiagnosis, obs: ServerObservation): ImportDiagnosis {
  const server = {
    servers: obs.servers,
    registered: obs.registered > 0,
    invalid: obs.registered > 0 && obs.honouring === 0,
  };
  if (obs.servers === 0) return amended(d, { server });
  if (d.cause === "import_cycle")
    return obs.honouring > 0 ? cycleHonoured(d, obs, server) : cycleRefused(d, obs, server);
  if (d.cause === "exports_overlap")
    return obs.honouring > 0 ? overlapHonoured(d, obs, server) : overlapRefused(d, obs, server);
  if (d.cause === "duplicate_of_cycle_import")
    return obs.honouring > 0 ? duplicateHonoured(d, obs, server) : duplicateRefused(d, obs, server);
  // An import starved by the importer's own mappings, or from a deleted source, is listed valid: no exposure.
  if (d.status === "inactive" && obs.exposing > 0 && !(d.cause && carriesNothingWhereHonoured(d.cause))) {
    const exposure =
      ` Yet ${obs.exposing} of ${obs.servers} server(s) still honour this import: messages keep crossing although the JWTs and the clock` +
      ` say they must not. That is a security exposure until the importing account is re-signed and pushed.`;
    return { ...d, server, message: d.message + exposure };
  }
  if (d.status !== "inactive" && obs.honouring < obs.servers) {
    const stale = causeOf("server_state_stale");
    const ctx = contextOf(d, `${obs.servers - obs.honouring} of ${obs.servers} server(s)`);
    return {
      ...d,
      server,
      status: obs.honouring === 0 ? stale.status : (stale.statusWhereHonoured ?? stale.status),
      cause: stale.code,
      message: stale.message(ctx),
      remediation: stale.remediation(ctx),
    };
  }
  return amended(d, { server });
}

function carriesNothingWhereHonoured(code: NonNullable<ImportDiagnosis["cause"]>): boolean {
  const cause = causeOf(code);
  return cause.serverRegisters === true || cause.honouredCarriesNothing === true;
}

/**
 * A server that loaded the accounts of a cycle in another order refused another of its imports,
 * not this one: here it works (a warning: another load order, after a restart, can kill it).
 */
function cycleHonoured(d: ImportDiagnosis, obs: ServerObservation, server: ImportDiagnosis["server"]): ImportDiagnosis {
  const note =
    ` ${obs.honouring} of ${obs.servers} server(s) loaded the accounts in another order and honour this import: there another import of the cycle is the refused one.` +
    ` Loaded in this order again (a restart), this import dies.`;
  return { ...d, server, status: causeOf("import_cycle").statusWhereHonoured ?? d.status, message: d.message + note };
}

/** Every server that has the importer loaded refused this import of the cycle: it is dead there. */
function cycleRefused(d: ImportDiagnosis, obs: ServerObservation, server: ImportDiagnosis["server"]): ImportDiagnosis {
  const note =
    ` All ${obs.servers} server(s) that have ${d.account_name ?? d.account} loaded refuse this import: each loaded it first, so its import is the one that closes the cycle there.` +
    ` Loaded in another order (a restart), another import of the cycle dies instead.`;
  return { ...d, server, status: causeOf("import_cycle").statusWhereRefused ?? d.status, message: d.message + note };
}

/** Servers that picked an export approving the import (in their map order) honour it: until they check it again. */
function overlapHonoured(
  d: ImportDiagnosis,
  obs: ServerObservation,
  server: ImportDiagnosis["server"],
): ImportDiagnosis {
  const note =
    ` ${obs.honouring} of ${obs.servers} server(s) picked an export that approves it and honour this import.` +
    ` At their next check (a restart, a push of ${d.account_name ?? d.account}) they may pick a refusing one.`;
  const cause = causeOf("exports_overlap");
  return { ...d, server, status: cause.statusWhereHonoured ?? d.status, message: d.message + note };
}

/** Every server that has the importer loaded picked a refusing export: the import is dead there. */
function overlapRefused(
  d: ImportDiagnosis,
  obs: ServerObservation,
  server: ImportDiagnosis["server"],
): ImportDiagnosis {
  const note =
    ` All ${obs.servers} server(s) that have ${d.account_name ?? d.account} loaded picked a refusing export and refuse this import.` +
    ` At their next check (a restart, a push of ${d.account_name ?? d.account}) they may pick an approving one.`;
  const cause = causeOf("exports_overlap");
  return { ...d, server, status: cause.statusWhereRefused ?? d.status, message: d.message + note };
}

/** Servers that refused the earlier import of the cycle added this one: it works there, until another load order. */
function duplicateHonoured(
  d: ImportDiagnosis,
  obs: ServerObservation,
  server: ImportDiagnosis["server"],
): ImportDiagnosis {
  const note =
    ` ${obs.honouring} of ${obs.servers} server(s) refused the earlier import (on its cycle) and honour this one.` +
    ` Loaded in another order (a restart), the earlier import may be added and this one refused as its duplicate.`;
  const cause = causeOf("duplicate_of_cycle_import");
  return { ...d, server, status: cause.statusWhereHonoured ?? d.status, message: d.message + note };
}

/** Every server that has the importer loaded added the earlier import of the cycle: this one is dead there. */
function duplicateRefused(
  d: ImportDiagnosis,
  obs: ServerObservation,
  server: ImportDiagnosis["server"],
): ImportDiagnosis {
  const note =
    ` All ${obs.servers} server(s) that have ${d.account_name ?? d.account} loaded added the earlier import and refuse this one as its duplicate.` +
    ` Loaded in another order (a restart), the earlier import may be refused on its cycle and this one work.`;
  const cause = causeOf("duplicate_of_cycle_import");
  return { ...d, server, status: cause.statusWhereRefused ?? d.status, message: d.message + note };
}

function contextOf(d: ImportDiagnosis, detail: string): CauseContext {
  const subject = d.subject;
  return {
    importer: { id: d.account, name: d.account_name },
    exporter: { id: d.source_account, name: d.source_account_name },
    imp: {
      index: -1,
      name: d.name,
      type: d.type,
      subject,
      account: d.source_account,
      token: null,
      to: null,
      localSubject: d.local_subject,
      share: false,
      allowTrace: false,
    },
    exporterSubject: subject,
    localSubject: d.local_subject ?? subject,
    detail,
    exportClaim: null,
    activation: null,
    now: 0,
  };
}
