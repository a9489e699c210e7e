import {
  arg,
  consequence,
  deleteImport,
  fixOnExporter,
  kindOf,
  label,
  push,
  reissueToken,
  subjectPhrase,
  type Cause,
} from "./cause.js";

export const activationRevoked: Cause = {
  code: "activation_revoked",
  status: "inactive",
  title: "Activation token revoked",
  explanation:
    "The export revokes tokens issued to this account (or to all accounts, '*') at or before a given time. A token issued after that time is valid again.",
  message: (ctx) =>
    `${subjectPhrase(ctx)} uses an activation token that ${label(ctx.exporter)} has revoked, so ${consequence(ctx)}. ` +
    `If the revocation was not intended, remove it (or issue a new token); if it was, remove the import.`,
  remediation: (ctx) => [
    `# if the revocation is not intended, remove it:`,
    ...fixOnExporter(
      ctx,
      `nsc revocations delete_activation --account ${arg(label(ctx.exporter))} --subject ${arg(ctx.exportClaim?.subject ?? ctx.exporterSubject)} --target-account ${ctx.importer.id}${kindOf(ctx) === "service" ? " --service" : ""}`,
    ),
    `# or, to keep the revocation of older tokens, issue a new one:`,
    ...reissueToken(ctx),
    `# or, if the revocation is intended, remove the import:`,
    deleteImport(ctx),
    push(ctx.importer),
  ],
};
