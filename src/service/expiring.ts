/** insights.imports.expiring: activation tokens that expire within N days, soonest first, with renewal commands. */
import { DEFAULT_EXPIRING_DAYS, expiringTokens } from "../core/audit/expiring.js";
import { iso } from "../core/time.js";
import { resolveAccount } from "./accounts.js";
import { defineEndpoint } from "./endpoint.js";
import { page, type Paging } from "./payload.js";

interface ExpiringRequest extends Paging {
  days?: number;
  account?: string;
}

export const expiringEndpoint = defineEndpoint<ExpiringRequest>({
  name: "expiring",
  subject: "insights.imports.expiring",
  request: "expiring-request",
  response: "expiring-reply",
  description:
    "Activation tokens that expire within N days (default 30), soonest first, with the commands that renew them",
  lists: ["tokens"],
  answer: (req, source) => {
    const dir = source.directory();
    const opts = source.options();
    const days = req.days ?? DEFAULT_EXPIRING_DAYS;
    const p = page(expiringTokens(dir, opts, days, resolveAccount(dir, req.account)), req);
    return { checked_at: iso(opts.now), days, until: iso(opts.now + days * 86400), tokens: p.items, ...p.fields };
  },
});
