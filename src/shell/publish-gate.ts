/**
 * Who publishes an event. Every instance computes every change; the gate lets exactly one of them
 * publish it. Alone, an in-memory record of the last published (status, cause) per import; with
 * several instances, a JetStream KV bucket updated by compare-and-set, which also survives restarts.
 */
import { createHash } from "node:crypto";
import type { NatsConnection } from "@nats-io/nats-core";
import { JetStreamApiCodes, JetStreamApiError } from "@nats-io/jetstream";
import { Kvm, type KV } from "@nats-io/kv";
import { sameVerdict, type Verdict } from "../core/diagnosis.js";

export interface PublishGate {
  /**
   * Record `next` as published for `key`. Null: it already is (another instance published it);
   * else the verdict published before (null when none ever was).
   */
  claim(key: string, next: Verdict): Promise<{ previous: Verdict | null } | null>;
  /**
   * Drop the record of `key`: no JWT declares the import any more. Null: there is none (never
   * recorded, or another instance dropped it and published the removal); else the verdict it held.
   */
  release(key: string): Promise<{ previous: Verdict } | null>;
  /** The import keys it holds a record of: what was published, by this instance or an earlier one. */
  recorded(): Promise<string[]>;
}

export class LocalGate implements PublishGate {
  private readonly last = new Map<string, Verdict>();

  async claim(key: string, next: Verdict): Promise<{ previous: Verdict | null } | null> {
    const previous = this.last.get(key) ?? null;
    if (sameVerdict(previous, next)) return null;
    this.last.set(key, next);
    return { previous };
  }

  async release(key: string): Promise<{ previous: Verdict } | null> {
    const previous = this.last.get(key);
    if (!previous) return null;
    this.last.delete(key);
    return { previous };
  }

  async recorded(): Promise<string[]> {
    return [...this.last.keys()];
  }
}

/** KV keys allow [-/_=.a-zA-Z0-9]: the importer's key, then a digest of the import's identity. */
export function kvKey(importKey: string): string {
  const account = importKey.split("|")[0] ?? "unknown";
  return `${account}.${createHash("sha256").update(importKey).digest("hex").slice(0, 40)}`;
}

/** A compare-and-set that failed because the key moved on since it was read (JetStream's wrong last sequence). */
function lostRace(e: unknown): boolean {
  return (
    e instanceof JetStreamApiError &&
    (e.code === JetStreamApiCodes.StreamWrongLastSequence ||
      e.code === JetStreamApiCodes.StreamWrongLastSequenceUnknown)
  );
}

export class KvGate implements PublishGate {
  private constructor(private readonly kv: KV) {}

  static async open(nc: NatsConnection, bucket: string, replicas: number): Promise<KvGate> {
    return new KvGate(await new Kvm(nc).create(bucket, { history: 1, replicas }));
  }

  async claim(key: string, next: Verdict): Promise<{ previous: Verdict | null } | null> {
    const k = kvKey(key);
    const value = JSON.stringify({ status: next.status, cause: next.cause, import: key });
    // Compare-and-set: when two instances race, one write wins and the other re-reads.
    let lastError: unknown;
    for (let attempt = 0; attempt < 5; attempt++) {
      const entry = await this.kv.get(k);
      const previous = entry && entry.operation === "PUT" ? entry.json<Verdict>() : null;
      if (sameVerdict(previous, next)) return null;
      try {
        if (entry) await this.kv.update(k, value, entry.revision);
        else await this.kv.create(k, value);
        return { previous };
      } catch (e) {
        if (!lostRace(e)) throw e;
        lastError = e; // another instance wrote first: look again
      }
    }
    throw new Error(`could not record the state of ${k}: ${(lastError as Error).message}`);
  }

  async release(key: string): Promise<{ previous: Verdict } | null> {
    const k = kvKey(key);
    const entry = await this.kv.get(k);
    if (!entry || entry.operation !== "PUT") return null;
    try {
      // Only the instance whose delete follows the revision it read publishes the removal.
      await this.kv.delete(k, { previousSeq: entry.revision });
    } catch (e) {
      if (lostRace(e)) return null; // another instance changed or dropped it first
      throw e;
    }
    return { previous: entry.json<Verdict>() };
  }

  async recorded(): Promise<string[]> {
    const keys: string[] = [];
    // The bucket keeps one revision per key: its history is every key's last operation, then it ends.
    for await (const entry of await this.kv.history()) {
      if (entry.operation !== "PUT") continue;
      const value = entry.json<{ import?: unknown }>();
      if (typeof value.import === "string") keys.push(value.import);
    }
    return keys;
  }
}
