/** insights.imports.expiring: activation tokens that expire within N days, soonest first, with renewal commands. */
import { DEFAULT_EXPIRING_DAYS, expiringTokens } from "../core/audit/expiring.js";
import type { AccountDirectory } from "../core/directory.js";
import type { EvaluationOptions } from "../core/evaluate.js";
import { iso } from "../core/time.js";
import { DEFAULT_MAX_PAYLOAD, fitLists, page } from "./payload.js";
import { resolveAccount } from "./accounts.js";
import type { EndpointSpec } from "./service.js";

export interface ExpiringRequest {
  days?: number;
  account?: string;
  limit?: number;
  offset?: number;
}

export const DEFAULT_EXPIRING_LIMIT = 500;

export function expiringEndpoint(
  getDirectory: () => AccountDirectory,
  options: () => EvaluationOptions,
  maxPayload: () => number = () => DEFAULT_MAX_PAYLOAD,
): EndpointSpec {
  return {
    name: "expiring",
    subject: "insights.imports.expiring",
    request: "expiring-request",
    response: "expiring-reply",
    description: "Activation tokens that expire within N days (default 30), soonest first, with the commands that renew them",
    handle: (body: unknown) => {
      const req = body as ExpiringRequest;
      const dir = getDirectory();
      const opts = options();
      const accountId = resolveAccount(dir, req.account);
      const days = req.days ?? DEFAULT_EXPIRING_DAYS;
      const p = page(expiringTokens(dir, opts, days, accountId), req.offset, req.limit, DEFAULT_EXPIRING_LIMIT);
      const reply = { checked_at: iso(opts.now), days, until: iso(opts.now + days * 86400), tokens: p.items, total: p.total, offset: p.offset, truncated: p.truncated };
      return fitLists(reply, ["tokens"], maxPayload());
    },
  };
}

