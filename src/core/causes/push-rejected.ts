import { arg, label, subjectPhrase, type Cause } from "./cause.js";

export const pushRejected: Cause = {
  code: "push_rejected",
  status: "inactive",
  title: "Pushed JWT rejected by the server",
  explanation:
    "A JWT declaring this import was pushed but the server did not store it (it failed validation), so the import as declared never became active; the server keeps the previous JWT.",
  message: (ctx) =>
    `${subjectPhrase(ctx)} was pushed, but the server rejected the JWT${ctx.detail ? ` (${ctx.detail})` : ""}; it keeps serving the previous version of ${label(ctx.importer)}.`,
  remediation: (ctx) => [
    `nsc validate --account ${arg(label(ctx.importer))}`,
    `# fix what it reports, then:`,
    `nsc push --account ${arg(label(ctx.importer))}`,
  ],
};
