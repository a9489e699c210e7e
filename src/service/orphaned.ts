/** insights.exports.orphaned: exports that no account imports (severity info). */
import { orphanedExports } from "../core/audit/orphaned.js";
import { iso } from "../core/time.js";
import { resolveAccount } from "./accounts.js";
import { defineEndpoint } from "./endpoint.js";
import { page, type Paging } from "./payload.js";

interface OrphanedRequest extends Paging {
  account?: string;
}

export const orphanedEndpoint = defineEndpoint<OrphanedRequest>({
  name: "orphaned",
  subject: "insights.exports.orphaned",
  request: "orphaned-request",
  response: "orphaned-reply",
  description: "Exports that no account imports (info), with near misses and the command that removes each",
  lists: ["exports"],
  answer: (req, source) => {
    const dir = source.directory();
    const report = orphanedExports(dir, resolveAccount(dir, req.account));
    const p = page(report.orphaned, req);
    return { checked_at: iso(source.options().now), exports_checked: report.exports, exports: p.items, ...p.fields };
  },
});
