import { arg, label, push, subjectPhrase, type Cause } from "./cause.js";

export const accountExpired: Cause = {
  code: "account_expired",
  status: "inactive",
  title: "Importing account's JWT expired",
  explanation:
    "The importing account's own JWT has expired: the server disconnects its clients and loads none of its imports.",
  message: (ctx) =>
    `${subjectPhrase(ctx)} cannot work because ${label(ctx.importer)}'s own JWT has expired${ctx.detail ? ` (${ctx.detail})` : ""}.`,
  remediation: (ctx) => [`nsc edit account --name ${arg(label(ctx.importer))} --expiry 0`, push(ctx.importer)],
};
