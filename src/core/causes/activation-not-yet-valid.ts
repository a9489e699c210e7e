import { consequence, reissueToken, subjectPhrase, type Cause } from "./cause.js";
import { iso } from "../time.js";

export const activationNotYetValid: Cause = {
  code: "activation_not_yet_valid",
  status: "inactive",
  title: "Activation token not yet valid",
  explanation:
    "The token's nbf (start) is in the future. The server refuses it when the importer is loaded and does not re-check when nbf passes: the import stays dead until a changed importer JWT is pushed (pushing the same JWT again changes nothing).",
  message: (ctx) =>
    `${subjectPhrase(ctx)} has an activation token that is not valid before ${iso(ctx.activation?.notBefore ?? 0)}, so ${consequence(ctx)}. ` +
    `nats-server does not re-enable it by itself when that time comes, and pushing the same JWT again changes nothing: reissue the token (which re-signs the importer's JWT) and push it.`,
  remediation: (ctx) => reissueToken(ctx),
};
