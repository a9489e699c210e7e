/** insights.exports.orphaned: exports that no account imports (severity info). */
import { orphanedExports } from "../core/audit/orphaned.js";
import type { AccountDirectory } from "../core/directory.js";
import type { EvaluationOptions } from "../core/evaluate.js";
import { iso } from "../core/time.js";
import { resolveAccount } from "./accounts.js";
import { DEFAULT_MAX_PAYLOAD, fitLists, page } from "./payload.js";
import type { EndpointSpec } from "./service.js";

export interface OrphanedRequest {
  account?: string;
  limit?: number;
  offset?: number;
}

export const DEFAULT_ORPHANED_LIMIT = 500;

export function orphanedEndpoint(
  getDirectory: () => AccountDirectory,
  options: () => Pick<EvaluationOptions, "now">,
  maxPayload: () => number = () => DEFAULT_MAX_PAYLOAD,
): EndpointSpec {
  return {
    name: "orphaned",
    subject: "insights.exports.orphaned",
    request: "orphaned-request",
    response: "orphaned-reply",
    description: "Exports that no account imports (info), with near misses and the command that removes each",
    handle: (body: unknown) => {
      const req = body as OrphanedRequest;
      const dir = getDirectory();
      const report = orphanedExports(dir, resolveAccount(dir, req.account));
      const p = page(report.orphaned, req.offset, req.limit, DEFAULT_ORPHANED_LIMIT);
      const reply = { checked_at: iso(options().now), exports_checked: report.exports, exports: p.items, total: p.total, offset: p.offset, truncated: p.truncated };
      return fitLists(reply, ["exports"], maxPayload());
    },
  };
}
