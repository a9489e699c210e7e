/**
 * What a source account deleted with `$SYS.REQ.CLAIMS.DELETE` still carries, measured. B exports
 * its own stream and service and re-exports a stream and a service it imports from C; A imports
 * all four from B. After the delete the server disables B (its limits go to zero, its clients are
 * disconnected, a new user of it is refused with "Authorization Violation", its service imports'
 * subscriptions are removed, JetStream is disabled) but leaves A's imports registered and valid in
 * A's account view. Nothing crosses: no user of B can connect to send or answer, and the service B
 * passes on from C is cut (stream imports are never chained, even before the delete). Pushing B's
 * same JWT again changes nothing (the server still holds B, disabled, with those very claims, and
 * skips "same claims"); a re-signed JWT of B revives every import of it, A untouched.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { NatsConnection } from "@nats-io/nats-core";
import { startCluster, type Cluster } from "../support/cluster.js";
import { TestOperator, signClaims, type TestAccount } from "../support/deployment.js";
import { serviceFlows, streamFlows } from "../support/flow.js";
import { toolPath } from "../support/tools.js";

describe.skipIf(!toolPath("nats-server"))("a source account deleted after its importer was loaded", () => {
  let op: TestOperator;
  let cluster: Cluster;
  let a: TestAccount, b: TestAccount, c: TestAccount;
  let bClient: NatsConnection;
  let aClient: NatsConnection;
  const at = () => ({ url: cluster.url(0) });

  beforeAll(async () => {
    op = await TestOperator.create();
    [a, b, c] = [await op.account("A"), await op.account("B"), await op.account("C")];
    await c.reissue({
      exports: [
        { subject: "c.>", type: "stream" },
        { subject: "cs.>", type: "service" },
      ],
    });
    await b.reissue({
      exports: [
        { subject: "b.>", type: "stream" },
        { subject: "bs.>", type: "service" },
        { subject: "c.>", type: "stream" },
        { subject: "cs.>", type: "service" },
      ],
      imports: [
        { account: c.id, subject: "c.>", type: "stream" },
        { account: c.id, subject: "cs.>", type: "service" },
      ],
    });
    await a.reissue({
      imports: [
        { account: b.id, subject: "b.>", type: "stream" },
        { account: b.id, subject: "bs.>", type: "service" },
        { account: b.id, subject: "c.>", type: "stream" },
        { account: b.id, subject: "cs.>", type: "service" },
      ],
    });
    cluster = await startCluster(op, { nodes: 1, debug: false, allowDelete: true });
    await cluster.pushAll(0, [c, b, a]);
    aClient = await cluster.connect(0, a);
    bClient = await cluster.connect(0, b);
    // Before the delete, everything flows.
    expect(await streamFlows(at(), b, a, "b.x", "b.x", 0)).toBe(true);
    expect(await serviceFlows(at(), b, a, "bs.x", "bs.x", 0)).toBe(true);
    // nats-server does not chain stream imports (A's interest in B is not passed on to C), service imports it does.
    expect(await streamFlows(at(), c, a, "c.x", "c.x", 0)).toBe(false);
    expect(await serviceFlows(at(), c, a, "cs.x", "cs.x", 0)).toBe(true);

    const request = await signClaims({ sub: op.id, nats: { type: "generic", version: 2, accounts: [b.id] } }, op.key);
    const sys = await cluster.connect(0);
    try {
      const reply = (await sys.request("$SYS.REQ.CLAIMS.DELETE", request, { timeout: 10_000 })).json<{
        data?: unknown;
      }>();
      expect(reply.data).toBeTruthy();
    } finally {
      await sys.close();
    }
  }, 60_000);

  afterAll(async () => {
    for (const nc of [aClient, bClient]) await nc?.close().catch(() => undefined);
    await cluster?.stopAll();
  });

  it("disconnects B's clients and refuses its users with Authorization Violation", async () => {
    const closed = await bClient.closed();
    expect(bClient.isClosed()).toBe(true);
    expect(String(closed)).toMatch(/Authorization Violation|authentication expired|expired/i);
    await expect(cluster.connect(0, b)).rejects.toThrow(/^Authorization Violation$/);
  });

  it("keeps A's imports from B registered and valid in A's account view", async () => {
    const body = (await (await fetch(`${cluster.servers[0]!.monitorUrl}/accountz?acc=${a.id}`)).json()) as {
      account_detail?: { imports?: { account?: string; subject?: string; invalid?: boolean }[] };
    };
    const fromB = (body.account_detail?.imports ?? []).filter((i) => i.account === b.id);
    expect(fromB.map((i) => `${i.subject} ${i.invalid ? "invalid" : "valid"}`).sort()).toEqual([
      "b.> valid",
      "bs.> valid",
      "c.> valid",
      "cs.> valid",
    ]);
  });

  it("carries nothing: no user of B can send, and the service B passes on from C is cut", async () => {
    // A's own connection is untouched.
    expect(aClient.isClosed()).toBe(false);
    expect(await serviceFlows(at(), c, a, "cs.x", "cs.x", 0)).toBe(false);
  });

  it("pushing B's same JWT again does not revive it; a re-signed one does, without touching A", async () => {
    expect((await cluster.push(0, b.jwt)).ok).toBe(true);
    expect(cluster.storedJwt(0, b.id)).toBe(b.jwt);
    // The server still holds B (disabled) with that very JWT: "same claims", nothing is applied.
    // Past the server's 1 s guard against refetching too soon, a user of B is still refused.
    const until = Date.now() + 2_500;
    let refusals = 0;
    while (Date.now() < until) {
      await expect(cluster.connect(0, b)).rejects.toThrow(/^Authorization Violation$/);
      refusals++;
      await new Promise((r) => setTimeout(r, 250));
    }
    expect(refusals).toBeGreaterThan(1);
    await b.reissue();
    expect((await cluster.push(0, b.jwt)).ok).toBe(true);
    expect(await streamFlows(at(), b, a, "b.y", "b.y", 0)).toBe(true);
    expect(await serviceFlows(at(), b, a, "bs.y", "bs.y", 0)).toBe(true);
    expect(await serviceFlows(at(), c, a, "cs.y", "cs.y", 0)).toBe(true);
  }, 30_000);
});
