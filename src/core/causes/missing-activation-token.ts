import { consequence, label, reissueToken, subjectPhrase, type Cause } from "./cause.js";

export const missingActivationToken: Cause = {
  code: "missing_activation_token",
  status: "inactive",
  title: "Activation token missing",
  explanation:
    "The export is private (token_req): the server honours an import of it only with an activation token issued by the exporter to the importing account.",
  message: (ctx) =>
    `${subjectPhrase(ctx)} matches a private export, but the import carries no activation token, so ${consequence(ctx)}. ` +
    `${label(ctx.exporter)} must issue a token to ${label(ctx.importer)}.`,
  remediation: (ctx) => reissueToken(ctx),
};
