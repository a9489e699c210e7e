/**
 * The human report: imports grouped by account, each inactive one with its cause and its fix.
 * Colour only on a terminal, and never when NO_COLOR is set.
 */
import type { ImportDiagnosis } from "../core/diagnosis.js";
import type { AuditReport } from "./audit.js";

type Paint = (code: string, text: string) => string;

export function painter(enabled: boolean): Paint {
  return enabled ? (code, text) => `\x1b[${code}m${text}\x1b[0m` : (_code, text) => text;
}

const MARK: Record<ImportDiagnosis["status"], [string, string]> = {
  inactive: ["31", "✗ inactive"],
  warning: ["33", "! warning "],
  undetermined: ["35", "? undetermined"],
  active: ["32", "✓ active  "],
};

export function renderReport(report: AuditReport, paint: Paint): string {
  const lines: string[] = [];
  const byAccount = new Map<string, ImportDiagnosis[]>();
  for (const d of report.imports) byAccount.set(d.account, [...(byAccount.get(d.account) ?? []), d]);
  const accounts = [...byAccount.values()].sort((a, b) =>
    (a[0]!.account_name ?? a[0]!.account).localeCompare(b[0]!.account_name ?? b[0]!.account),
  );
  for (const imports of accounts) {
    const first = imports[0]!;
    lines.push(paint("1", `${first.account_name ?? "(unnamed)"} ${paint("2", first.account)}`));
    for (const d of imports.sort((a, b) => a.status.localeCompare(b.status) || a.subject.localeCompare(b.subject)))
      lines.push(...renderImport(d, paint));
    lines.push("");
  }
  for (const e of report.account_errors) lines.push(paint("31", `account ${e.account_name ?? e.account}: ${e.error}`));
  if (report.account_errors.length > 0) lines.push("");
  const s = report.summary;
  lines.push(
    `${s.accounts} accounts, ${s.imports} imports: ${paint("32", `${s.active} active`)}, ${paint(s.inactive ? "31" : "2", `${s.inactive} inactive`)}, ${paint(s.warning ? "33" : "2", `${s.warning} warning`)}${s.undetermined ? `, ${paint("35", `${s.undetermined} undetermined`)}` : ""}`,
  );
  return lines.join("\n");
}

function renderImport(d: ImportDiagnosis, paint: Paint): string[] {
  const [colour, mark] = MARK[d.status];
  const from = d.source_account_name ?? d.source_account;
  const local = d.local_subject ? ` as "${d.local_subject}"` : "";
  const head = `  ${paint(colour, mark)} ${d.type} "${d.subject}"${local} from ${from}${d.cause ? `  ${paint(colour, d.cause)}` : ""}`;
  if (d.status === "active") return [head];
  return [
    head,
    `      ${d.message}`,
    ...d.remediation.map((cmd) => `      ${cmd.startsWith("#") ? paint("2", cmd) : `$ ${cmd}`}`),
  ];
}
