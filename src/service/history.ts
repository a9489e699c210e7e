/**
 * insights.imports.history: "when did it break, and what broke it?". The timeline of one
 * account's imports (or of one import subject): each change of (status, cause) with its instant
 * and its trigger, oldest first, from what the service keeps (src/shell/history.ts). An account
 * that is gone is still asked about by its public key: its history outlives it.
 */
import { ServiceError } from "@nats-io/services";
import { ownHistoryEntry, parseSince, timeline, type HistoryEntry } from "../core/history.js";
import { isPublicKey } from "../core/jwt/nkey.js";
import { namedAccount } from "../core/result.js";
import { defineEndpoint, type EndpointSource } from "./endpoint.js";
import { page, type Paging } from "./payload.js";
import { forbidden, serviceError } from "./refusal.js";

interface HistoryRequest extends Paging {
  account: string;
  subject?: string;
  since?: string;
}

export const historyEndpoint = defineEndpoint<HistoryRequest>({
  name: "history",
  subject: "insights.imports.history",
  request: "history-request",
  response: "history-reply",
  description:
    "When an account's imports changed (status, cause), and what triggered each change: a push, an exp/nbf instant, a resync, a server cross-check, a delete, the start-up",
  lists: ["entries"],
  answer: (req, source) => answerHistory(req, source, accountOf(req.account, source), (e) => e),
  forAccount: (req, source, account) => {
    // A tenant asks about its own account only, by key or by name.
    if (req.account !== account && source.directory().resolve(req.account)?.id !== account)
      throw forbidden("account: a request through an import may ask about its own account only");
    return answerHistory(req, source, account, ownHistoryEntry);
  },
});

/** The account's public key: a known account by key or name, or the key of one that is gone. */
function accountOf(keyOrName: string, source: EndpointSource): string {
  const named = namedAccount(source.directory(), keyOrName);
  if (named.ok) return named.entry.id;
  if (isPublicKey(keyOrName, "account")) return keyOrName;
  throw serviceError(named);
}

function answerHistory(
  req: HistoryRequest,
  source: EndpointSource,
  account: string,
  shown: (e: HistoryEntry) => HistoryEntry,
): Record<string, unknown> {
  const history = source.history?.();
  if (!history) throw new ServiceError(503, "history: this service keeps none");
  const now = Date.now();
  let sinceMs = Number.NEGATIVE_INFINITY;
  if (req.since !== undefined) {
    const since = parseSince(req.since, now);
    if (!since.ok) throw serviceError(since);
    sinceMs = since.ms;
  }
  const p = page(timeline(history.entries(account), req.subject, sinceMs).map(shown), req);
  return {
    account,
    account_name: source.directory().get(account)?.name ?? null,
    subject: req.subject ?? null,
    since: Number.isFinite(sinceMs) ? new Date(sinceMs).toISOString() : null,
    entries: p.items,
    ...p.fields,
    retention: history.retention(),
  };
}
