/**
 * What an account's owner may read about its own import: the import, its source account, and
 * nothing about other accounts' imports. Every cause's text already keeps to that except
 * import_cycle, whose message and fix name the import of another account that closes the cycle;
 * here it is told from the importer's side alone. Applied to replies for a tenant and to events,
 * which each account can import for itself (docs/decisions.md, "Tenant self-service").
 */
import { arg } from "./causes/cause.js";
import type { ImportDiagnosis } from "./diagnosis.js";

const CYCLE_STATE: Record<ImportDiagnosis["status"], string> = {
  undetermined: "which one the JWTs do not say: this one may be dead.",
  inactive: "the servers that have it loaded refuse this one: it is dead (a restart may change which one is).",
  warning: "servers honour this one now; a restart may make it the dead one.",
  active: "this one works.",
};

export function ownView(d: ImportDiagnosis): ImportDiagnosis {
  if (d.cause !== "import_cycle") return d;
  const importer = d.account_name ?? d.account;
  const source = d.source_account_name ?? d.source_account;
  return {
    ...d,
    message:
      `${importer}'s ${d.type} import of "${d.subject}" from ${source} closes a cycle: ${source}, or an account it imports from, ` +
      `imports colliding subjects back from ${importer}. nats-server refuses one import of the cycle on each server, that of the ` +
      `account it loaded first, and ${CYCLE_STATE[d.status]} The other imports of the cycle belong to other accounts and are not shown here.`,
    remediation: [
      `nsc delete import --account ${arg(importer)} --subject ${arg(d.subject)} --src-account ${d.source_account}`,
      `nsc push --account ${arg(importer)}`,
      `# or ask the operator to break the cycle at another account's import`,
    ],
  };
}
