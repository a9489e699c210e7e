/**
 * The oracle: does a message REALLY flow through an import on a real server?
 *
 * Both functions open their own connections (fresh users of the two accounts) and close them
 * before returning. They throw if a connection cannot be made (e.g. the account is unknown to the
 * server) — that is a broken test set-up, not "no flow".
 */
import { nuid, type NatsConnection, type Subscription } from "@nats-io/nats-core";
import type { TestAccount } from "./deployment.js";
import { connectAs, type RunningServer } from "./nats-server.js";

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

async function closeAll(...ncs: (NatsConnection | undefined)[]): Promise<void> {
  await Promise.allSettled(ncs.map((nc) => (nc && !nc.isClosed() ? nc.close() : Promise.resolve())));
}

/**
 * Stream import oracle. The importer subscribes to `subscribeSubject` (its local subject, after
 * any `local_subject` mapping), then the exporter publishes on `publishSubject` — repeatedly,
 * every ~50 ms, until a message with our marker arrives or `timeoutMs` passes.
 * True iff at least one of the exporter's messages reached the importer.
 */
export async function streamFlows(
  server: RunningServer,
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
    ncImp = await connectAs(server, importer);
    ncExp = await connectAs(server, exporter);
    let received = false;
    sub = ncImp.subscribe(subscribeSubject, {
      callback: (err, msg) => {
        if (!err && msg.string() === marker) received = true;
      },
    });
    await ncImp.flush();
    const deadline = Date.now() + timeoutMs;
    while (!received && Date.now() < deadline) {
      ncExp.publish(publishSubject, marker);
      await ncExp.flush();
      // round-trip on the importer too, so anything already routed to it has been delivered
      await ncImp.flush();
      if (received) break;
      await sleep(Math.min(50, Math.max(0, deadline - Date.now())));
    }
    return received;
  } finally {
    sub?.unsubscribe();
    await closeAll(ncImp, ncExp);
  }
}

/**
 * Service import oracle. The exporter runs a responder on `exportSubject` (may contain
 * wildcards); the importer requests on `requestSubject` (its local subject). Requests are retried
 * while the server answers "no responders" (503 — the usual answer when the import is not active,
 * as nobody in the importer's account listens on that subject) until `timeoutMs` passes.
 * True iff a reply carrying our marker comes back. A timeout or no-responders means false.
 */
export async function serviceFlows(
  server: RunningServer,
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
    ncExp = await connectAs(server, exporter);
    ncImp = await connectAs(server, importer);
    sub = ncExp.subscribe(exportSubject, {
      callback: (err, msg) => {
        if (!err && msg.reply) msg.respond(marker);
      },
    });
    await ncExp.flush();
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const remaining = Math.max(1, deadline - Date.now());
      try {
        const reply = await ncImp.request(requestSubject, "ping", { timeout: remaining });
        if (reply.string() === marker) return true;
        // some other responder answered (should not happen): not our flow; keep trying
      } catch (err) {
        // nats.js v3: no responders → RequestError whose cause is NoRespondersError
        // (err.isNoResponders()); timeout → TimeoutError. Anything else (permissions, closed
        // connection, ...) is also "no flow", but keep retrying until the deadline only on 503.
        const isNoResponders =
          typeof (err as { isNoResponders?: () => boolean }).isNoResponders === "function" &&
          (err as { isNoResponders: () => boolean }).isNoResponders();
        if (!isNoResponders) return false;
        await sleep(Math.min(50, Math.max(0, deadline - Date.now())));
      }
    }
    return false;
  } finally {
    sub?.unsubscribe();
    await closeAll(ncImp, ncExp);
  }
}
