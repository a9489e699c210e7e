/**
 * JetStream shared across accounts, measured with real consumers (nats.js @nats-io/jetstream).
 *
 * The exporter owns a stream and three consumers; the importer reaches them only through its
 * imports. Each probe does what an application of the importer does and reports what the server
 * really did, read back from the exporter's side (consumer info), never inferred from a timeout:
 *
 *  - `consumerInfo`: `consumers.get()` (a CONSUMER.INFO request), as clients do before pulling.
 *  - `fetch`: a pull of `batch` messages (CONSUMER.MSG.NEXT) from a consumer made from the info the
 *    exporter gives (so fetch is measured apart from consumer info).
 *  - `ack`: each fetched message acked by the importer with a double ack (an ack with a reply, which
 *    the consumer answers once it applied it); what counts is the exporter's consumer info after:
 *    the messages it still waits an ack for. A double ack that reaches no consumer gets "no
 *    responders" at once, so "not applied" needs no waiting either.
 *  - `push`: a push consumer bound to its deliver subject as the importer sees it; the exporter's
 *    consumer info says whether the server sees that interest (`push_bound`).
 *  - `flowControl`: a push consumer with flow control, sent more than the server lets pend before
 *    the client answers a flow-control request: everything arrives iff the answers reach it.
 */
import {
  jetstream,
  jetstreamManager,
  AckPolicy,
  StorageType,
  type ConsumerInfo,
  type JetStreamClient,
  type JsMsg,
} from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/nats-core";
import type { TestAccount } from "./deployment.js";
import { connectAs, type Reachable } from "./nats-server.js";

/** The server config that turns JetStream on; its store lives in the server's own temp dir. */
export const JETSTREAM_CONFIG = `jetstream: {\n    store_dir: "js"\n    max_mem: 64MB\n    max_file: 256MB\n}\n`;

/** Limits an account JWT needs for JetStream (merged over the default unlimited ones). */
export const JETSTREAM_LIMITS = { mem_storage: -1, disk_storage: -1, streams: -1, consumer: -1 } as const;

/** The stream and consumers the exporter shares. */
export const SHARED = {
  stream: "ORDERS",
  subjects: "orders.>",
  pull: "pull",
  push: "push",
  pushDeliver: "deliver.push",
  flow: "flow",
  flowDeliver: "deliver.flow",
} as const;

/** Ack wait of the shared consumers: an unapplied ack shows as a redelivery after this. */
export const ACK_WAIT_MS = 1_000;

/** Create the shared stream and consumers in the exporter's account, empty. */
export async function createShared(server: Reachable, exporter: TestAccount): Promise<void> {
  const nc = await connectAs(server, exporter);
  try {
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: SHARED.stream, subjects: [SHARED.subjects], storage: StorageType.Memory });
    const ack_wait = ACK_WAIT_MS * 1_000_000;
    await jsm.consumers.add(SHARED.stream, { durable_name: SHARED.pull, ack_policy: AckPolicy.Explicit, ack_wait });
    await jsm.consumers.add(SHARED.stream, {
      durable_name: SHARED.push,
      ack_policy: AckPolicy.Explicit,
      ack_wait,
      deliver_subject: SHARED.pushDeliver,
    });
    await jsm.consumers.add(SHARED.stream, {
      durable_name: SHARED.flow,
      ack_policy: AckPolicy.None,
      deliver_subject: SHARED.flowDeliver,
      flow_control: true,
      idle_heartbeat: 1_000_000_000,
    });
  } finally {
    await nc.close();
  }
}

/** Publish `count` messages of `size` bytes into the shared stream (as the exporter), acknowledged by the stream. */
export async function publishShared(server: Reachable, exporter: TestAccount, count: number, size = 16): Promise<void> {
  const nc = await connectAs(server, exporter);
  try {
    const js = jetstream(nc);
    const body = new Uint8Array(size).fill(120);
    for (let i = 0; i < count; i++) await js.publish(`orders.${i}`, body);
  } finally {
    await nc.close();
  }
}

/** The exporter's view of a consumer. */
export async function exporterConsumerInfo(
  server: Reachable,
  exporter: TestAccount,
  consumer: string,
): Promise<ConsumerInfo> {
  const nc = await connectAs(server, exporter);
  try {
    return await (await jetstreamManager(nc)).consumers.info(SHARED.stream, consumer);
  } finally {
    await nc.close();
  }
}

/** Where the importer reaches the exporter's JetStream API (its imports' local prefix). */
export interface ImporterSide {
  server: Reachable;
  importer: TestAccount;
  exporter: TestAccount;
  /** The importer-side prefix of the exporter's `$JS.API`, e.g. "JS.ORDERS.API". */
  apiPrefix: string;
  /** The deliver subjects of the push consumers as the importer sees them (after its stream imports). */
  pushSubject?: string;
  flowSubject?: string;
}

export interface PullOutcome {
  /** consumers.get() through the imports worked. */
  consumerInfo: boolean;
  /** Messages a fetch of `batch` returned. */
  fetched: number;
  /** Messages the exporter's consumer still waits an ack for, after the importer acked all it got. */
  ackPending: number;
  /** A double ack (ack with a reply) was answered. */
  ackConfirmed: boolean;
  /** What ended the fetch early, if anything (e.g. nats.js's "heartbeats missed"). */
  fetchError: string | null;
}

const js = (nc: NatsConnection, apiPrefix: string): JetStreamClient => jetstream(nc, { apiPrefix, timeout: 2_000 });

/** Fetch `batch` messages from the pull consumer as the importer, ack them, and see what the exporter's consumer applied. */
export async function pullAndAck(side: ImporterSide, batch: number): Promise<PullOutcome> {
  const ci = await exporterConsumerInfo(side.server, side.exporter, SHARED.pull);
  const nc = await connectAs(side.server, side.importer);
  try {
    const client = js(nc, side.apiPrefix);
    const consumerInfo = await client.consumers.get(SHARED.stream, SHARED.pull).then(
      () => true,
      () => false,
    );
    const consumer = client.consumers.getConsumerFromInfo(ci);
    const messages: JsMsg[] = [];
    let fetchError: string | null = null;
    try {
      const iter = await consumer.fetch({ max_messages: batch, expires: 2_000 });
      for await (const m of iter) messages.push(m);
    } catch (e) {
      fetchError = (e as Error).message;
    }
    let ackConfirmed = false;
    for (const m of messages) ackConfirmed = (await m.ackAck({ timeout: 2_000 }).catch(() => false)) || ackConfirmed;
    await nc.flush();
    const ackPending = (await exporterConsumerInfo(side.server, side.exporter, SHARED.pull)).num_ack_pending;
    return { consumerInfo, fetched: messages.length, ackPending, ackConfirmed, fetchError };
  } finally {
    await nc.close();
  }
}

export interface PushOutcome {
  /** The exporter's consumer saw interest on its deliver subject once the importer subscribed. */
  bound: boolean;
  delivered: number;
  /** Messages the exporter's consumer still waits an ack for, after the importer acked all it got. */
  ackPending: number;
}

/**
 * Bind to the push consumer's deliver subject as the importer sees it, receive `expected` messages
 * and ack each. Interest is the server's condition for delivering at all: when the exporter's
 * consumer info says nobody listens (`push_bound` false) after the importer subscribed, nothing
 * can arrive, and no time is waited out.
 */
export async function pushAndAck(side: ImporterSide, expected: number, timeoutMs = 10_000): Promise<PushOutcome> {
  const nc = await connectAs(side.server, side.importer);
  try {
    const consumer = await js(nc, side.apiPrefix).consumers.getBoundPushConsumer({
      deliver_subject: side.pushSubject ?? SHARED.pushDeliver,
    });
    const messages = await consumer.consume();
    await nc.flush();
    const bound = (await exporterConsumerInfo(side.server, side.exporter, SHARED.push)).push_bound === true;
    let delivered = 0;
    if (bound) {
      const timer = setTimeout(() => messages.stop(), timeoutMs);
      for await (const m of messages) {
        delivered++;
        await m.ackAck({ timeout: 2_000 }).catch(() => false);
        if (delivered >= expected) break;
      }
      clearTimeout(timer);
    }
    messages.stop();
    await nc.flush();
    const ackPending = (await exporterConsumerInfo(side.server, side.exporter, SHARED.push)).num_ack_pending;
    return { bound, delivered, ackPending };
  } finally {
    await nc.close();
  }
}

/** Receive from the flow-controlled push consumer until `expected` arrived or nothing came for `idleMs`. */
export async function flowControlled(side: ImporterSide, expected: number, idleMs = 2_500): Promise<number> {
  const nc = await connectAs(side.server, side.importer);
  try {
    const consumer = await js(nc, side.apiPrefix).consumers.getBoundPushConsumer({
      deliver_subject: side.flowSubject ?? SHARED.flowDeliver,
    });
    const messages = await consumer.consume();
    let delivered = 0;
    let timer = setTimeout(() => messages.stop(), idleMs);
    for await (const _ of messages) {
      delivered++;
      clearTimeout(timer);
      if (delivered >= expected) break;
      timer = setTimeout(() => messages.stop(), idleMs);
    }
    clearTimeout(timer);
    return delivered;
  } finally {
    await nc.close();
  }
}
