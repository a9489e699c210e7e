import { consequence, label, reissueToken, subjectPhrase, type Cause } from "./cause.js";

export const activationSignerUntrusted: Cause = {
  code: "activation_signer_untrusted",
  status: "inactive",
  title: "Token signed by a key the exporter no longer has",
  explanation:
    "A token with issuer_account must be signed by one of the exporter's current signing keys. Removing a signing key (rotation) silently invalidates every token it signed.",
  message: (ctx) =>
    `${subjectPhrase(ctx)} has an activation token that ${label(ctx.exporter)} no longer trusts (${ctx.detail ?? "untrusted signer"}), so ${consequence(ctx)}. ` +
    `Reissue the token with a key ${label(ctx.exporter)} still has.`,
  remediation: (ctx) => reissueToken(ctx),
};
