import { consequence, deleteImport, label, push, subjectPhrase, type Cause } from "./cause.js";

/**
 * A second stream import of a subject whose first import from the same account is on a cycle
 * (import_cycle): which of the two the server adds depends on which import of the cycle it refuses,
 * that is on its load order (docs/decisions.md 23 and 26; test/integration/cycle-duplicate.test.ts).
 * Told from the importer's side: it names only the importer's own earlier import.
 */
export const duplicateOfCycleImport: Cause = {
  code: "duplicate_of_cycle_import",
  status: "undetermined",
  statusWhereRefused: "inactive",
  statusWhereHonoured: "warning",
  title: "Repeats a stream import that is on a cycle",
  explanation:
    "nats-server adds one stream import per (source account, subject) and refuses a later one of the same subject from the same account as a duplicate, but only after the cycle walk: an earlier import the walk refuses is never added, and then the later one is no duplicate. When that earlier import is on a cycle of imports, which import of the cycle a server refuses depends on the order it loaded the accounts in (see import_cycle): where it refuses the earlier import this one works, where it keeps the earlier import this one is refused. The JWTs do not say which; the servers' own view does.",
  message: (ctx) =>
    `${subjectPhrase(ctx)} ${ctx.detail ?? "repeats an earlier import of the same subject from the same account, which is on a cycle of imports"}. ` +
    `nats-server keeps one stream import per subject and source account, and refuses one import of a cycle on each server (that of the account it looked up first): ` +
    `where ${label(ctx.importer)} was loaded first the earlier import is refused and this one works; elsewhere the earlier one is added and this one is refused as its duplicate (${consequence(ctx)}). ` +
    `The servers' own view (check --server, the live service) says which; a restart can change it.`,
  remediation: (ctx) => [
    `# keep one import of the subject: remove this one, or break the earlier import's cycle and keep that one`,
    deleteImport(ctx),
    push(ctx.importer),
  ],
};
