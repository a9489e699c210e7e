/**
 * Orphaned exports: exports no account's JWT imports. Not an error — an export may wait for its
 * first importer — so the severity is info. An import counts when the server would hold it
 * against that export (the same matching as the evaluator: an exact subject first, else every
 * export of its type that contains it, since the server may pick any of them), whether or not the import works for other reasons. Imports
 * that come close without matching (a narrower export, the other type) are named: they are often
 * why an export is orphaned. The system account is left out: the server imports its exports into
 * every account by itself, without any JWT declaring it.
 */
import { arg, label, push } from "../causes/cause.js";
import { installedImports, type AccountDirectory, type AccountEntry } from "../directory.js";
import { matchingExports, noExport } from "../evaluate.js";
import { exportTypeOf, type ExportClaim, type ImportClaim } from "../jwt/claims.js";
import { exporterSubject } from "../validate.js";

/** Most near misses named per export. */
const MAX_NEAR_MISSES = 10;

export interface NearMiss {
  account: string;
  account_name: string | null;
  subject: string;
  type: "stream" | "service";
  cause: "subject_mismatch" | "export_type_mismatch";
}

export interface OrphanedExport {
  account: string;
  account_name: string | null;
  name: string | null;
  type: "stream" | "service";
  subject: string;
  token_req: boolean;
  account_token_position: number | null;
  severity: "info";
  message: string;
  remediation: string[];
  near_misses: NearMiss[];
}

export interface OrphanedReport {
  /** Exports looked at (the system account's apart). */
  exports: number;
  orphaned: OrphanedExport[];
}

/** Orphaned exports of every account, or of one exporter. */
export function orphanedExports(dir: AccountDirectory, exporterId?: string): OrphanedReport {
  const { used, nearMisses } = importsByExport(dir, exporterId);
  const system = dir.trust.systemAccount;
  const exporters = (exporterId !== undefined ? [dir.get(exporterId)] : dir.accounts()).filter(
    (e): e is AccountEntry => !!e?.claims && e.id !== system,
  );
  // As the servers install them (account-hash.ts), as the export index holds them.
  const all = exporters.flatMap((e) =>
    (e.installed?.exports ?? e.claims!.exports).map((exp) => ({ exporter: e, exp })),
  );
  const orphaned = all
    .filter(({ exp }) => !used.has(exp))
    .map(({ exporter, exp }) => orphanedExport(exporter, exp, (nearMisses.get(exp) ?? []).slice(0, MAX_NEAR_MISSES)))
    // By account name (the sort is stable: an account's exports keep their order in its JWT).
    .sort(
      (a, b) =>
        (a.account_name ?? a.account).localeCompare(b.account_name ?? b.account) || a.account.localeCompare(b.account),
    );
  return { exports: all.length, orphaned };
}

/** Which exports some declared import matches, and the imports that only come close to one. */
function importsByExport(
  dir: AccountDirectory,
  exporterId?: string,
): { used: Set<ExportClaim>; nearMisses: Map<ExportClaim, NearMiss[]> } {
  const used = new Set<ExportClaim>();
  const nearMisses = new Map<ExportClaim, NearMiss[]>();
  const importers =
    exporterId !== undefined ? [...dir.importersOf(exporterId)].map((id) => dir.get(id)!) : dir.accounts();
  for (const importer of importers) {
    for (const imp of installedImports(importer)) {
      if (exporterId !== undefined && imp.account !== exporterId) continue;
      const index = dir.exportsOf(imp.account);
      if (!index) continue;
      const subject = exporterSubject(imp);
      // Every export the server may hold the import against is in use (intersecting exports: each, by map order).
      const { exports } = matchingExports(index, imp.type, subject);
      for (const e of exports) used.add(e);
      if (exports.length > 0) continue;
      const near = noExport(index.all, imp, subject);
      if (near.exportClaim && (near.cause === "subject_mismatch" || near.cause === "export_type_mismatch")) {
        const list = nearMisses.get(near.exportClaim) ?? [];
        list.push(nearMiss(importer, imp, near.cause));
        nearMisses.set(near.exportClaim, list);
      }
    }
  }
  return { used, nearMisses };
}

function nearMiss(importer: AccountEntry, imp: ImportClaim, cause: NearMiss["cause"]): NearMiss {
  return {
    account: importer.id,
    account_name: importer.name,
    subject: imp.subject,
    type: exportTypeOf(imp.type),
    cause,
  };
}

function orphanedExport(exporter: AccountEntry, exp: ExportClaim, nearMisses: NearMiss[]): OrphanedExport {
  const name = label(exporter);
  const what = `${name}'s ${exp.tokenReq ? "private " : ""}${exportTypeOf(exp.type)} export "${exp.subject}"`;
  const close =
    nearMisses.length === 0
      ? ""
      : ` ${nearMisses.length === 1 ? "One import comes" : `${nearMisses.length} imports come`} close without matching it (${nearMisses.map(describe).join("; ")}).`;
  return {
    account: exporter.id,
    account_name: exporter.name,
    name: exp.name,
    type: exportTypeOf(exp.type),
    subject: exp.subject,
    token_req: exp.tokenReq,
    account_token_position: exp.accountTokenPosition || null,
    severity: "info",
    message: `${what} is imported by no account.${close}`,
    remediation: [
      `# if no account should import it, remove it:`,
      `nsc delete export --account ${arg(name)} --subject ${arg(exp.subject)}`,
      push({ id: exporter.id, name: exporter.name }),
    ],
    near_misses: nearMisses,
  };
}

function describe(m: NearMiss): string {
  const who = m.account_name ?? m.account;
  return m.cause === "export_type_mismatch"
    ? `${who} imports it as a ${m.type}`
    : `${who} imports "${m.subject}", which it does not contain`;
}
