/**
 * The shared publish gate on a real JetStream server: a compare-and-set lost to another instance is
 * the one error it expects (JetStream's wrong last sequence) and answers by looking again; any
 * other error reaches the caller at once, which logs it.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { NatsConnection } from "@nats-io/nats-core";
import { JetStreamApiError, jetstreamManager } from "@nats-io/jetstream";
import type { Verdict } from "../../src/core/diagnosis.js";
import { KvGate } from "../../src/shell/publish-gate.js";
import { TestOperator } from "../support/deployment.js";
import { connectAs, pushAll, startServer, type RunningServer } from "../support/nats-server.js";
import { toolPath } from "../support/tools.js";

const expired: Verdict = { status: "inactive", cause: "activation_expired" };

describe.skipIf(!toolPath("nats-server"))("the KV publish gate, on a real JetStream server", () => {
  let server: RunningServer;
  let dir: string;
  const conns: NatsConnection[] = [];

  beforeAll(async () => {
    const op = await TestOperator.create();
    dir = mkdtempSync(join(tmpdir(), "insights-gate-"));
    server = await startServer(op, { extraConfig: `jetstream: { store_dir: ${JSON.stringify(join(dir, "js"))} }` });
    const state = await op.account("STATE", {
      limits: { mem_storage: -1, disk_storage: -1, streams: -1, consumer: -1 },
    });
    await pushAll(server, [state]);
    for (let i = 0; i < 2; i++) conns.push(await connectAs(server, state));
  }, 60_000);

  afterAll(async () => {
    for (const nc of conns) await nc.close();
    await server?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("two instances claiming and releasing the same change: exactly one wins each, the other is told it is done", async () => {
    const [a, b] = await Promise.all(conns.map((nc) => KvGate.open(nc, "race", 1)));
    for (let round = 0; round < 5; round++) {
      const key = `ACCOUNT${round}|service|SOURCE|q.${round}`;
      const claims = await Promise.all([a!.claim(key, expired), b!.claim(key, expired)]);
      const won = claims.filter((c) => c.won);
      expect(won.map((c) => c.won && c.previous)).toEqual([null]);
      // Both name the same recorded change: the history keeps it once, whoever records it.
      expect(claims[0].change).toBe(claims[1].change);
      const releases = await Promise.all([a!.release(key), b!.release(key)]);
      expect(
        releases.filter((r) => r !== null).map((r) => ({ status: r.previous.status, cause: r.previous.cause })),
      ).toEqual([expired]);
      expect(releases.filter((r) => r !== null).map((r) => r.change)).toEqual([`${claims[0].change}.removed`]);
    }
  });

  it("a write refused for another reason is the caller's error, not a lost race looked at again", async () => {
    const gate = await KvGate.open(conns[0]!, "small", 1);
    // Values of at most 16 bytes: every record the gate writes is refused for its size.
    const jsm = await jetstreamManager(conns[0]!);
    const info = await jsm.streams.info("KV_small");
    await jsm.streams.update("KV_small", { ...info.config, max_msg_size: 16 });
    const error = await gate.claim("ACCOUNT|service|SOURCE|q", expired).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(JetStreamApiError);
    expect(String(error)).not.toMatch(/could not record/);
  });
});
