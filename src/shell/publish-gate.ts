/**
 * Who publishes an event. Every instance computes every change; the gate lets exactly one of them
 * publish it. Alone, an in-memory record of the last published (status, cause) per import; with
 * several instances, a JetStream KV bucket updated by compare-and-set, which also survives restarts.
 */
import { createHash } from "node:crypto";
import type { NatsConnection } from "@nats-io/nats-core";
import { JetStreamApiCodes, JetStreamApiError } from "@nats-io/jetstream";
import { Kvm, type KV } from "@nats-io/kv";
import { sameVerdict, sharedVerdict, type Verdict } from "../core/diagnosis.js";

/**
 * The outcome of a claim. Won: this instance records `next` and publishes the change; `previous`
 * is the verdict published before (null when none ever was). Lost: the record already holds that
 * verdict (another instance published it, or this one did). Either way `change` names the recorded
 * change the same on every instance, and `recordedAtMs` says when it was recorded.
 */
export type Claim =
  | { won: true; previous: Verdict | null; change: string; recordedAtMs: number }
  | { won: false; change: string; recordedAtMs: number };

export interface PublishGate {
  /** Record `next` as published for `key`, unless it already is. */
  claim(key: string, next: Verdict): Promise<Claim>;
  /**
   * Drop the record of `key`: no JWT declares the import any more. Null: there is none (never
   * recorded, or another instance dropped it and published the removal); else the verdict it held
   * and the name of the removal (the same on every instance).
   */
  release(key: string): Promise<{ previous: Verdict; change: string } | null>;
  /** The import keys it holds a record of: what was published, by this instance or an earlier one. */
  recorded(): Promise<string[]>;
}

export class LocalGate implements PublishGate {
  private readonly last = new Map<string, { verdict: Verdict; revision: number; atMs: number }>();
  private revision = 0;

  async claim(key: string, next: Verdict): Promise<Claim> {
    const record = this.last.get(key);
    if (record && sameVerdict(record.verdict, next))
      return { won: false, change: changeName(key, record.revision), recordedAtMs: record.atMs };
    const revision = ++this.revision;
    const atMs = Date.now();
    this.last.set(key, { verdict: sharedVerdict(next), revision, atMs });
    return { won: true, previous: record?.verdict ?? null, change: changeName(key, revision), recordedAtMs: atMs };
  }

  async release(key: string): Promise<{ previous: Verdict; change: string } | null> {
    const record = this.last.get(key);
    if (!record) return null;
    this.last.delete(key);
    return { previous: record.verdict, change: `${changeName(key, record.revision)}.removed` };
  }

  async recorded(): Promise<string[]> {
    return [...this.last.keys()];
  }
}

/** A recorded change's name: the record's key and its revision (unique per change of that record). */
function changeName(importKey: string, revision: number): string {
  return `${kvKey(importKey)}.${revision}`;
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

  async claim(key: string, next: Verdict): Promise<Claim> {
    const k = kvKey(key);
    const value = JSON.stringify({ status: next.status, cause: next.cause, import: key });
    // Compare-and-set: when two instances race, one write wins and the other re-reads.
    let lastError: unknown;
    for (let attempt = 0; attempt < 5; attempt++) {
      const entry = await this.kv.get(k);
      const previous = entry && entry.operation === "PUT" ? entry.json<Verdict>() : null;
      if (entry && sameVerdict(previous, next))
        return { won: false, change: changeName(key, entry.revision), recordedAtMs: entry.created.getTime() };
      try {
        const revision = entry ? await this.kv.update(k, value, entry.revision) : await this.kv.create(k, value);
        return { won: true, previous, change: changeName(key, revision), recordedAtMs: Date.now() };
      } catch (e) {
        if (!lostRace(e)) throw e;
        lastError = e; // another instance wrote first: look again
      }
    }
    throw new Error(`could not record the state of ${k}: ${(lastError as Error).message}`);
  }

  async release(key: string): Promise<{ previous: Verdict; change: string } | null> {
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
    return { previous: entry.json<Verdict>(), change: `${changeName(key, entry.revision)}.removed` };
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
