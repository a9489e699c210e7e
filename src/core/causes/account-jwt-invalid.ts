import { arg, consequence, label, push, subjectPhrase, NOT_YET_VALID_ACCOUNT, type Cause } from "./cause.js";

export const accountJwtInvalid: Cause = {
  code: "account_jwt_invalid",
  status: "inactive",
  title: "Importing account's JWT cannot be loaded",
  explanation:
    "The importing account's own JWT is undecodable, signed by an untrusted key, not yet valid, or fails validation elsewhere: the server does not load the account, so none of its imports work.",
  message: (ctx) =>
    `${subjectPhrase(ctx)} cannot work because the server will not load ${label(ctx.importer)}'s JWT (${ctx.detail ?? "invalid"}), so ${consequence(ctx)}.`,
  remediation: (ctx) =>
    ctx.detail?.startsWith(NOT_YET_VALID_ACCOUNT)
      ? [`nsc edit account --name ${arg(label(ctx.importer))} --start 0`, push(ctx.importer)]
      : [`nsc validate --account ${arg(label(ctx.importer))}`, `# fix what it reports, then:`, push(ctx.importer)],
};
