/**
 * Diagnostic events on `insights.events.imports.<importer>`: one per change of an import's final
 * (status, cause), once at start for every import that is not active, and one when an import
 * disappears (its JWT no longer declares it, or its account was deleted) so a consumer keeping a
 * view drops it. The publish gate decides, across instances, who publishes a change; claims and
 * publications run one at a time, in order, in slices of at most SLICE_MS between which the event
 * loop runs (the start-up's events at 100,000 accounts are ~150,000: with an in-memory gate, whose
 * claims never wait, publishing them blocked replies and pushes for seconds). Each change (and
 * removal) is also recorded in the history with what triggered it: by the instance that publishes
 * it, and by any other that saw it soon after (the history store keeps one copy of a change: an
 * instance that dies between the claim and the record loses nothing another saw).
 */
import type { NatsConnection } from "@nats-io/nats-core";
import { sameVerdict, sharedVerdict, type ImportDiagnosis, type Verdict } from "../core/diagnosis.js";
import { boundedEntry, historyEntry, type Trigger } from "../core/history.js";
import { ownView } from "../core/own-view.js";
import { MAX_ENTRY_BYTES, type HistoryStore } from "./history.js";
import type { Logger } from "./log.js";
import type { PublishGate } from "./publish-gate.js";

export const EVENT_PREFIX = "insights.events.imports";

export interface ImportEvent extends ImportDiagnosis {
  previous_status: ImportDiagnosis["status"] | null;
  previous_cause: ImportDiagnosis["cause"];
  /**
   * Null for a change; for an import that disappeared, why: "import_removed" (its account's JWT
   * no longer declares it) or "account_deleted" (the account is gone from the resolver). A removal
   * repeats the import's last diagnosis, with previous_* equal to its status and cause.
   */
  removed: RemovalReason | null;
}

export type RemovalReason = "import_removed" | "account_deleted";

/** The trigger of the change of each import (by key). */
export type TriggerOf = (key: string) => Trigger;

/**
 * An instance that lost the claim records the change too when the winner recorded it this
 * recently: within the history stream's duplicate window (with a margin), where a second copy is
 * dropped. Later, the winner's record stands alone.
 */
const SECOND_RECORD_MS = 60_000;

/** The event queue runs this long at most before it lets the event loop run (replies, pushes, timers). */
const SLICE_MS = 5;

const done = (): Promise<void> => Promise.resolve();

export class EventPublisher {
  /** key → the final diagnosis this instance last saw for the import. */
  private readonly seen = new Map<string, ImportDiagnosis>();
  /** key → the verdict this instance last found recorded (its own claim or another's): a history entry's "before". */
  private readonly lastRecorded = new Map<string, Verdict>();
  /** Claims and publications waiting, in order (from `head` on), and the run working through them. */
  private work: (() => Promise<void>)[] = [];
  private head = 0;
  private running: Promise<void> | null = null;

  constructor(
    private readonly nc: NatsConnection,
    private readonly gate: PublishGate,
    private readonly log: Logger,
    private readonly history: HistoryStore | null = null,
  ) {}

  /** Queue an event for each import whose verdict differs from the last one seen; `why` says what made it change. */
  offer(entries: Iterable<[string, ImportDiagnosis]>, atStart: boolean, why: TriggerOf): void {
    for (const [key, diagnosis] of entries) {
      const last = this.seen.get(key);
      if (sameVerdict(last, diagnosis)) continue;
      this.seen.set(key, diagnosis);
      const by = why(key);
      this.enqueue(() =>
        this.claimAndPublish(key, diagnosis, atStart, by).catch((e: Error) =>
          this.log.warn(
            { account: diagnosis.account, subject: diagnosis.subject, err: e.message },
            "could not publish an event",
          ),
        ),
      );
    }
  }

  /** These imports disappeared: forget them and publish their removal. */
  removed(keys: Iterable<string>, why: (accountId: string) => RemovalReason, by: Trigger): void {
    for (const key of keys) {
      const last = this.seen.get(key);
      if (!last) continue;
      this.seen.delete(key);
      const reason = why(last.account);
      this.enqueue(() =>
        this.releaseAndPublish(key, last, reason, by).catch((e: Error) =>
          this.log.warn(
            { account: last.account, subject: last.subject, err: e.message },
            "could not publish a removal",
          ),
        ),
      );
    }
  }

  /** Every import no JWT declares any more (a full comparison): forget it and publish its removal. */
  prune(stillDeclared: (key: string) => boolean, why: (accountId: string) => RemovalReason, by: Trigger): void {
    this.removed(
      [...this.seen.keys()].filter((key) => !stillDeclared(key)),
      why,
      by,
    );
  }

  /**
   * At start, with a record that outlives instances: publish the removal of every recorded import
   * no JWT declares any more (it disappeared while no instance ran). `describe` gives what is
   * known of such an import from its key alone.
   */
  async removeUndeclared(
    stillDeclared: (key: string) => boolean,
    why: (accountId: string) => RemovalReason,
    describe: (key: string) => ImportDiagnosis | null,
    by: Trigger,
  ): Promise<void> {
    for (const key of await this.gate.recorded()) {
      if (stillDeclared(key) || this.seen.has(key)) continue;
      const last = describe(key);
      if (!last) continue;
      const reason = why(last.account);
      this.enqueue(() =>
        this.releaseAndPublish(key, last, reason, by).catch((e: Error) =>
          this.log.warn(
            { account: last.account, subject: last.subject, err: e.message },
            "could not publish a removal",
          ),
        ),
      );
    }
  }

  /** Resolves when every queued event has been published (or given up). */
  drained(): Promise<void> {
    return this.running ?? Promise.resolve();
  }

  /** Queue a claim and publication (its errors handled by itself) after every one queued before. */
  private enqueue(job: () => Promise<void>): void {
    this.work.push(job);
    this.running ??= this.runQueue();
  }

  /** Work through the queue in order, one job at a time, letting the event loop run every SLICE_MS. */
  private async runQueue(): Promise<void> {
    await Promise.resolve(); // the first job too runs after the caller's code, not inside it
    let sliceStart = performance.now();
    while (this.head < this.work.length) {
      const job = this.work[this.head]!;
      this.work[this.head++] = done; // let the job's closure go
      await job();
      if (performance.now() - sliceStart >= SLICE_MS) {
        await new Promise<void>((resolve) => setImmediate(resolve));
        sliceStart = performance.now();
        if (this.head > 4096 && this.head > this.work.length / 2) {
          this.work = this.work.slice(this.head); // a queue that never empties does not grow for ever
          this.head = 0;
        }
      }
    }
    this.work = [];
    this.head = 0;
    this.running = null;
  }

  private async claimAndPublish(key: string, diagnosis: ImportDiagnosis, atStart: boolean, by: Trigger): Promise<void> {
    const claim = await this.gate.claim(key, diagnosis);
    if (!claim.won) {
      // Another instance published it: record it too while a second copy is still dropped.
      const previous = this.lastRecorded.get(key) ?? null;
      if (
        Date.now() - claim.recordedAtMs < SECOND_RECORD_MS &&
        !(atStart && previous === null && diagnosis.status === "active")
      )
        await this.record(diagnosis, previous, by, claim.change, claim.recordedAtMs);
      this.lastRecorded.set(key, sharedVerdict(diagnosis));
      return;
    }
    this.lastRecorded.set(key, sharedVerdict(diagnosis));
    // At start, an import first seen active is no news; every later change is.
    if ((atStart && claim.previous === null && diagnosis.status === "active") || this.nc.isClosed()) return;
    const previous = claim.previous;
    // Each account can import its own events: they say only what its owner may know.
    const event: ImportEvent = {
      ...ownView(diagnosis),
      previous_status: previous?.status ?? null,
      previous_cause: previous?.cause ?? null,
      removed: null,
    };
    this.nc.publish(`${EVENT_PREFIX}.${event.account}`, JSON.stringify(event));
    this.log.info(
      {
        account: event.account,
        subject: event.subject,
        status: event.status,
        cause: event.cause,
        previous_status: event.previous_status,
      },
      "import changed",
    );
    await this.record(diagnosis, previous, by, claim.change, claim.recordedAtMs);
  }

  /** The history entry of a change (or removal), named so that every instance names it alike. */
  private async record(
    d: ImportDiagnosis,
    previous: Verdict | null,
    by: Trigger,
    change: string,
    atMs: number,
    removed: RemovalReason | null = null,
  ): Promise<void> {
    if (!this.history) return;
    const entry = boundedEntry(historyEntry(d, previous, by, atMs, removed), MAX_ENTRY_BYTES);
    if (entry) await this.history.record(entry, change);
    else this.log.warn({ account: d.account }, "a history entry too large to keep was left out");
  }

  private async releaseAndPublish(
    key: string,
    last: ImportDiagnosis,
    reason: RemovalReason,
    by: Trigger,
  ): Promise<void> {
    this.lastRecorded.delete(key);
    const released = await this.gate.release(key);
    if (!released || this.nc.isClosed()) return;
    const { status, cause } = released.previous;
    const gone =
      reason === "account_deleted"
        ? `its account ${last.account_name ?? last.account} was deleted`
        : "its account's JWT no longer declares it";
    const event: ImportEvent = {
      ...last,
      status,
      cause,
      message: `${last.type === "service" ? "Service" : "Stream"} import of "${last.subject}" from ${last.source_account_name ?? last.source_account} is gone: ${gone}.`,
      remediation: [],
      previous_status: status,
      previous_cause: cause,
      removed: reason,
    };
    this.nc.publish(`${EVENT_PREFIX}.${event.account}`, JSON.stringify(event));
    this.log.info({ account: event.account, subject: event.subject, removed: reason }, "import removed");
    await this.record(event, released.previous, by, released.change, Date.now(), reason);
  }
}
