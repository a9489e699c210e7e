/**
 * insights.imports.rotation: before rotating a signing key out of an exporter, every activation
 * token it signed and how to reissue each; with `"remove": true`, what removing it would break.
 */
import { ServiceError } from "@nats-io/services";
import type { AccountDirectory } from "../core/directory.js";
import type { EvaluationOptions } from "../core/evaluate.js";
import { iso } from "../core/time.js";
import { isPublicKey } from "../core/jwt/nkey.js";
import { rotation } from "../core/whatif/rotation.js";
import { DEFAULT_MAX_PAYLOAD, fitLists } from "./payload.js";
import type { EndpointSpec } from "./service.js";

export interface RotationBody {
  account: string;
  signing_key: string;
  remove?: boolean;
}

export function rotationEndpoint(
  getDirectory: () => AccountDirectory,
  options: () => EvaluationOptions,
  maxPayload: () => number = () => DEFAULT_MAX_PAYLOAD,
): EndpointSpec {
  return {
    name: "rotation",
    subject: "insights.imports.rotation",
    request: "rotation-request",
    response: "rotation-reply",
    description: "The activation tokens an exporter's signing key signed, how to reissue them, and (remove) what removing the key would break",
    handle: (body: unknown) => {
      const req = body as RotationBody;
      // The schema checks the shape; the checksum needs the key itself.
      if (!isPublicKey(req.signing_key, "account")) throw new ServiceError(400, "signing_key: not an account public key (bad checksum)");
      const opts = options();
      const outcome = rotation(getDirectory(), { account: req.account, signingKey: req.signing_key, remove: req.remove ?? false }, opts);
      if (!outcome.ok) throw new ServiceError(outcome.code, outcome.message);
      const r = outcome.result;
      const summary = { tokens: r.tokens.length, changes: r.changes.length, breaks: r.changes.filter((c) => c.breaks).length };
      return fitLists({ checked_at: iso(opts.now), ...r, summary, truncated: false }, ["tokens", "changes"], maxPayload());
    },
  };
}
