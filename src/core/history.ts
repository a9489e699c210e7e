/**
 * The history of imports: "when did it break, and what broke it?". Each change of an import's
 * final (status, cause), the one an event announces, becomes one entry: the instant it was
 * recorded, the verdicts before and after, and the trigger that made the service look (a push of
 * which account, an exp/nbf instant, a resync, a server cross-check, a delete, the start-up).
 * Pure: the shell keeps the entries (src/shell/history.ts) and the service answers from them.
 */
import type { CauseCode, ImportDiagnosis, ImportStatus, Verdict } from "./diagnosis.js";
import { ownView } from "./own-view.js";
import { refuse, type Refusal } from "./result.js";

export type TriggerKind =
  /** A pushed account JWT the resolver stored (`account`: the pushed account). */
  | "push"
  /** A push the server refused (`account`: the account whose JWT it refused). */
  | "push_rejected"
  /** An operator's delete request the resolver carried out (`account`: the deleted account). */
  | "delete"
  /** An exp or nbf instant reached (`instant`: which one). */
  | "time"
  /** A full resync (`reason`: epoch, reconnect, unconfirmed push...). */
  | "resync"
  /** The servers' own view of the import (ACCOUNT.<id>.INFO) changed the verdict. */
  | "cross_check"
  /** The service started: the first look, or what changed while no instance ran. */
  | "start";

export interface Trigger {
  kind: TriggerKind;
  /** The account whose push, refused push or delete it was; null otherwise (or not the asker's to know). */
  account: string | null;
  account_name: string | null;
  /** The exp or nbf instant reached (ISO 8601), for "time". */
  instant: string | null;
  /** Why a resync ran, for "resync". */
  reason: string | null;
}

export type HistoryRemoval = "import_removed" | "account_deleted";

export interface HistoryEntry {
  /** When the change was recorded (ISO 8601, milliseconds). */
  at: string;
  account: string;
  account_name: string | null;
  type: ImportDiagnosis["type"];
  source_account: string;
  source_account_name: string | null;
  subject: string;
  local_subject: string | null;
  status: ImportStatus;
  cause: CauseCode | null;
  /** The verdict before (null: none was known, the import was first seen). */
  previous_status: ImportStatus | null;
  previous_cause: CauseCode | null;
  /** Set when the import disappeared: its JWT no longer declares it, or its account was deleted. */
  removed: HistoryRemoval | null;
  /** The diagnosis' message at the change. */
  message: string;
  trigger: Trigger;
}

/** A trigger with only the fields its kind uses set. */
export function trigger(kind: TriggerKind, fields: Partial<Omit<Trigger, "kind">> = {}): Trigger {
  return {
    kind,
    account: fields.account ?? null,
    account_name: fields.account_name ?? null,
    instant: fields.instant ?? null,
    reason: fields.reason ?? null,
  };
}

/** The entry for a change of `d`'s verdict from `previous`, made by `cause`, recorded at `atMs`. */
export function historyEntry(
  d: ImportDiagnosis,
  previous: Verdict | null,
  cause: Trigger,
  atMs: number,
  removed: HistoryRemoval | null = null,
): HistoryEntry {
  return {
    at: new Date(atMs).toISOString(),
    account: d.account,
    account_name: d.account_name,
    type: d.type,
    source_account: d.source_account,
    source_account_name: d.source_account_name,
    subject: d.subject,
    local_subject: d.local_subject,
    status: d.status,
    cause: d.cause,
    previous_status: previous?.status ?? null,
    previous_cause: previous?.cause ?? null,
    removed,
    message: d.message,
    trigger: cause,
  };
}

/**
 * What the importer's owner may read of an entry: an import_cycle told from its side alone (as
 * ownView does for diagnoses), and the account behind a trigger only when it is the importer or
 * the import's source (a push of a third account, say the one closing a cycle, stays unnamed).
 */
export function ownHistoryEntry(e: HistoryEntry): HistoryEntry {
  const known = e.trigger.account === null || e.trigger.account === e.account || e.trigger.account === e.source_account;
  const message =
    e.cause === "import_cycle"
      ? ownView({ ...e, name: null, remediation: [], token: null, server: null, idle: null }).message
      : e.message;
  return {
    ...e,
    message,
    trigger: known ? e.trigger : { ...e.trigger, account: null, account_name: null },
  };
}

/**
 * The entry within `maxBytes` of JSON: a longer message is cut (it is the only free text; the
 * current one is in the check's reply); null when even that is not enough (names and subjects
 * of hundreds of kilobytes, which a JWT can hold): such a change is not recorded.
 */
export function boundedEntry(e: HistoryEntry, maxBytes: number): HistoryEntry | null {
  const size = Buffer.byteLength(JSON.stringify(e));
  if (size <= maxBytes) return e;
  const cut = { ...e, message: "" };
  const room = maxBytes - Buffer.byteLength(JSON.stringify(cut)) - 8;
  if (room < 0) return null;
  // Cut by characters until the JSON fits: escapes and multi-byte characters make bytes ≥ characters.
  let keep = Math.min(e.message.length, room);
  for (;;) {
    const message = keep < e.message.length ? `${e.message.slice(0, keep)}…` : e.message;
    if (Buffer.byteLength(JSON.stringify({ ...e, message })) <= maxBytes) return { ...e, message };
    keep = Math.floor(keep / 2);
  }
}

/** A relative `since`: a whole number of seconds, minutes, hours or days before now. */
const RELATIVE = /^([1-9][0-9]{0,6})([smhd])$/;
const UNIT_SECONDS = { s: 1, m: 60, h: 3600, d: 86_400 } as const;
/** ISO 8601 with a date and a time and an explicit zone (what Date parses without guessing). */
const ABSOLUTE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;

/** `since` as a Unix instant in milliseconds: an ISO 8601 instant, or "90s", "15m", "6h", "7d" before now. */
export function parseSince(text: string, nowMs: number): { ok: true; ms: number } | Refusal {
  const relative = RELATIVE.exec(text);
  if (relative) {
    const seconds = Number(relative[1]) * UNIT_SECONDS[relative[2] as keyof typeof UNIT_SECONDS];
    return { ok: true, ms: nowMs - seconds * 1000 };
  }
  const ms = ABSOLUTE.test(text) ? Date.parse(text) : NaN;
  if (!Number.isFinite(ms))
    return refuse(
      "invalid",
      `since: "${text}" is neither an ISO 8601 instant with a zone (2026-12-01T10:00:00Z) nor a duration (90s, 15m, 6h, 7d)`,
    );
  return { ok: true, ms };
}

/** The entries of one import subject (all when undefined) recorded at or after `sinceMs`, oldest first. */
export function timeline(
  entries: readonly HistoryEntry[],
  subject: string | undefined,
  sinceMs: number,
): HistoryEntry[] {
  return entries
    .filter((e) => (subject === undefined || e.subject === subject) && Date.parse(e.at) >= sinceMs)
    .sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));
}
