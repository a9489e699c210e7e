/**
 * insights.imports.rotation: before rotating a signing key out of an exporter, every activation
 * token it signed and how to reissue each; with `"remove": true`, what removing it would break.
 */
import { ServiceError } from "@nats-io/services";
import { iso } from "../core/time.js";
import { isPublicKey } from "../core/jwt/nkey.js";
import { rotation } from "../core/whatif/rotation.js";
import { defineEndpoint } from "./endpoint.js";
import { serviceError } from "./refusal.js";

interface RotationRequest {
  account: string;
  signing_key: string;
  remove?: boolean;
}

export const rotationEndpoint = defineEndpoint<RotationRequest>({
  name: "rotation",
  subject: "insights.imports.rotation",
  request: "rotation-request",
  response: "rotation-reply",
  description:
    "The activation tokens an exporter's signing key signed, how to reissue them, and (remove) what removing the key would break",
  lists: ["tokens", "changes"],
  answer: (req, source) => {
    // The schema checks the shape; the checksum needs the key itself.
    if (!isPublicKey(req.signing_key, "account"))
      throw new ServiceError(400, "signing_key: not an account public key (bad checksum)");
    const opts = source.options();
    const outcome = rotation(
      source.directory(),
      { account: req.account, signingKey: req.signing_key, remove: req.remove ?? false },
      opts,
    );
    if (!outcome.ok) throw serviceError(outcome);
    const r = outcome.result;
    const summary = {
      tokens: r.tokens.length,
      changes: r.changes.length,
      breaks: r.changes.filter((c) => c.breaks).length,
    };
    return { checked_at: iso(opts.now), ...r, summary, truncated: false };
  },
});
