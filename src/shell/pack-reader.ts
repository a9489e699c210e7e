/**
 * CLAIMS.PACK read on a thread of its own, with a connection of its own (docs/decisions.md 38).
 * The server writes the pack (~330 MB at 100,000 accounts) as fast as it walks its store, with no
 * flow control; a reader that falls behind lets the server's buffer for its connection fill, and
 * past max_pending (64 MB by default) the server drops it as a slow consumer, and the whole pack is
 * lost. On the service's thread a long collection or the staging of what came already was enough
 * for that on a loaded machine. The worker (pack-read-worker.ts) only reads, so the socket stays
 * drained; what the service's thread has not taken yet waits in the worker's message queue (the
 * load keeps every JWT anyway).
 *
 * Null where no worker can start (the compiled worker absent: the TypeScript sources under a test
 * runner) or it cannot connect before the pack flowed: the caller then reads the pack on its own
 * connection, as before.
 */
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { MessageChannel, Worker, type MessagePort } from "node:worker_threads";
import type { ConnectionSettings } from "./connection.js";

export interface PackReadInput {
  settings: ConnectionSettings;
  subject: string;
  payload: string;
  timeoutMs: number;
  silenceMs: number;
  port: MessagePort;
}

/** From the worker: chunks of messages (each followed by a newline), then one outcome. */
export type PackReadMessage =
  | { kind: "chunk"; bytes: Uint8Array }
  | { kind: "ended" }
  | { kind: "silent" }
  | { kind: "stopped" }
  | { kind: "no-responders" }
  | { kind: "failed"; message: string; flowed: boolean };

export type PackOutcome = "ended" | "silent" | "stopped" | "no-responders";

/** Whether a thread may read the pack here (the compiled worker is present). */
export function packThreadAvailable(): boolean {
  return existsSync(fileURLToPath(workerUrl()));
}

function workerUrl(): URL {
  return new URL("./pack-read-worker.js", import.meta.url);
}

/**
 * Ask for `subject` on a connection of a worker thread and hand each chunk of messages to `onText`
 * (the messages' text, one a line) on this thread, in order. Resolves with how the stream ended
 * (by ResolverClient's rules: silent, stopped, ended), or null when the worker failed before the
 * stream flowed (read it here instead; one that fails after it flowed: stopped). `onText` throwing
 * ends the read with that error.
 */
export function readPackOnThread(
  input: Omit<PackReadInput, "port">,
  onText: (text: string) => void,
): Promise<PackOutcome | null> {
  return new Promise((resolve, reject) => {
    const { port1, port2 } = new MessageChannel();
    let worker: Worker;
    try {
      const data: PackReadInput = { ...input, port: port2 };
      worker = new Worker(workerUrl(), { workerData: data, transferList: [port2] });
    } catch {
      port1.close();
      resolve(null);
      return;
    }
    let done = false;
    const decoder = new TextDecoder();
    const end = (outcome: PackOutcome | null | Error) => {
      if (done) return;
      done = true;
      port1.postMessage("stop");
      port1.close();
      // The worker closes its connection on "stop"; a worker that does not is ended.
      setTimeout(() => void worker.terminate(), 1_000).unref();
      if (outcome instanceof Error) reject(outcome);
      else resolve(outcome);
    };
    let flowed = false;
    // A thread that fails is the thread's problem, not the server's: before the pack flowed it is
    // read here instead; after, it stopped short and is asked for again.
    const failed = () => end(flowed ? "stopped" : null);
    worker.on("error", failed);
    worker.on("exit", failed);
    port1.on("message", (m: PackReadMessage) => {
      if (done) return;
      if (m.kind !== "chunk") return end(m.kind === "failed" ? (m.flowed ? "stopped" : null) : m.kind);
      flowed = true;
      try {
        onText(decoder.decode(m.bytes));
      } catch (e) {
        end(e as Error);
      }
    });
  });
}
