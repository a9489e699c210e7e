import { consequence, deleteImport, fixOnExporter, push, subjectPhrase, type Cause } from "./cause.js";

export const sourceAccountNotFound: Cause = {
  code: "source_account_not_found",
  status: "inactive",
  title: "Source account not found",
  explanation:
    "The server cannot load the account the import names. It retries only when the importer's JWT changes or the exporter is loaded, and each retry blocks a push for up to the resolver timeout.",
  message: (ctx) =>
    `${subjectPhrase(ctx)} names a source account the server cannot load${ctx.detail ? ` (${ctx.detail})` : ""}, so ${consequence(ctx)}.`,
  remediation: (ctx) => [
    `# push the source account, if it exists in your nsc store:`,
    ...fixOnExporter(ctx),
    `# or remove the import:`,
    deleteImport(ctx),
    push(ctx.importer),
  ],
};
