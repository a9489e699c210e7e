/**
 * Where the history of imports is kept (src/core/history.ts makes the entries). Alone, a bounded
 * in-memory log. With the state account configured, a JetStream stream there, written once per
 * verdict change across instances (the message id is the publish gate's record of that change,
 * so the stream drops a second writer's copy: docs/decisions.md, "History across instances"), and
 * read back by every instance through an ordered consumer into the same bounded in-memory log, so
 * each instance answers from everything every instance recorded, across restarts.
 */
import type { NatsConnection } from "@nats-io/nats-core";
import {
  DeliverPolicy,
  DiscardPolicy,
  JetStreamApiCodes,
  JetStreamApiError,
  jetstream,
  jetstreamManager,
  RetentionPolicy,
  StorageType,
  type ConsumerMessages,
  type JetStreamClient,
  type StreamConfig,
} from "@nats-io/jetstream";
import type { HistoryEntry } from "../core/history.js";
import type { Logger } from "./log.js";

/** Bounds of what is kept: the oldest entries go first once any is passed. */
export interface HistoryLimits {
  maxEntries: number;
  maxBytes: number;
  maxAgeSeconds: number;
}

export const DEFAULT_HISTORY_LIMITS: HistoryLimits = {
  maxEntries: 50_000,
  maxBytes: 64 * 1024 * 1024,
  maxAgeSeconds: 30 * 86_400,
};
/** The highest each bound may be configured to: every instance holds the whole history in memory. */
export const HISTORY_LIMIT_CAPS: HistoryLimits = {
  maxEntries: 200_000,
  maxBytes: 256 * 1024 * 1024,
  maxAgeSeconds: 365 * 86_400,
};
/** One entry is at most this large (a JWT name is at most 256 bytes here, a subject a few hundred). */
export const MAX_ENTRY_BYTES = 16 * 1024;
/** A second copy of a change (same message id) within this window is dropped by the stream. */
export const DUPLICATE_WINDOW_MS = 2 * 60_000;
/** Stream subjects: `<prefix>.<importer>`. */
export const HISTORY_SUBJECT_PREFIX = "insights.history";

/** What a reply says about how much history is kept, and where. */
export interface Retention {
  kept_in: "stream" | "memory";
  stream: string | null;
  max_entries: number;
  max_bytes: number;
  max_age_seconds: number;
  /** The oldest entry still kept (ISO 8601), null when none is. */
  oldest: string | null;
}

/** The bounded in-memory log: per importer, oldest first; the oldest overall goes first. */
export class HistoryLog {
  private readonly byAccount = new Map<string, { entry: HistoryEntry; bytes: number }[]>();
  /** Every entry's importer, in arrival order: which account's first entry is the oldest overall. */
  private readonly order: string[] = [];
  private head = 0;
  private bytes = 0;

  constructor(readonly limits: HistoryLimits) {}

  get size(): number {
    return this.order.length - this.head;
  }

  get sizeBytes(): number {
    return this.bytes;
  }

  add(entry: HistoryEntry, bytes = Buffer.byteLength(JSON.stringify(entry))): void {
    const list = this.byAccount.get(entry.account);
    if (list) list.push({ entry, bytes });
    else this.byAccount.set(entry.account, [{ entry, bytes }]);
    this.order.push(entry.account);
    this.bytes += bytes;
    while (this.size > this.limits.maxEntries || (this.bytes > this.limits.maxBytes && this.size > 1))
      this.dropOldest();
  }

  /** One importer's entries still within the age bound, oldest first. */
  entries(account: string, nowMs = Date.now()): HistoryEntry[] {
    this.expire(nowMs);
    return (this.byAccount.get(account) ?? []).map((e) => e.entry);
  }

  /** The oldest entry still kept. */
  oldest(nowMs = Date.now()): string | null {
    this.expire(nowMs);
    if (this.size === 0) return null;
    return this.byAccount.get(this.order[this.head]!)![0]!.entry.at;
  }

  private expire(nowMs: number): void {
    const cutoff = nowMs - this.limits.maxAgeSeconds * 1000;
    while (this.size > 0) {
      const first = this.byAccount.get(this.order[this.head]!)![0]!;
      if (Date.parse(first.entry.at) >= cutoff) return;
      this.dropOldest();
    }
  }

  private dropOldest(): void {
    const account = this.order[this.head++]!;
    const list = this.byAccount.get(account)!;
    this.bytes -= list.shift()!.bytes;
    if (list.length === 0) this.byAccount.delete(account);
    // Compact the arrival order now and then rather than shifting it each time.
    if (this.head > 1024 && this.head * 2 > this.order.length) {
      this.order.splice(0, this.head);
      this.head = 0;
    }
  }
}

/** What the history endpoint reads. */
export interface HistoryReader {
  /** One importer's entries, oldest first. */
  entries(account: string): HistoryEntry[];
  retention(): Retention;
}

/** Where the service records entries and answers from. */
export interface HistoryStore extends HistoryReader {
  /**
   * Record a change. `id` names the change itself (the same on every instance that saw it), so a
   * store shared by instances keeps it once. Resolves once recorded (or given up: logged).
   */
  record(entry: HistoryEntry, id: string): Promise<void>;
  close(): Promise<void>;
}

/** Alone: the in-memory log only, lost when the service stops. */
export class MemoryHistory implements HistoryStore {
  private readonly log: HistoryLog;

  constructor(limits: HistoryLimits) {
    this.log = new HistoryLog(limits);
  }

  async record(entry: HistoryEntry): Promise<void> {
    this.log.add(entry);
  }

  entries(account: string): HistoryEntry[] {
    return this.log.entries(account);
  }

  retention(): Retention {
    return retentionOf(this.log, "memory", null);
  }

  async close(): Promise<void> {}
}

function retentionOf(log: HistoryLog, keptIn: Retention["kept_in"], stream: string | null): Retention {
  return {
    kept_in: keptIn,
    stream,
    max_entries: log.limits.maxEntries,
    max_bytes: log.limits.maxBytes,
    max_age_seconds: log.limits.maxAgeSeconds,
    oldest: log.oldest(),
  };
}

/** The stream's configuration for these bounds. */
export function historyStreamConfig(
  name: string,
  limits: HistoryLimits,
  replicas: number,
): Partial<StreamConfig> & { name: string } {
  return {
    name,
    description: "nats-insights: the history of import verdict changes",
    subjects: [`${HISTORY_SUBJECT_PREFIX}.*`],
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    discard: DiscardPolicy.Old,
    num_replicas: replicas,
    max_msgs: limits.maxEntries,
    max_bytes: limits.maxBytes,
    max_age: limits.maxAgeSeconds * 1_000_000_000,
    max_msg_size: MAX_ENTRY_BYTES,
    duplicate_window: DUPLICATE_WINDOW_MS * 1_000_000,
  };
}

/** The ordered consumer replaying the stream at start is waited for at most this long. */
const CATCH_UP_MS = 10_000;

export class StreamHistory implements HistoryStore {
  private readonly log: HistoryLog;
  private messages: ConsumerMessages | null = null;
  private reading: Promise<void> = Promise.resolve();

  private constructor(
    private readonly js: JetStreamClient,
    private readonly stream: string,
    limits: HistoryLimits,
    private readonly logger: Logger,
  ) {
    this.log = new HistoryLog(limits);
  }

  /**
   * Create the stream (or bring an existing one to these bounds), then read it from the start;
   * resolves once what it held at start has been read (or after CATCH_UP_MS).
   */
  static async open(
    nc: NatsConnection,
    stream: string,
    limits: HistoryLimits,
    replicas: number,
    logger: Logger,
  ): Promise<StreamHistory> {
    const jsm = await jetstreamManager(nc);
    const config = historyStreamConfig(stream, limits, replicas);
    const held = await jsm.streams.info(stream).then(
      async (info) => (await jsm.streams.update(stream, { ...info.config, ...config })).state.messages,
      async (e: unknown) => {
        if (!(e instanceof JetStreamApiError && e.code === JetStreamApiCodes.StreamNotFound)) throw e;
        return (await jsm.streams.add(config)).state.messages;
      },
    );
    const history = new StreamHistory(jetstream(nc), stream, limits, logger);
    await history.follow(held);
    return history;
  }

  async record(entry: HistoryEntry, id: string): Promise<void> {
    const body = JSON.stringify(entry);
    try {
      await this.js.publish(`${HISTORY_SUBJECT_PREFIX}.${entry.account}`, body, { msgID: id });
    } catch (e) {
      this.logger.warn(
        { account: entry.account, subject: entry.subject, err: (e as Error).message },
        "could not record a history entry",
      );
    }
  }

  entries(account: string): HistoryEntry[] {
    return this.log.entries(account);
  }

  retention(): Retention {
    return retentionOf(this.log, "stream", this.stream);
  }

  async close(): Promise<void> {
    await this.messages?.close();
    await this.reading;
  }

  /** Read every entry of the stream into the log, and keep reading; resolve once the `held` at start are in. */
  private async follow(held: number): Promise<void> {
    const consumer = await this.js.consumers.get(this.stream, { deliver_policy: DeliverPolicy.All });
    const messages = await consumer.consume();
    this.messages = messages;
    let caughtUp: () => void = () => {};
    const atStart = new Promise<void>((resolve) => (caughtUp = resolve));
    if (held === 0) caughtUp();
    this.reading = (async () => {
      for await (const m of messages) {
        const entry = readEntry(m.data);
        if (entry) this.log.add(entry, m.data.length);
        if (m.info.pending === 0) caughtUp();
      }
    })().catch((e: Error) => this.logger.warn({ err: e.message }, "stopped reading the history stream"));
    const timer = new Promise<void>((resolve) => setTimeout(resolve, CATCH_UP_MS).unref());
    await Promise.race([atStart, timer]);
  }
}

/** An entry as the stream holds it; anything else (written by another tool) is skipped. */
function readEntry(data: Uint8Array): HistoryEntry | null {
  try {
    const value = JSON.parse(new TextDecoder().decode(data)) as Partial<HistoryEntry>;
    const ok =
      typeof value.at === "string" &&
      typeof value.account === "string" &&
      typeof value.subject === "string" &&
      typeof value.status === "string" &&
      value.trigger !== null &&
      typeof value.trigger === "object";
    return ok ? (value as HistoryEntry) : null;
  } catch {
    return null;
  }
}
