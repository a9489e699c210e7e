/**
 * Diagnostic events on `insights.events.imports.<importer>`: one per change of an import's final
 * (status, cause), and once at start for every import that is not active. The publish gate decides,
 * across instances, who publishes a change; claims and publications run one at a time, in order.
 */
import type { NatsConnection } from "@nats-io/nats-core";
import type { ImportDiagnosis } from "../core/diagnosis.js";
import type { Logger } from "./log.js";
import type { PublishGate, Verdict } from "./publish-gate.js";

export const EVENT_PREFIX = "insights.events.imports";

export interface ImportEvent extends ImportDiagnosis {
  previous_status: ImportDiagnosis["status"] | null;
  previous_cause: ImportDiagnosis["cause"];
}

export class EventPublisher {
  /** key → the final (status, cause) this instance last saw for the import. */
  private readonly seen = new Map<string, Verdict>();
  private queue: Promise<void> = Promise.resolve();

  constructor(
    private readonly nc: NatsConnection,
    private readonly gate: PublishGate,
    private readonly log: Logger,
  ) {}

  /** Queue an event for each import whose verdict differs from the last one seen. */
  offer(entries: Iterable<[string, ImportDiagnosis]>, atStart: boolean): void {
    for (const [key, diagnosis] of entries) {
      const last = this.seen.get(key);
      if (last && last.status === diagnosis.status && last.cause === diagnosis.cause) continue;
      this.seen.set(key, { status: diagnosis.status, cause: diagnosis.cause });
      this.queue = this.queue
        .then(() => this.claimAndPublish(key, diagnosis, atStart))
        .catch((e: Error) => this.log.warn({ account: diagnosis.account, subject: diagnosis.subject, err: e.message }, "could not publish an event"));
    }
  }

  /** Forget these imports: no JWT declares them any more. */
  forget(keys: Iterable<string>): void {
    for (const key of keys) this.seen.delete(key);
  }

  /** Forget every import no JWT declares any more (a full comparison). */
  prune(stillDeclared: (key: string) => boolean): void {
    for (const key of [...this.seen.keys()]) if (!stillDeclared(key)) this.seen.delete(key);
  }

  /** Resolves when every queued event has been published (or given up). */
  drained(): Promise<void> {
    return this.queue;
  }

  private async claimAndPublish(key: string, diagnosis: ImportDiagnosis, atStart: boolean): Promise<void> {
    const claim = await this.gate.claim(key, diagnosis);
    // At start, an import first seen active is no news; every later change is.
    if (!claim || (atStart && claim.previous === null && diagnosis.status === "active") || this.nc.isClosed()) return;
    const previous = claim.previous;
    const event: ImportEvent = { ...diagnosis, previous_status: previous?.status ?? null, previous_cause: previous?.cause ?? null };
    this.nc.publish(`${EVENT_PREFIX}.${event.account}`, JSON.stringify(event));
    this.log.info({ account: event.account, subject: event.subject, status: event.status, cause: event.cause, previous_status: event.previous_status }, "import changed");
  }
}
