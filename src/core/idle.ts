/**
 * Idle imports: active, yet carrying nothing. A service import whose exporter has no responder on
 * the subject it sees (on any server: requests time out anyway), or a stream import no client of
 * the importer subscribes to (Insights' "no subscription interest"). Judged from each server's own
 * subscriptions (ACCOUNT.<id>.SUBSZ); what is not known stays null, never a guess.
 */
import type { ImportDiagnosis } from "./diagnosis.js";

export type IdleReason = "no_responders" | "no_subscribers";

/** Whose subscriptions on which subject make an active import carry something. */
export interface InterestQuestion {
  account: string;
  subject: string;
  /** What the import is when nobody has that interest. */
  idle: IdleReason;
}

/**
 * The question for an active import, else null. `exporterSubject`: the subject the exporter sees
 * (a service import's deprecated `to` renames it).
 */
export function interestQuestion(d: ImportDiagnosis, exporterSubject: string): InterestQuestion | null {
  if (d.status !== "active") return null;
  return d.type === "service"
    ? { account: d.source_account, subject: exporterSubject, idle: "no_responders" }
    : { account: d.account, subject: d.local_subject ?? d.subject, idle: "no_subscribers" };
}

/** One server's answer: does some local subscription of the account match the subject (null: cannot say)? */
export type ServerInterest = boolean | null;

/**
 * The import's idle reason from every server's answer: idle only when each of `servers` answered
 * and none has interest; not idle when any has; unknown (null) otherwise.
 */
export function idleFrom(question: InterestQuestion, answers: ServerInterest[], servers: number): IdleReason | null {
  if (answers.some((a) => a === true)) return null;
  if (answers.length < servers || answers.some((a) => a === null)) return null;
  return question.idle;
}
