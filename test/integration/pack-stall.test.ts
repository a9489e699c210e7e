/**
 * The resolver's pack survives a busy thread (src/shell/resolver.ts). CLAIMS.PACK ends when no
 * message has come for the request time-out; a thread busy for longer than that (a long garbage
 * collection, a loaded machine) used to find its stall timer due before it had read the messages
 * that arrived meanwhile (the event loop runs due timers before it polls the socket), end the
 * pack, and fall back to LIST + LOOKUP of every account. Here the thread blocks for three
 * time-outs while the real server keeps streaming: the pack must still be read whole, without a
 * fallback. And the server itself may pause (a collection, a loaded machine; here it is stopped
 * with SIGSTOP): a pack that has flowed is waited for far longer than one request (PACK_SILENCE_MS),
 * and a LIST nobody answers in time is asked again rather than ending the load.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { NatsConnection } from "@nats-io/nats-core";
import { PACK_SILENCE_MS, ResolverClient } from "../../src/shell/resolver.js";
import { TestOperator, type TestAccount } from "../support/deployment.js";
import { connectSystem, startServer, type RunningServer } from "../support/nats-server.js";

const TIMEOUT_MS = 300;
/** Enough JWTs (~1 MB) that the pack takes many socket reads: most of it is unread when the thread blocks. */
const ACCOUNTS = 300;
const EXPORTS = 20;

/** Keep this thread busy, as a long collection does: no timer, no socket read. */
function block(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    /* busy */
  }
}

/** Stop the server's process for `ms` (it neither reads nor writes), then let it go on; resolves when it goes on. */
function pause(server: RunningServer, ms: number): Promise<void> {
  process.kill(server.pid, "SIGSTOP");
  return new Promise((resolve) =>
    setTimeout(() => {
      process.kill(server.pid, "SIGCONT");
      resolve();
    }, ms),
  );
}

describe("CLAIMS.PACK read by a thread that stalls", () => {
  let server: RunningServer;
  let nc: NatsConnection;
  let accounts: TestAccount[];

  beforeAll(async () => {
    const op = await TestOperator.create();
    accounts = [];
    const exports = Array.from({ length: EXPORTS }, (_, i) => ({
      name: `e${i}`,
      subject: `e.${i}.>`,
      type: "stream" as const,
    }));
    for (let n = 0; n < ACCOUNTS; n++) accounts.push(await op.account(`A${n}`, { exports }));
    server = await startServer(op, { stored: accounts.map((a) => ({ id: a.id, jwt: a.jwt })) });
    nc = await connectSystem(server, op);
  });

  afterAll(async () => {
    await nc?.close();
    await server?.stop();
  });

  it("reads every JWT of a pack during which the thread was blocked for longer than the time-out", async () => {
    const resolver = new ResolverClient(nc, TIMEOUT_MS);
    const fallbacks: string[] = [];
    let packed = 0;
    const jwts = await resolver.loadAll(
      () => {},
      (why) => fallbacks.push(why),
      () => {
        // After the first JWT's socket read, work that blocks (as a collection or a deferred job
        // does): the rest of the pack arrives meanwhile, unread, and the stall timer comes due.
        if (packed++ === 0) setImmediate(() => block(3 * TIMEOUT_MS));
      },
    );
    expect(fallbacks).toEqual([]);
    expect(packed).toBeGreaterThanOrEqual(ACCOUNTS);
    for (const a of accounts) expect(jwts.get(a.id)).toBe(a.jwt);
  });

  it("reads every JWT of a pack during which the server paused for longer than the time-out", async () => {
    expect(PACK_SILENCE_MS).toBeGreaterThan(3 * TIMEOUT_MS);
    const resolver = new ResolverClient(nc, TIMEOUT_MS);
    const fallbacks: string[] = [];
    let packed = 0;
    const pausing: { resumed: Promise<void> | null } = { resumed: null };
    const jwts = await resolver.loadAll(
      () => {},
      (why) => fallbacks.push(why),
      () => {
        // The server stops once its stream has started, with most of the pack unsent.
        if (packed++ === 0) pausing.resumed = pause(server, 3 * TIMEOUT_MS);
      },
    );
    expect(pausing.resumed).not.toBeNull();
    await pausing.resumed;
    expect(fallbacks).toEqual([]);
    expect(packed).toBe(jwts.size);
    for (const a of accounts) expect(jwts.get(a.id)).toBe(a.jwt);
  });

  it("asks CLAIMS.LIST again while the server does not answer, and logs each retry", async () => {
    const resolver = new ResolverClient(nc, TIMEOUT_MS);
    const retries: number[] = [];
    const resumed = pause(server, 4 * TIMEOUT_MS);
    const ids = await resolver.list((_why, delayMs) => retries.push(delayMs));
    await resumed;
    expect(retries.length).toBeGreaterThanOrEqual(1);
    expect(ids).toEqual(expect.arrayContaining(accounts.map((a) => a.id)));
  });
});
