import { consequence, deleteImport, push, reloadImporter, resignAndPush, subjectPhrase, type Cause } from "./cause.js";

export const sourceAccountNotFound: Cause = {
  code: "source_account_not_found",
  status: "inactive",
  // A source deleted with $SYS.REQ.CLAIMS.DELETE stays registered, disabled: its importers' views list the import valid.
  honouredCarriesNothing: true,
  title: "Source account not found",
  explanation:
    "The server cannot load the account the import names: it was never pushed, or it was deleted (the server then keeps it disabled and refuses its users, while the importer's view still lists the import as valid). It retries only when the importer's JWT changes or the exporter is loaded, and each retry blocks a push for up to the resolver timeout.",
  message: (ctx) =>
    `${subjectPhrase(ctx)} names a source account the server cannot load${ctx.detail ? ` (${ctx.detail})` : ""}, so ${consequence(ctx)}.`,
  remediation: (ctx) => [
    `# push the source account again, if it exists in your nsc store:`,
    ...resignAndPush(ctx.exporter, "so the server loads it again"),
    ...reloadImporter(ctx),
    `# or remove the import:`,
    deleteImport(ctx),
    push(ctx.importer),
  ],
};
