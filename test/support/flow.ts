/**
 * The oracle: does a message REALLY flow through an import on a real server?
 *
 * Both functions open their own connections (fresh users of the two accounts) and close them
 * before returning. They throw if a connection cannot be made (e.g. the account is unknown to the
 * server) — that is a broken test set-up, not "no flow".
 */
import { RequestError, TimeoutError, nuid, type NatsConnection, type Subscription } from "@nats-io/nats-core";
import type { TestAccount } from "./deployment.js";
import { connectAs, type Reachable } from "./nats-server.js";

/**
 * Where the two sides connect: one server, or (in a cluster) the exporter to one node and the
 * importer to another, so that the flow through the importer's node is what is measured. Across
 * nodes one round proves nothing (interest has to cross the routes first): give a window.
 */
export type FlowPlaces = Reachable | { exporter: Reachable; importer: Reachable };

function placesOf(at: FlowPlaces): { exporter: Reachable; importer: Reachable } {
  return "exporter" in at ? at : { exporter: at, importer: at };
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

async function closeAll(...ncs: (NatsConnection | undefined)[]): Promise<void> {
  await Promise.allSettled(ncs.map((nc) => (nc && !nc.isClosed() ? nc.close() : Promise.resolve())));
}

/**
 * Stream import oracle. The importer subscribes to `subscribeSubject` (its local subject, after
 * any `local_subject` mapping), then the exporter publishes on `publishSubject` — at least once,
 * then every ~50 ms until a message with our marker arrives or `timeoutMs` passes.
 * True iff at least one of the exporter's messages reached the importer.
 *
 * On ONE server the first round is conclusive whatever the load: the subscription (and the
 * shadow subscription an import puts in the exporter's account) is in place once the importer's
 * flush returns, the server routes a published message before it answers the exporter's flush,
 * and it queues the importer's PONG behind anything already routed to it. So `timeoutMs = 0`
 * (one round) decides "no flow" on one server without waiting for time; a window is only for
 * clusters, where interest reaches the other nodes later.
 */
export async function streamFlows(
  at: FlowPlaces,
  exporter: TestAccount,
  importer: TestAccount,
  publishSubject: string,
  subscribeSubject: string,
  timeoutMs = 500,
): Promise<boolean> {
  const marker = `flow-${nuid.next()}`;
  let ncImp: NatsConnection | undefined;
  let ncExp: NatsConnection | undefined;
  let sub: Subscription | undefined;
  try {
    ncImp = await connectAs(placesOf(at).importer, importer);
    ncExp = await connectAs(placesOf(at).exporter, exporter);
    let received = false;
    sub = ncImp.subscribe(subscribeSubject, {
      callback: (err, msg) => {
        if (!err && msg.string() === marker) received = true;
      },
    });
    await ncImp.flush();
    const deadline = Date.now() + timeoutMs;
    do {
      ncExp.publish(publishSubject, marker);
      await ncExp.flush();
      // round-trip on the importer too, so anything already routed to it has been delivered
      await ncImp.flush();
      if (received) break;
      await sleep(Math.min(50, Math.max(0, deadline - Date.now())));
    } while (Date.now() < deadline);
    return received;
  } finally {
    sub?.unsubscribe();
    await closeAll(ncImp, ncExp);
  }
}

/** Longest a single request may take: generous, so a busy machine is not read as "no flow". */
const REQUEST_TIMEOUT_MS = 5_000;

/** nats.js v3: a request answered "no responders" rejects with a RequestError whose cause is a NoRespondersError. */
function isNoResponders(err: unknown): boolean {
  return err instanceof RequestError && err.isNoResponders();
}

/** A request that got no reply in time (nats.js v3: TimeoutError, possibly wrapped in a RequestError). */
function isTimeout(err: unknown): boolean {
  return err instanceof TimeoutError || (err instanceof RequestError && err.cause instanceof TimeoutError);
}

/**
 * Service import oracle. The exporter runs a responder on `exportSubject` (may contain
 * wildcards); the importer requests on `requestSubject` (its local subject). The server answers
 * "no responders" (503) at once when the import is not active (nobody in the importer's account
 * listens on that subject); requests are retried on 503 or on a timeout until `timeoutMs` passes
 * (on one server the first answer is already conclusive; the retries are for clusters, where
 * interest reaches other nodes later). Each request may take REQUEST_TIMEOUT_MS whatever the
 * window, so a slow machine does not turn a reply into "no flow".
 * True iff a reply carrying our marker comes back. Any other error (permissions, a closed
 * connection, a failed connect) is a broken set-up, not "no flow", and is thrown.
 */
export async function serviceFlows(
  at: FlowPlaces,
  exporter: TestAccount,
  importer: TestAccount,
  exportSubject: string,
  requestSubject: string,
  timeoutMs = 500,
): Promise<boolean> {
  const marker = `reply-${nuid.next()}`;
  let ncImp: NatsConnection | undefined;
  let ncExp: NatsConnection | undefined;
  let sub: Subscription | undefined;
  try {
    ncExp = await connectAs(placesOf(at).exporter, exporter);
    ncImp = await connectAs(placesOf(at).importer, importer);
    sub = ncExp.subscribe(exportSubject, {
      callback: (err, msg) => {
        if (!err && msg.reply) msg.respond(marker);
      },
    });
    await ncExp.flush();
    const deadline = Date.now() + timeoutMs;
    do {
      try {
        const reply = await ncImp.request(requestSubject, "ping", { timeout: REQUEST_TIMEOUT_MS });
        if (reply.string() === marker) return true;
        // some other responder answered (should not happen): not our flow; keep trying
      } catch (err) {
        if (!isNoResponders(err) && !isTimeout(err)) throw err;
      }
      await sleep(Math.min(50, Math.max(0, deadline - Date.now())));
    } while (Date.now() < deadline);
    return false;
  } finally {
    sub?.unsubscribe();
    await closeAll(ncImp, ncExp);
  }
}

/**
 * For an import whose exporter cannot connect (so nobody can answer): a request from a fresh user
 * of the importer on `requestSubject`. True iff the server answers "no responders"; a reply (from
 * anyone) is false; any other error is thrown.
 */
export async function serviceRefusedFrom(
  server: Reachable,
  importer: TestAccount,
  requestSubject: string,
): Promise<boolean> {
  const nc = await connectAs(server, importer);
  try {
    await nc.request(requestSubject, "ping", { timeout: REQUEST_TIMEOUT_MS });
    return false;
  } catch (err) {
    if (isNoResponders(err)) return true;
    throw err;
  } finally {
    await closeAll(nc);
  }
}

/**
 * Service oracle for services nats-server answers itself (the system account's): a fresh user of
 * the importer requests on `requestSubject`. True iff any reply comes back; "no responders" (the
 * import is not there) is retried until `timeoutMs` passes, then false. Any other error is thrown.
 */
export async function serviceAnswered(
  server: Reachable,
  importer: TestAccount,
  requestSubject: string,
  timeoutMs = 0,
): Promise<boolean> {
  const nc = await connectAs(server, importer);
  try {
    const deadline = Date.now() + timeoutMs;
    do {
      try {
        await nc.request(requestSubject, "", { timeout: REQUEST_TIMEOUT_MS });
        return true;
      } catch (err) {
        if (!isNoResponders(err) && !isTimeout(err)) throw err;
      }
      await sleep(Math.min(50, Math.max(0, deadline - Date.now())));
    } while (Date.now() < deadline);
    return false;
  } finally {
    await closeAll(nc);
  }
}
