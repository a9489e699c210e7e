/**
 * A memory resolver (`resolver: MEMORY`, preloaded accounts) on a real 3-node cluster: the service
 * and `check --server` against flow measured with clients on every node, and what a pushed JWT
 * does to such a cluster.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { NatsConnection } from "@nats-io/nats-core";
import { InsightsApp } from "../../src/app.js";
import type { ImportDiagnosis } from "../../src/core/index.js";
import { isNoResponders } from "../../src/shell/resolver.js";
import { TestOperator, type TestAccount } from "../support/deployment.js";
import { startCluster, type Cluster } from "../support/cluster.js";
import { ensureFreshDist, runMain } from "../support/dist.js";
import { serviceFlows } from "../support/flow.js";
import { expectedFor, importUnderTest, judge, mapLimit, type Verdict } from "../support/judge.js";
import { SCENARIOS, scenarioOn, type Built } from "../support/scenarios.js";
import { harnessKind } from "../support/server-process.js";
import { pinnedServers, toolPath } from "../support/tools.js";
import { checkReply, checkUntil, startService, stopStarted, type CheckReply } from "../support/live-service.js";

/** One scenario per kind of evidence: flowing both ways, dead by each rule, a side the servers refuse. */
const CHOSEN = [
  "public stream",
  "public service with a local subject",
  "private stream with a valid token",
  "private service without a token",
  "token revoked for this importer",
  "no export of the subject",
  "import wider than the export",
  "stream import of a service export",
  "source account never pushed",
  "importer JWT expired",
];

const version = pinnedServers().at(-1)!.version;

describe.skipIf(!toolPath("nats-server"))(`memory resolver on a 3-node cluster (${harnessKind} harness)`, () => {
  let op: TestOperator;
  let cluster: Cluster;
  let app: InsightsApp;
  let sys: NatsConnection;
  let dir: string;
  let credsPath: string;
  const builds = new Map<string, Built>();
  /** Scenario name → the judge's verdict on each node, clients of both sides on that node. */
  const verdicts = new Map<string, Verdict[]>();
  let reply: CheckReply;
  // The push experiment's accounts: an importer with a typo (sv.> where svc.> is exported).
  let exporter: TestAccount;
  let importer: TestAccount;
  /** What every node preloads (the JWTs as they were at start). */
  let preload: { id: string; jwt: string }[];
  const preloaded = (a: TestAccount) => preload.find((p) => p.id === a.id)?.jwt;
  let serverIds: string[];
  let pin: NatsConnection;
  let genericPush: string;
  /** What a request on node 0 gets: "no responders", or the reply. */
  const sys0Request = async (subject: string, body: string): Promise<string> => {
    const nc = await cluster.connect(0);
    try {
      return (await nc.request(subject, body, { timeout: 5000 })).string();
    } catch (e) {
      if (isNoResponders(e)) return "no responders";
      throw e;
    } finally {
      await nc.close();
    }
  };

  beforeAll(async () => {
    await ensureFreshDist();
    dir = mkdtempSync(join(tmpdir(), "nats-insights-memcluster-"));
    op = await TestOperator.create({ signingKey: true });
    const scenarios = CHOSEN.map((name) => SCENARIOS.find((s) => s.name === name)!);
    expect(scenarios.every((s) => s !== undefined)).toBe(true);
    for (const s of scenarios) builds.set(s.name, await s.build(op));
    exporter = await op.account("PUSH-EXP", { exports: [{ name: "svc", subject: "svc.>", type: "service" }] });
    importer = await op.account("PUSH-IMP", {
      imports: [{ name: "svc", subject: "sv.>", account: exporter.id, type: "service" }],
    });
    const byId = new Map<string, TestAccount>();
    for (const b of builds.values()) for (const a of b.accounts) byId.set(a.id, a);
    preload = [...byId.values(), exporter, importer].map((a) => ({ id: a.id, jwt: a.jwt }));
    cluster = await startCluster(op, { nodes: 3, resolver: "memory", preload });
    serverIds = await Promise.all(
      [0, 1, 2].map(async (i) => {
        const r = await fetch(`${cluster.servers[i]!.monitorUrl}/varz`);
        return ((await r.json()) as { server_id: string }).server_id;
      }),
    );
    for (const name of builds.keys()) verdicts.set(name, []);
    for (const i of [0, 1, 2]) {
      const at = { url: cluster.url(i), operator: op, serverId: serverIds[i] };
      for (const [name, v] of await mapLimit([...builds], 4, async ([name, b]) => [name, await judge(at, b)] as const))
        verdicts.get(name)!.push(v);
    }
    // The push experiment: a client of the importer on node 0 loads it there (and only there), then
    // the fixed JWT is pushed on the full resolver's subject, before the service listens on it.
    pin = await cluster.connect(0, importer);
    await importer.reissue({ imports: [{ name: "svc", subject: "svc.>", account: exporter.id, type: "service" }] });
    genericPush = await sys0Request("$SYS.REQ.CLAIMS.UPDATE", importer.jwt);
    sys = await cluster.connect(0, op.system, { reconnect: true, maxReconnectAttempts: -1, reconnectTimeWait: 50 });
    app = await startService(op, cluster.urls.join(","), dir, "1");
    credsPath = join(dir, "sys.creds"); // written by startService
    reply = await checkReply(sys);
  }, 240_000);

  afterAll(() => stopStarted({ app, pinned: pin ? [pin] : [], sys, cluster, dir }));

  const diagnosisOf = (r: CheckReply, b: Built) => {
    const imp = importUnderTest(b.importer);
    return r.imports.find(
      (d) =>
        d.account === b.importer.id &&
        d.subject === imp.subject &&
        (d.local_subject ?? "") === (imp.local_subject ?? ""),
    );
  };

  it.each(CHOSEN)("%s: the service's verdict is what every node does", (name) => {
    const b = builds.get(name)!;
    const scenario = scenarioOn(
      SCENARIOS.find((s) => s.name === name)!,
      version,
    );
    const d = diagnosisOf(reply, b);
    const perNode = verdicts.get(name)!.map(({ importerProbeRefused: _probe, ...v }) => v);
    expect(perNode).toHaveLength(3);
    if (perNode[0]!.refused.includes("importer")) {
      // No node can load the importer, so none shows it and the service has nothing to judge.
      expect(d).toBeUndefined();
      expect(perNode.every((v) => v.refused.includes("importer"))).toBe(true);
      return;
    }
    expect(d, `no diagnosis for ${name}`).toBeDefined();
    // each node its own load, so its own mapping order where that decides
    expect(perNode).toEqual(perNode.map((v) => expectedFor(scenario, d!, v)));
  });

  it("check --server gives the service's verdicts", async () => {
    const run = await runMain(["check", "--server", cluster.urls.join(","), "--creds", credsPath, "--json"]);
    // The one note: the source, and the account no server could load ("source account never pushed").
    expect(run.stderr).toMatch(
      /^nats-insights: no account resolver answers \$SYS\.REQ\.CLAIMS\.\* \(a memory or URL resolver\): checked the \d+ accounts the servers have loaded; not loaded by any server: [A-Z0-9]+\n$/,
    );
    const cli = JSON.parse(run.stdout) as { imports: ImportDiagnosis[] };
    const verdictsOf = (ds: ImportDiagnosis[]) =>
      ds.map((d) => [d.account, d.subject, d.local_subject ?? "", d.status, d.cause].join(" ")).sort();
    expect(verdictsOf(cli.imports)).toEqual(verdictsOf(reply.imports));
    expect(cli.imports.length).toBeGreaterThanOrEqual(CHOSEN.length - 1);
  });

  /** The push experiment's importer, as each node reports it: loaded or not, and with which JWT. */
  const importerOnNodes = async (): Promise<Record<string, string>> => {
    const out: Record<string, string> = {};
    for (const i of [0, 1, 2]) {
      const nc = await cluster.connect(i);
      try {
        const accountz = (await nc.request(`$SYS.REQ.SERVER.${serverIds[i]}.ACCOUNTZ`, "", { timeout: 5000 })).json<{
          data: { accounts: string[] };
        }>();
        if (!accountz.data.accounts.includes(importer.id)) {
          out[`node ${i}`] = "not loaded";
          continue;
        }
        const info = (
          await nc.request(`$SYS.REQ.SERVER.${serverIds[i]}.ACCOUNTZ`, JSON.stringify({ account: importer.id }), {
            timeout: 5000,
          })
        ).json<{ data: { account_detail?: { jwt?: string } } }>();
        const jwt = info.data.account_detail?.jwt;
        out[`node ${i}`] = jwt === preloaded(importer) ? "preload" : jwt === importer.jwt ? "pushed" : "other";
      } finally {
        await nc.close();
      }
    }
    return out;
  };
  const flowsOnEachNode = async () => {
    const out: boolean[] = [];
    // Both sides on the node: the first answer is conclusive there.
    for (const i of [0, 1, 2])
      out.push(await serviceFlows({ url: cluster.url(i) }, exporter, importer, "svc.>", "svc.x", 0));
    return out;
  };
  const pushedImport = (r: CheckReply) =>
    r.imports.filter((d) => d.account === importer.id).map((d) => [d.subject, d.status, d.cause]);

  it("a push reaches only the nodes that have the account loaded; the service names the account whose JWTs then differ", async () => {
    // Set up in beforeAll: the importer is loaded on node 0 only (a client of it is connected there),
    // and a push on the full resolver's subject found no server to take it.
    expect(genericPush).toBe("no responders");
    expect(await importerOnNodes()).toEqual({ "node 0": "preload", "node 1": "not loaded", "node 2": "not loaded" });

    // The push on the account's own subject: each node answers, and only node 0 applies it.
    const answers: Record<string, string> = {};
    const replies = await sys.requestMany(`$SYS.REQ.ACCOUNT.${importer.id}.CLAIMS.UPDATE`, importer.jwt, {
      strategy: "count",
      maxMessages: 3,
      maxWait: 10_000,
    });
    for await (const m of replies) {
      const r = m.json<{ server: { name: string }; data: { message: string } }>();
      answers[`node ${cluster.servers.findIndex((n) => n.name === r.server.name)}`] = r.data.message;
    }
    expect(answers).toEqual({
      "node 0": "jwt updated",
      "node 1": "jwt update skipped",
      "node 2": "jwt update skipped",
    });
    expect(await importerOnNodes()).toEqual({ "node 0": "pushed", "node 1": "not loaded", "node 2": "not loaded" });
    // The service hears the push and reads the servers again: only node 0 has the account, so right there.
    let reply = await checkUntil(sys, (r) => pushedImport(r)[0]?.[1] === "active");
    expect(pushedImport(reply)).toEqual([["svc.>", "active", null]]);
    expect(reply.jwt_source.differing_accounts).toEqual([]);

    // Clients on every node: nodes 1 and 2 load the importer now, from their preload (the typo).
    expect(await flowsOnEachNode()).toEqual([true, false, false]);
    expect(await importerOnNodes()).toEqual({ "node 0": "pushed", "node 1": "preload", "node 2": "preload" });
    // The service cannot have one verdict for both JWTs: it judges the newest and names the account.
    reply = await checkUntil(sys, (r) => r.jwt_source.differing_accounts.length > 0);
    expect(reply.jwt_source.differing_accounts).toEqual([importer.id]);
    expect(pushedImport(reply)).toEqual([["svc.>", "active", null]]);

    // A reload of node 0 re-applies its preload: the push is gone, and the service follows.
    await cluster.reload(0, preload);
    expect(await importerOnNodes()).toEqual({ "node 0": "preload", "node 1": "preload", "node 2": "preload" });
    reply = await checkUntil(
      sys,
      (r) => r.jwt_source.differing_accounts.length === 0 && pushedImport(r)[0]?.[1] === "inactive",
    );
    expect(pushedImport(reply)).toEqual([["sv.>", "inactive", "export_not_found"]]);
    expect(await flowsOnEachNode()).toEqual([false, false, false]);
  }, 120_000);
});
