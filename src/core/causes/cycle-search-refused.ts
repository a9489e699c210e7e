import { consequence, deleteImport, label, push, subjectPhrase, type Cause } from "./cause.js";

/**
 * The server's cycle walk refuses the import although it closes no cycle (server/accounts.go,
 * checkServiceImportsForCycles / checkStreamImportsForCycles; src/core/cycle.ts). Told from the
 * importer's side: no other account's import is named (docs/decisions.md, "Tenant self-service").
 */
export const cycleSearchRefused: Cause = {
  code: "cycle_search_refused",
  status: "inactive",
  title: "Refused by the server's cycle search",
  explanation:
    "Before adding an import, nats-server walks the source's imports of colliding subjects, account by account, and refuses the import when that walk reaches an account it already went on from by another way (two imports leading into the same account further on: ErrImportFormsCycle, though nothing leads back to the importer) or holds 1,024 accounts (ErrCycleSearchDepth, a chain of imports that long). The accounts the walk passes are all loaded before the import is added, so the server refuses it on every load order. Servers before 2.12.6 (every 2.10 and 2.11) keep a subject the walk narrowed for the account's next imports, so they honour a diamond whose ways narrow the subject apart; the verdict follows the server's line (docs/servers.md).",
  message: (ctx) =>
    `${subjectPhrase(ctx)} is refused: ${ctx.detail ?? "the server's walk through the imports of colliding subjects refuses it"}, so ${consequence(ctx)}. ` +
    `nats-server walks ${label(ctx.exporter)}'s imports of colliding subjects, and theirs in turn, before it adds this import; ` +
    `it stops with "import forms a cycle" when that walk comes into an account a second time, and with "search cycle depth exhausted" at 1,024 accounts, whether or not anything leads back to ${label(ctx.importer)}.`,
  remediation: (ctx) => [
    deleteImport(ctx),
    push(ctx.importer),
    `# or have the operator remove one of the two ways into the account reached twice (or shorten the chain), then push ${label(ctx.importer)} again`,
  ],
};
