/**
 * The cluster harness itself (test/support/cluster.ts): 3 real nodes with full resolvers and
 * JetStream form a cluster, a push reaches every node's store, a killed node restarts on its ports
 * with its data, JetStream works for an account granted limits, and stopAll leaves nothing behind.
 */
import { existsSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { JetStreamApiCodes, JetStreamApiError, jetstreamManager, type JetStreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/nats-core";
import { TestOperator, type TestAccount } from "../support/deployment.js";
import { startCluster, type Cluster } from "../support/cluster.js";
import { toolPath } from "../support/tools.js";
import { harnessKind } from "../support/server-process.js";

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/**
 * The account's JetStream, once the node has enabled it: a node enables it for an account it has
 * just loaded while the client's first request may already be on its way (seen once in a clean-clone CI run, with the containers harness).
 */
async function jetstreamOnceEnabled(nc: NatsConnection): Promise<JetStreamManager> {
  for (const deadline = Date.now() + 10_000; ; await new Promise((r) => setTimeout(r, 100))) {
    try {
      return await jetstreamManager(nc);
    } catch (e) {
      const api = (e as Error).cause;
      const notYet = api instanceof JetStreamApiError && api.code === JetStreamApiCodes.JetStreamNotEnabledForAccount;
      if (!notYet || Date.now() > deadline) throw e;
    }
  }
}

describe.skipIf(!toolPath("nats-server"))(
  `cluster harness: 3 nodes, full resolvers, JetStream (${harnessKind} harness)`,
  () => {
    let op: TestOperator;
    let cluster: Cluster;
    let app: TestAccount;

    beforeAll(async () => {
      op = await TestOperator.create({ signingKey: true });
      app = await op.account("APP", { limits: { mem_storage: -1, disk_storage: -1, streams: -1, consumer: -1 } });
      cluster = await startCluster(op, { nodes: 3, jetstream: true });
    }, 60_000);

    afterAll(async () => {
      await cluster?.stopAll();
    });

    it("forms a cluster on fixed ports; a push to one node is stored by all", async () => {
      expect(new Set(cluster.servers.map((s) => s.port)).size).toBe(3);
      expect(cluster.urls).toEqual(cluster.servers.map((s) => `nats://127.0.0.1:${s.port}`));
      const routez = (await (await fetch(`${cluster.servers[0]!.monitorUrl}/routez`)).json()) as { num_routes: number };
      expect(routez.num_routes).toBeGreaterThanOrEqual(2);
      expect((await cluster.push(1, app.jwt)).ok).toBe(true);
      const deadline = Date.now() + 10_000;
      while (Date.now() < deadline && [0, 1, 2].some((i) => cluster.storedJwt(i, app.id) !== app.jwt))
        await new Promise((r) => setTimeout(r, 50));
      expect([0, 1, 2].map((i) => cluster.storedJwt(i, app.id) === app.jwt)).toEqual([true, true, true]);
    });

    it("JetStream works for an account whose JWT grants JetStream limits", async () => {
      const nc = await cluster.connect(2, app);
      try {
        const jsm = await jetstreamOnceEnabled(nc);
        const si = await jsm.streams.add({ name: "S", subjects: ["s.>"], num_replicas: 3 });
        expect(si.config.num_replicas).toBe(3);
      } finally {
        await nc.close();
      }
    });

    it("a killed node restarts on the same ports with its data, and rejoins", async () => {
      const before = cluster.servers[0]!;
      const { port, pid } = before;
      await cluster.kill(0);
      expect(before.running).toBe(false);
      expect(alive(pid!)).toBe(false);
      expect(cluster.indexOf(`127.0.0.1:${port}`)).toBe(0);
      await cluster.start(0);
      expect(cluster.servers[0]!.port).toBe(port);
      expect(cluster.servers[0]!.pid).not.toBe(pid);
      expect(cluster.storedJwt(0, app.id)).toBe(app.jwt);
      // Waits for the condition (every node sees every node; the meta leader sees every peer current).
      // The bound only catches a cluster that never forms: a killed meta leader costs an election
      // first, and the server's election timeout alone is 4-9 s.
      await cluster.waitForCluster(45_000);
      const nc = await cluster.connect(0, app);
      await nc.close();
    }, 60_000);

    it("a stopped node serves a JWT written into its store while it was down", async () => {
      await cluster.stop(2);
      const jwt = await app.reissue({ exports: [{ name: "x", subject: "x.>", type: "stream" }] });
      cluster.writeJwt(2, app.id, jwt);
      expect(() => cluster.writeJwt(0, app.id, jwt)).toThrow(/running/);
      await cluster.start(2);
      const sys = await cluster.connect(2);
      try {
        // Every node answers a LOOKUP; node 2's answer is the new JWT. Read until it comes or every
        // node has answered, not for a fixed window: a restarted node may answer late under load.
        const replies = await sys.requestMany(`$SYS.REQ.ACCOUNT.${app.id}.CLAIMS.LOOKUP`, "", {
          strategy: "count",
          maxMessages: 3,
          maxWait: 10_000,
        });
        const answers: string[] = [];
        for await (const m of replies) {
          answers.push(m.string());
          if (m.string() === jwt) break;
        }
        expect(answers).toContain(jwt);
      } finally {
        await sys.close();
      }
    }, 30_000);

    it("stopAll kills every node and removes every temp dir", async () => {
      const pids = cluster.servers.map((s) => s.pid).filter((p): p is number => p !== null);
      const dirs = cluster.servers.map((s) => s.dir);
      cluster.pause(1);
      await cluster.stopAll();
      expect(pids.filter(alive)).toEqual([]);
      expect(dirs.filter((d) => existsSync(d))).toEqual([]);
    });
  },
);
