import { addPublicImport, consequence, deleteImport, label, push, subjectPhrase, type Cause } from "./cause.js";

export const accountTokenPositionMismatch: Cause = {
  code: "account_token_position_mismatch",
  status: "inactive",
  title: "Importer's key not at the account token position",
  explanation:
    "The export sets account_token_position n: token n of the import subject must be the importing account's public key.",
  message: (ctx) => {
    const n = ctx.exportClaim?.accountTokenPosition ?? 0;
    return `${subjectPhrase(ctx)} must carry ${label(ctx.importer)}'s public key as token ${n} (export "${ctx.exportClaim?.subject}"), so ${consequence(ctx)}.`;
  },
  remediation: (ctx) => {
    const exp = ctx.exportClaim;
    const tokens = (exp?.subject ?? ctx.exporterSubject).split(".");
    const n = exp?.accountTokenPosition ?? 0;
    if (n > 0 && n <= tokens.length) tokens[n - 1] = ctx.importer.id;
    return [deleteImport(ctx), addPublicImport(ctx, tokens.join(".")), push(ctx.importer)];
  },
};
