import { consequence, reissueToken, subjectPhrase, type Cause } from "./cause.js";

export const activationInvalid: Cause = {
  code: "activation_invalid",
  status: "inactive",
  title: "Activation token invalid",
  explanation:
    "The token does not decode, its signature fails, or it does not fit the import: issued by another account, to another account, for the other import type, or for a subject that does not contain the import's. The server rejects a whole account JWT on push when one of its tokens is like that.",
  message: (ctx) =>
    `${subjectPhrase(ctx)} has an unusable activation token (${ctx.detail ?? "it fails validation"}), so ${consequence(ctx)}.`,
  remediation: (ctx) => reissueToken(ctx),
};
