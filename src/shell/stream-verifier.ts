/**
 * Verification while the resolver's pack streams in. CLAIMS.PACK sends the account JWTs one
 * message at a time while the server reads its store (at 100,000 accounts for several seconds,
 * with this thread mostly waiting); a worker thread verifies each new JWT, and the activation
 * tokens inside it, as it arrives, and sends back the verdicts. The load that follows decodes
 * those JWTs with them (decodeJwtVerified, exactly as for the accounts a verify-threads.ts worker
 * took) and verifies only the rest: results are those of a load without it, only sooner. At the
 * first load the caller also decodes and files each JWT as its verdicts come back (onVerified;
 * ImportMonitor.stage), a batch at a time: the pack's stall is judged only after the socket has
 * been read (ResolverClient), so that work does not end the pack.
 *
 * An optimisation only: where no worker can start (one core, the compiled worker absent), or if
 * the worker fails, nothing is filed and the load verifies everything itself. What has not come
 * back when the pack ends is left to the load.
 */
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from "node:worker_threads";
import type { AheadVerifier } from "../core/jwt/decode.js";
import { ed25519Verifier, type Ed25519Verifier } from "../core/jwt/ed25519.js";
import { fileVerdicts, verificationWorkers } from "./verify-threads.js";

/** JWTs sent to the worker at a time: fewer messages, yet results come back while the pack streams. */
const BATCH = 128;
/**
 * Batches handed to the worker and not back yet. The rest wait here (the load holds those JWTs
 * anyway): a worker that falls behind does not hold copies of the whole pack.
 */
const IN_FLIGHT = 4;

export interface StreamVerifierInput {
  verifier: Ed25519Verifier;
  port: MessagePort;
}

/** To the worker: a batch of account JWTs. Back: per JWT, the account JWT's verdict then each token's. */
export interface StreamBatch {
  id: number;
  jwts: string[];
}
export interface StreamVerdicts {
  id: number;
  verdicts: Uint8Array[];
}

/** What a caller may do with each account JWT as its verdicts come back (its id, the JWT, the verdicts). */
export type OnVerified = (id: string, jwt: string, verdicts: Uint8Array) => void;

export class StreamVerifier {
  /** JWTs not sent yet (with their account ids), from `head` on. */
  private waiting: string[] = [];
  private waitingIds: string[] = [];
  private head = 0;
  private readonly sent = new Map<number, { jwts: string[]; ids: string[] }>();
  private nextId = 0;
  private stopped = false;
  /**
   * Verdicts back from the worker, by account JWT: its own first, then its tokens'. Not kept where
   * the caller files each JWT as its verdicts come back (onVerified): the load then holds that JWT
   * already, and the map would keep every such text (its key) to the load's end.
   */
  private readonly verdicts = new Map<string, Uint8Array>();
  private verifiedCount = 0;
  /** Started with the first full batch: a resync that brings few new JWTs starts no thread. */
  private thread: { worker: Worker; port: MessagePort } | null = null;

  private constructor(
    private readonly url: URL,
    private readonly onVerified: OnVerified | null,
  ) {}

  /**
   * A verifier, its worker not started yet; null when none could start (or none is wanted).
   * `onVerified` hears each JWT as its verdicts come back (they are kept for stop() all the same).
   */
  static create(onVerified: OnVerified | null = null): StreamVerifier | null {
    if (verificationWorkers() === 0) return null;
    const url = new URL("./stream-verify-worker.js", import.meta.url);
    if (url.protocol !== "file:" || !existsSync(fileURLToPath(url))) return null;
    return new StreamVerifier(url, onVerified);
  }

  /** Account JWTs verified so far. */
  get verified(): number {
    return this.verifiedCount;
  }

  /** An account's JWT as the load will decode it (trimmed). */
  add(id: string, jwt: string): void {
    if (this.stopped) return;
    this.waiting.push(jwt);
    this.waitingIds.push(id);
    this.send();
  }

  /** Stop the worker and take the verdicts that have come back and were not handed to onVerified (the first call has them all). */
  stop(): Map<string, Uint8Array> {
    if (this.stopped) return new Map();
    this.stopped = true;
    const thread = this.thread;
    if (thread) {
      for (let m = receiveMessageOnPort(thread.port); m; m = receiveMessageOnPort(thread.port))
        this.received(m.message as StreamVerdicts);
      thread.port.close();
      void thread.worker.terminate();
    }
    this.sent.clear();
    this.waiting = [];
    this.waitingIds = [];
    return this.verdicts;
  }

  /** Hand the worker full batches while fewer than IN_FLIGHT are out. */
  private send(): void {
    while (!this.stopped && this.sent.size < IN_FLIGHT && this.waiting.length - this.head >= BATCH) {
      const thread = (this.thread ??= this.startThread());
      if (!thread) {
        this.stop();
        return;
      }
      const jwts = this.waiting.slice(this.head, this.head + BATCH);
      const ids = this.waitingIds.slice(this.head, this.head + BATCH);
      this.head += BATCH;
      if (this.head >= this.waiting.length / 2) {
        this.waiting = this.waiting.slice(this.head);
        this.waitingIds = this.waitingIds.slice(this.head);
        this.head = 0;
      }
      const batch: StreamBatch = { id: this.nextId++, jwts };
      this.sent.set(batch.id, { jwts, ids });
      thread.port.postMessage(batch);
    }
  }

  private startThread(): { worker: Worker; port: MessagePort } | null {
    const { port1, port2 } = new MessageChannel();
    try {
      const input: StreamVerifierInput = { verifier: ed25519Verifier(), port: port2 };
      const worker = new Worker(this.url, { workerData: input, transferList: [port2] });
      // A worker that fails only means the load verifies more.
      worker.on("error", () => {});
      worker.unref();
      port1.on("message", (m: StreamVerdicts) => this.received(m));
      port1.unref();
      return { worker, port: port1 };
    } catch {
      port1.close();
      return null;
    }
  }

  /** A batch's verdicts are back: keep them (small), hand the worker more, then tell the caller. */
  private received(m: StreamVerdicts): void {
    const batch = this.sent.get(m.id);
    if (!batch) return;
    this.sent.delete(m.id);
    batch.jwts.forEach((jwt, i) => {
      const verdicts = m.verdicts[i];
      if (!verdicts) return;
      this.verifiedCount++;
      if (!this.onVerified) this.verdicts.set(jwt, verdicts);
    });
    this.send();
    if (this.onVerified)
      batch.jwts.forEach((jwt, i) => {
        const verdicts = m.verdicts[i];
        if (verdicts) this.onVerified!(batch.ids[i]!, jwt, verdicts);
      });
  }
}

/**
 * The load's AheadVerifier with the verdicts found while the pack streamed in: before the i-th JWT
 * is decoded, the load's own threads settle it (claiming it, so that they leave it alone), then a
 * JWT verified in the stream is decoded with its verdicts and never verified again.
 */
export function withStreamed(
  verdicts: Map<string, Uint8Array> | null,
  jwts: readonly string[],
  threads: AheadVerifier | null,
): AheadVerifier | null {
  if (!verdicts || verdicts.size === 0) return threads;
  return {
    settle(i: number): void {
      threads?.settle(i);
      const jwt = jwts[i]!;
      const found = verdicts.get(jwt);
      if (found) fileVerdicts(jwt, found);
    },
    stop(): void {
      threads?.stop();
      verdicts.clear();
    },
    deferred: threads?.deferred ?? null,
  };
}
