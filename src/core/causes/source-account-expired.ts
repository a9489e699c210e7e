import { arg, consequence, fixOnExporter, label, subjectPhrase, type Cause } from "./cause.js";

export const sourceAccountExpired: Cause = {
  code: "source_account_expired",
  status: "inactive",
  title: "Source account JWT expired",
  explanation: "The exporter's own JWT is outside its validity window, so the server does not load it.",
  message: (ctx) =>
    `${subjectPhrase(ctx)} comes from an account whose JWT is not valid now (${ctx.detail ?? "expired"}), so ${consequence(ctx)}.`,
  remediation: (ctx) => fixOnExporter(ctx, `nsc edit account --name ${arg(label(ctx.exporter))} --expiry 0 --start 0`),
};
