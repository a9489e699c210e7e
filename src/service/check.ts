/**
 * insights.imports.check: filter, sort and page the current diagnoses. `check` is pure: the
 * monitor's state and the request in, the reply body out; the endpoint asks the live service for
 * the diagnoses with the servers' own view filled in.
 */
import { accountErrors, summarize } from "../core/report.js";
import { ownView } from "../core/own-view.js";
import type { CauseCode, ImportDiagnosis, ImportStatus } from "../core/diagnosis.js";
import type { AccountDirectory } from "../core/directory.js";
import type { JwtSource } from "../shell/server-accounts.js";
import { defineEndpoint, type EndpointSource } from "./endpoint.js";
import { page, type Paging } from "./payload.js";
import { namedAccount, refuse, type Refusal } from "../core/result.js";
import { forbidden, serviceError } from "./refusal.js";

interface CheckRequest extends Paging {
  account?: string;
  status?: ImportStatus;
  cause?: CauseCode;
  /** true: only idle imports (active, carrying nothing); false: only the others. */
  idle?: boolean;
}

const SEVERITY: Record<ImportStatus, number> = { inactive: 0, undetermined: 1, warning: 2, active: 3 };

function byReportOrder(a: ImportDiagnosis, b: ImportDiagnosis): number {
  return (
    SEVERITY[a.status] - SEVERITY[b.status] ||
    (a.account_name ?? a.account).localeCompare(b.account_name ?? b.account) ||
    a.account.localeCompare(b.account) ||
    a.subject.localeCompare(b.subject) ||
    a.source_account.localeCompare(b.source_account)
  );
}

type CheckOutcome = { ok: true; reply: Record<string, unknown> } | Refusal;

/**
 * `diagnosesOf(id)` gives one account's diagnoses (null: everyone's), so that a question about one
 * account costs what that account has, not what the deployment has.
 */
function check(
  dir: AccountDirectory,
  diagnosesOf: (accountId: string | null) => ImportDiagnosis[],
  req: CheckRequest,
  now: Date,
  source: JwtSource,
): CheckOutcome {
  let accountId: string | null = null;
  if (req.account !== undefined) {
    const named = namedAccount(dir, req.account);
    if (!named.ok && source.unseen_accounts.includes(req.account)) {
      return refuse(
        "not_found",
        `account: no server has loaded account "${req.account}" (without a resolver, a server loads an account when a client of it connects or an account it loads imports from it)`,
      );
    }
    if (!named.ok) return named;
    accountId = named.entry.id;
  }
  const matching = diagnosesOf(accountId)
    .filter(
      (d) =>
        (!req.status || d.status === req.status) &&
        (!req.cause || d.cause === req.cause) &&
        (req.idle === undefined || (d.idle !== null) === req.idle),
    )
    .sort(byReportOrder);
  const p = page(matching, req);
  const accounts = accountId === null ? dir.size : 1;
  return {
    ok: true,
    reply: {
      checked_at: now.toISOString(),
      summary: summarize(accounts, matching),
      imports: p.items,
      ...p.fields,
      account_errors: accountErrors(dir, accountId ?? undefined, Math.floor(now.getTime() / 1000)),
      jwt_source:
        accountId === null
          ? source
          : {
              ...source,
              unseen_accounts: source.unseen_accounts.filter(concerns(dir, accountId)),
              differing_accounts: source.differing_accounts.filter(concerns(dir, accountId)),
            },
    },
  };
}

/** Does an account concern a question about `accountId`: it is that account or one its imports name? */
function concerns(dir: AccountDirectory, accountId: string): (id: string) => boolean {
  return (id) => id === accountId || dir.get(accountId)?.claims?.imports?.some((i) => i.account === id) === true;
}

export const checkEndpoint = defineEndpoint<CheckRequest>({
  name: "check",
  subject: "insights.imports.check",
  request: "check-request",
  response: "check-reply",
  description: "Every import of every account (or of one), with status, cause, message and remediation",
  lists: ["imports"],
  answer: answerCheck,
  forAccount: (req, source, account) => {
    const reply = answerCheck(forAccount(req, account, source.directory()), source);
    return { ...reply, imports: (reply.imports as ImportDiagnosis[]).map(ownView) };
  },
});

function answerCheck(req: CheckRequest, source: EndpointSource): Record<string, unknown> {
  const outcome = check(
    source.directory(),
    (id) => source.diagnosesOf(id),
    req,
    new Date(),
    source.jwtSource?.() ?? { from: "resolver", unseen_accounts: [], differing_accounts: [] },
  );
  if (!outcome.ok) throw serviceError(outcome);
  return outcome.reply;
}

/** A tenant's question: about its own account, whatever it names (another is refused, 403). */
function forAccount(req: CheckRequest, account: string, dir: AccountDirectory): CheckRequest {
  if (req.account !== undefined && req.account !== account && dir.resolve(req.account)?.id !== account) {
    throw forbidden("account: a request through an import may ask about its own account only");
  }
  return { ...req, account };
}
