/**
 * insights.imports.preflight: what pushing a proposed account JWT would change, before anyone
 * pushes it. The request is `{"jwt": "<the raw account JWT>"}` (JSON, like every body here; the
 * raw JWT is a JSON string as is). A JWT that does not decode as an account JWT is a 400: there is
 * no account to say anything about. One the resolver would refuse is an answer (`stored: false`).
 */
import { iso } from "../core/time.js";
import { MAX_TOKEN_BYTES } from "../core/jwt/decode.js";
import { preflight, type PreflightResult } from "../core/whatif/preflight.js";
import { ownView } from "../core/own-view.js";
import { defineEndpoint, type EndpointSource } from "./endpoint.js";
import { forbidden, serviceError } from "./refusal.js";

interface PreflightRequest {
  jwt: string;
}

export const preflightEndpoint = defineEndpoint<PreflightRequest>({
  name: "preflight",
  subject: "insights.imports.preflight",
  request: "preflight-request",
  response: "preflight-reply",
  description:
    "What pushing a proposed account JWT would change (before → after for every import it affects); nothing is pushed",
  // The body carries a whole account JWT, which may be up to 1 MiB.
  maxRequestBytes: MAX_TOKEN_BYTES + 1024,
  lists: ["changes", "removed", "refused_imports"],
  answer: (req, source) => reply(predict(req, source), source),
  forAccount: (req, source, account) => reply(ownImportsOnly(predict(req, source), account), source),
});

function predict(req: PreflightRequest, source: EndpointSource): PreflightResult {
  const outcome = preflight(source.directory(), req.jwt, source.options());
  if (!outcome.ok) throw serviceError(outcome);
  return outcome.result;
}

function reply(r: PreflightResult, source: EndpointSource): Record<string, unknown> {
  const summary = {
    changes: r.changes.length,
    breaks: r.changes.filter((c) => c.breaks).length,
    removed: r.removed.length,
    refused_imports: r.refused_imports.length,
  };
  return { checked_at: iso(source.options().now), ...r, summary, truncated: false };
}

/**
 * A tenant may propose its own account's JWT only, and learns what it does to its own imports:
 * what it would do to other accounts' imports from it would tell who imports what, so it is left
 * out, and a note says so whether or not there are any.
 */
function ownImportsOnly(r: PreflightResult, account: string): PreflightResult {
  if (r.account !== account) throw forbidden("jwt: a request through an import may propose its own account's JWT only");
  const changes = r.changes.filter((c) => c.account === account);
  return {
    ...r,
    changes: changes.map((c) => ({ ...c, ...ownView(c) })),
    breaks: r.stored && changes.some((c) => c.breaks),
    removed: r.removed.filter((d) => d.account === account).map(ownView),
    refused_imports: r.refused_imports.filter((d) => d.account === account).map(ownView),
    // Always said, whether or not others import from it: its absence would tell.
    notes: [
      ...r.notes,
      "Only this account's own imports are shown: what the change does to other accounts' imports from it is not (ask the operator).",
    ],
  };
}
