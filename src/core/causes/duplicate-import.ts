import { consequence, deleteImport, label, push, subjectPhrase, type Cause } from "./cause.js";

export const duplicateImport: Cause = {
  code: "duplicate_import",
  status: "inactive",
  title: "Same stream imported twice",
  explanation:
    "nats-server adds one stream import per (source account, subject): a second import of the same subject from the same account is refused, whatever its local subject. The JWT is accepted; only the first import works.",
  message: (ctx) =>
    `${subjectPhrase(ctx)} is ignored: ${ctx.detail ?? "an earlier import of the same subject from the same account is the one the server keeps"}, so ${consequence(ctx)}. ` +
    `To see the stream under a second name, subscribe to the first import's local subject, or import a narrower subject of ${label(ctx.exporter)}.`,
  remediation: (ctx) => [deleteImport(ctx), push(ctx.importer)],
};
