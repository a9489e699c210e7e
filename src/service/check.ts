/**
 * insights.imports.check: filter, sort and page the current diagnoses. `check` is pure: the
 * monitor's state and the request in, the reply body out; the endpoint asks the live service for
 * the diagnoses with the servers' own view filled in.
 */
import { ServiceError } from "@nats-io/services";
import { accountErrors, summarize } from "../core/report.js";
import type { CauseCode, ImportDiagnosis, ImportStatus } from "../core/diagnosis.js";
import type { AccountDirectory } from "../core/directory.js";
import { DEFAULT_MAX_PAYLOAD } from "./payload.js";
import type { EndpointSpec } from "./service.js";

export interface CheckRequest {
  account?: string;
  status?: ImportStatus;
  cause?: CauseCode;
  limit?: number;
  offset?: number;
}

export const DEFAULT_LIMIT = 500;

const SEVERITY: Record<ImportStatus, number> = { inactive: 0, warning: 1, active: 2 };

function byReportOrder(a: ImportDiagnosis, b: ImportDiagnosis): number {
  return (
    SEVERITY[a.status] - SEVERITY[b.status] ||
    (a.account_name ?? a.account).localeCompare(b.account_name ?? b.account) ||
    a.account.localeCompare(b.account) ||
    a.subject.localeCompare(b.subject) ||
    a.source_account.localeCompare(b.source_account)
  );
}

export type CheckOutcome = { ok: true; reply: Record<string, unknown> } | { ok: false; code: 404; message: string };

/**
 * `diagnosesOf(id)` gives one account's diagnoses (null: everyone's), so that a question about one
 * account costs what that account has, not what the deployment has.
 */
export function check(dir: AccountDirectory, diagnosesOf: DiagnosesOf, req: CheckRequest, now: Date): CheckOutcome {
  let accountId: string | null = null;
  if (req.account !== undefined) {
    const entry = dir.resolve(req.account);
    if (!entry) return { ok: false, code: 404, message: `account: no account "${req.account}" is known (give a public key or a JWT name)` };
    accountId = entry.id;
  }
  const matching = diagnosesOf(accountId)
    .filter((d) => (!req.status || d.status === req.status) && (!req.cause || d.cause === req.cause))
    .sort(byReportOrder);
  const offset = req.offset ?? 0;
  const page = matching.slice(offset, offset + (req.limit ?? DEFAULT_LIMIT));
  const accounts = accountId === null ? dir.size : 1;
  return {
    ok: true,
    reply: {
      checked_at: now.toISOString(),
      summary: summarize(accounts, matching),
      imports: page,
      total: matching.length,
      offset,
      truncated: offset + page.length < matching.length,
      account_errors: accountErrors(dir, accountId ?? undefined, Math.floor(now.getTime() / 1000)),
    },
  };
}

/** Gives one account's diagnoses (null: everyone's), the servers' view applied. */
export type DiagnosesOf = (accountId: string | null) => ImportDiagnosis[];

export function checkEndpoint(
  getDirectory: () => AccountDirectory,
  diagnosesOf: DiagnosesOf,
  maxPayload: () => number = () => DEFAULT_MAX_PAYLOAD,
): EndpointSpec {
  return {
    name: "check",
    subject: "insights.imports.check",
    request: "check-request",
    response: "check-reply",
    description: "Every import of every account (or of one), with status, cause, message and remediation",
    handle: (body: unknown) => {
      const outcome = check(getDirectory(), diagnosesOf, body as CheckRequest, new Date());
      if (!outcome.ok) throw new ServiceError(outcome.code, outcome.message);
      return fitToPayload(outcome.reply, maxPayload());
    },
  };
}

/** Keep a reply under the server's max_payload: drop diagnoses from the page and say so. */
export function fitToPayload(reply: Record<string, unknown>, maxPayload: number): string {
  let body = JSON.stringify(reply);
  const imports = reply["imports"] as unknown[];
  let keep = imports.length;
  while (Buffer.byteLength(body) > maxPayload && keep > 0) {
    keep = Math.floor(keep * Math.min(0.9, maxPayload / Buffer.byteLength(body)));
    body = JSON.stringify({ ...reply, imports: imports.slice(0, keep), truncated: true });
  }
  return body;
}
