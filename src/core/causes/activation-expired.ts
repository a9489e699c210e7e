import { consequence, reissueToken, subjectPhrase, type Cause } from "./cause.js";
import { iso } from "../time.js";

export const activationExpired: Cause = {
  code: "activation_expired",
  status: "inactive",
  title: "Activation token expired",
  explanation: "The token's exp has passed. Nothing fails loudly: messages simply stop crossing the import.",
  message: (ctx) =>
    `${subjectPhrase(ctx)} has an activation token that expired at ${iso(ctx.activation?.expires ?? 0)}, so ${consequence(ctx)}.`,
  remediation: (ctx) => reissueToken(ctx, " --expiry 90d"),
};
