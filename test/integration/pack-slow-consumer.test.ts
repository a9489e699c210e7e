/**
 * The resolver's pack is read on a thread and connection of its own (src/shell/pack-reader.ts),
 * so a busy service thread cannot make the server drop the service as a slow consumer mid-pack
 * (docs/decisions.md 38: at 100,000 accounts on the loaded machine the server logged "Slow Consumer
 * Detected: MaxPending of 67108864 Exceeded" after 20,096 JWTs, and the whole pack was lost).
 * Here the real server's max_pending is small and the pack large (~20 MB: more than the kernel's
 * socket buffers hold), and this thread blocks as the first JWTs come in. Read on this thread's own
 * connection, the server drops it (its log says so; the thread stays busy until it does) and the
 * pack stops short; read by the built code's thread while this one is busy twice as long, it comes
 * whole and the server logs no slow consumer. The built code (dist):
 * from the TypeScript sources no thread starts.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { NatsConnection } from "@nats-io/nats-core";
import type * as ResolverModule from "../../src/shell/resolver.js";
import { TestOperator, type TestAccount } from "../support/deployment.js";
import { distModule } from "../support/fresh-dist.js";
import { connectSystem, startServer, type RunningServer } from "../support/nats-server.js";

const TIMEOUT_MS = 1_000;
/** ~33 kB JWTs: ~20 MB in all, far more than max_pending and the socket buffers between. */
const ACCOUNTS = 600;
const EXPORTS = 250;
const MAX_PENDING = 4 * 1024 * 1024;
/** The busy spell of the second test: at least this, and at least twice the first test's. */
const BLOCK_MS = 3_000;
const SLOW_CONSUMER_LIMIT_MS = 30_000;
const SLOW_CONSUMER = /Slow Consumer Detected/;

/** Keep this thread busy, as a long collection or the staging of a large batch does: no socket read. */
function block(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    /* busy */
  }
}

/** Keep this thread busy until `done` (checked between spins) or `limitMs`; returns how long it was. */
function blockUntil(done: () => boolean, limitMs: number): number {
  const start = performance.now();
  while (!done() && performance.now() - start < limitMs) block(20);
  return performance.now() - start;
}

describe("CLAIMS.PACK read while the service's thread is busy (a small max_pending)", () => {
  let resolverModule: typeof ResolverModule;
  let op: TestOperator;
  let server: RunningServer;
  let nc: NatsConnection;
  let accounts: TestAccount[];
  let credsPath: string;
  /** How long this thread was busy in the first test before the server dropped its connection. */
  let busyUntilDropped = 0;

  beforeAll(async () => {
    resolverModule = await distModule<typeof ResolverModule>("src/shell/resolver.js");
    op = await TestOperator.create();
    const exports = Array.from({ length: EXPORTS }, (_, i) => ({
      name: `export-number-${i}`,
      subject: `exported.subject.number.${i}.>`,
      type: "stream" as const,
    }));
    accounts = [];
    for (let n = 0; n < ACCOUNTS; n++) accounts.push(await op.account(`A${n}`, { exports }));
    server = await startServer(op, {
      stored: accounts.map((a) => ({ id: a.id, jwt: a.jwt })),
      extraConfig: `max_pending: ${MAX_PENDING}`,
    });
    credsPath = join(server.dir, "sys.creds");
    writeFileSync(credsPath, await op.system.userCreds());
    nc = await connectSystem(server, op);
  }, 120_000);

  afterAll(async () => {
    await nc?.close();
    await server?.stop();
  });

  const settings = () => ({
    servers: [server.url],
    auth: { kind: "creds" as const, secret: { path: credsPath } },
    tls: null,
    contextFile: null,
  });

  it("on the service's own connection, the server drops it as a slow consumer and the pack stops short", async () => {
    const before = server.logs().length;
    const own = await connectSystem(server, op);
    try {
      const resolver = new resolverModule.ResolverClient(own, TIMEOUT_MS, null);
      let packed = 0;
      const read = resolver.pack(
        () => {},
        () => {
          // Busy (not reading) from the first JWT on, until the server has dropped this connection.
          if (packed++ === 0)
            setImmediate(() => {
              busyUntilDropped = blockUntil(
                () => SLOW_CONSUMER.test(server.logs().slice(before)),
                SLOW_CONSUMER_LIMIT_MS,
              );
            });
        },
      );
      await expect(read).rejects.toThrow();
      expect(packed).toBeLessThan(ACCOUNTS);
      expect(server.logs().slice(before)).toMatch(SLOW_CONSUMER);
    } finally {
      await own.close().catch(() => {});
    }
  }, 60_000);

  it("on a thread of its own, the pack comes whole and the server logs no slow consumer", async () => {
    expect(busyUntilDropped).toBeGreaterThan(0);
    const before = server.logs().length;
    const resolver = new resolverModule.ResolverClient(nc, TIMEOUT_MS, settings());
    const fallbacks: string[] = [];
    const retries: string[] = [];
    let packed = 0;
    const jwts = await resolver.loadAll(
      () => {},
      (why) => fallbacks.push(why),
      () => {
        if (packed++ === 0) block(Math.max(BLOCK_MS, 2 * busyUntilDropped));
      },
      (why) => retries.push(why),
    );
    expect({ retries, fallbacks }).toEqual({ retries: [], fallbacks: [] });
    expect(jwts.size).toBeGreaterThanOrEqual(ACCOUNTS); // and the system account's
    for (const a of accounts) expect(jwts.get(a.id)).toBe(a.jwt);
    // The pack came on the thread's connection, named for it; the service's own was never dropped.
    expect(server.logs().slice(before)).not.toMatch(SLOW_CONSUMER);
    expect(nc.isClosed()).toBe(false);
  }, 60_000);
});
