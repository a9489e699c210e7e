/**
 * "Nothing more will come" without waiting out a window of time. A live service instance has
 * said all it will say about what it heard so far once `settled()` resolves (every push confirmed,
 * every event it decided on published on its own connection, or found published by another
 * instance). NATS keeps the order of one connection's messages to each subscriber, across routes
 * too, so a marker the instance's connection publishes after that arrives after every event it
 * published before: once a collector has the marker, it has every event.
 */
import { nuid, type NatsConnection } from "@nats-io/nats-core";

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** What the test needs of a live instance: its settling and its own connection. */
export interface Instance {
  readonly nc: NatsConnection;
  settled(): Promise<void>;
}

/**
 * Resolves once `collector` has received everything `instance` published up to its settling.
 */
export async function caughtUp(instance: Instance, collector: NatsConnection, timeoutMs = 10_000): Promise<void> {
  await instance.settled();
  await markerThrough(instance.nc, collector, timeoutMs);
}

/**
 * Resolves once `collector` has received everything `nc` published before the call. The marker is
 * sent again until it arrives: in a cluster the publisher's server learns of the collector's
 * subscription over a route a little after the collector's own server does.
 */
export async function markerThrough(nc: NatsConnection, collector: NatsConnection, timeoutMs = 10_000): Promise<void> {
  const subject = `test.caught-up.${nuid.next()}`;
  const sub = collector.subscribe(subject, { max: 1 });
  await collector.flush();
  let arrived = false;
  const done = (async () => {
    for await (const _ of sub) arrived = true;
  })();
  const deadline = Date.now() + timeoutMs;
  while (!arrived) {
    if (Date.now() > deadline) {
      sub.unsubscribe();
      throw new Error(`the marker from ${nc.getServer()} did not reach the collector within ${timeoutMs} ms`);
    }
    nc.publish(subject);
    await nc.flush();
    await Promise.race([done, sleep(50)]);
  }
}

/** `caughtUp` for every instance, one after another. */
export async function allCaughtUp(
  instances: readonly Instance[],
  collector: NatsConnection,
  timeoutMs?: number,
): Promise<void> {
  for (const instance of instances) await caughtUp(instance, collector, timeoutMs);
}
