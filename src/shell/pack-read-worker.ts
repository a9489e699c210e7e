/**
 * The worker thread of readPackOnThread (pack-reader.ts): a connection of its own that asks for
 * CLAIMS.PACK and only reads. This thread does nothing else, so it drains the socket as fast as the
 * server writes, whatever the service's thread is doing; the messages go to that thread in chunks
 * (each message's bytes followed by a newline), transferred, not copied. It also judges the
 * stream's end and silences, by the same rules as ResolverClient's stream on the service's thread.
 */
import { workerData } from "node:worker_threads";
import { createInbox, type NatsConnection } from "@nats-io/nats-core";
import { connect } from "@nats-io/transport-node";
import { connectionOptions } from "./connection.js";
import type { PackReadInput, PackReadMessage } from "./pack-reader.js";

const { settings, subject, payload, timeoutMs, silenceMs, port } = workerData as PackReadInput;

/** A chunk goes to the service's thread once it holds this many bytes, or after CHUNK_MS. */
const CHUNK_BYTES = 256 * 1024;
const CHUNK_MS = 20;
/** The least time the connection is given (a new thread on a loaded machine starts slowly). */
const CONNECT_MS = 5_000;

let pending: Uint8Array[] = [];
let pendingBytes = 0;
let chunkTimer: NodeJS.Timeout | undefined;
let flowed = false;
let done = false;
let nc: NatsConnection | null = null;

function post(message: PackReadMessage, transfer: ArrayBuffer[] = []): void {
  port.postMessage(message, transfer);
}

function flush(): void {
  clearTimeout(chunkTimer);
  chunkTimer = undefined;
  if (pending.length === 0) return;
  const chunk = new Uint8Array(pendingBytes + pending.length);
  let at = 0;
  for (const data of pending) {
    chunk.set(data, at);
    at += data.length;
    chunk[at++] = 0x0a;
  }
  pending = [];
  pendingBytes = 0;
  post({ kind: "chunk", bytes: chunk }, [chunk.buffer]);
}

function finish(message: PackReadMessage): void {
  if (done) return;
  done = true;
  clearTimeout(silenceTimer);
  flush();
  post(message);
  void nc?.close().catch(() => {});
}

/** The service no longer wants the pack (it has its end, or the load was abandoned). */
let stopping = false;
function stop(): void {
  if (stopping) return;
  stopping = true;
  done = true;
  clearTimeout(silenceTimer);
  clearTimeout(chunkTimer);
  void nc?.close().catch(() => {});
  port.close();
}
port.on("message", stop);
port.on("close", stop);

let heard = -1;
let started = performance.now();
let silenceTimer: NodeJS.Timeout | undefined;
const limit = () => (heard < 0 ? 2 * timeoutMs : Math.max(timeoutMs, silenceMs));
const watch = () => {
  const left = limit() - (performance.now() - Math.max(heard, started));
  if (left > 0) silenceTimer = setTimeout(watch, left);
  else finish(heard < 0 ? { kind: "silent" } : { kind: "stopped" });
};

try {
  // No reconnect: a pack cut off is a pack that stopped, asked for again by the service. A server
  // that does not take the connection in time (a stopped or swamped server) fails it before the
  // pack flowed: the service then asks on its own connection, by the request's own rules.
  const connectLimit = Math.max(2 * timeoutMs, CONNECT_MS);
  const late = setTimeout(
    () => finish({ kind: "failed", message: "the pack's connection was not made in time", flowed: false }),
    connectLimit,
  );
  nc = await connect({ ...connectionOptions(settings, "nats-insights-pack"), reconnect: false, timeout: connectLimit });
  clearTimeout(late);
  if (done) throw new Error("the pack's connection came too late");
  void nc.closed().then((err) => {
    if (!done) finish({ kind: "failed", message: err?.message ?? "the pack's connection closed", flowed });
  });
  const sub = nc.subscribe(createInbox(), {
    callback: (err, msg) => {
      if (done) return;
      if (err) return finish({ kind: "failed", message: err.message, flowed });
      heard = performance.now();
      if (msg.data.length === 0) {
        sub.unsubscribe();
        return finish(msg.headers?.code === 503 ? { kind: "no-responders" } : { kind: "ended" });
      }
      flowed = true;
      pending.push(msg.data.slice());
      pendingBytes += msg.data.length;
      if (pendingBytes >= CHUNK_BYTES) flush();
      else chunkTimer ??= setTimeout(flush, CHUNK_MS);
    },
  });
  started = performance.now();
  nc.publish(subject, payload, { reply: sub.getSubject() });
  watch();
} catch (e) {
  finish({ kind: "failed", message: (e as Error).message, flowed });
  void nc?.close().catch(() => {});
}
