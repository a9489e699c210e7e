import { reissueToken, subjectPhrase, type Cause } from "./cause.js";
import { iso } from "../time.js";

export const activationExpiringSoon: Cause = {
  code: "activation_expiring_soon",
  status: "warning",
  title: "Activation token expires soon",
  explanation: "The import works today, but its token expires within the warning window (7 days by default).",
  message: (ctx) => {
    const exp = ctx.activation?.expires ?? 0;
    const hours = Math.max(0, Math.round((exp - ctx.now) / 3600));
    return `${subjectPhrase(ctx)} works, but its activation token expires at ${iso(exp)} (in about ${hours} h); renew it before then.`;
  },
  remediation: (ctx) => reissueToken(ctx, " --expiry 90d"),
};
