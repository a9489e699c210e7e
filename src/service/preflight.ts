/**
 * insights.imports.preflight: what pushing a proposed account JWT would change, before anyone
 * pushes it. The request is `{"jwt": "<the raw account JWT>"}` (JSON, like every body here; the
 * raw JWT is a JSON string as is). A JWT that does not decode as an account JWT is a 400: there is
 * no account to say anything about. One the resolver would refuse is an answer (`stored: false`).
 */
import { iso } from "../core/time.js";
import { MAX_TOKEN_BYTES } from "../core/jwt/decode.js";
import { preflight } from "../core/whatif/preflight.js";
import { defineEndpoint } from "./endpoint.js";
import { serviceError } from "./refusal.js";

interface PreflightRequest {
  jwt: string;
}

export const preflightEndpoint = defineEndpoint<PreflightRequest>({
  name: "preflight",
  subject: "insights.imports.preflight",
  request: "preflight-request",
  response: "preflight-reply",
  description: "What pushing a proposed account JWT would change (before → after for every import it affects); nothing is pushed",
  // The body carries a whole account JWT, which may be up to 1 MiB.
  maxRequestBytes: MAX_TOKEN_BYTES + 1024,
  lists: ["changes", "removed", "refused_imports"],
  answer: (req, source) => {
    const opts = source.options();
    const outcome = preflight(source.directory(), req.jwt, opts);
    if (!outcome.ok) throw serviceError(outcome);
    const r = outcome.result;
    const summary = { changes: r.changes.length, breaks: r.changes.filter((c) => c.breaks).length, removed: r.removed.length, refused_imports: r.refused_imports.length };
    return { checked_at: iso(opts.now), ...r, summary, truncated: false };
  },
});
