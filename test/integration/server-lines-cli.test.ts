/**
 * The offline commands judge JWTs by what the servers are (docs/servers.md): live servers say their
 * version and whether they run JetStream in VARZ, and JWTs at rest take `--server-version` and
 * `--jetstream`. Each verdict is held against the real server: a request through the import, or
 * the push the server takes or refuses.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AuditReport } from "../../src/cli/audit.js";
import { TestOperator, type TestAccount } from "../support/deployment.js";
import { serviceAnswered, serviceFlows, streamFlows } from "../support/flow.js";
import { checkUntil, startService, stopStarted } from "../support/live-service.js";
import type { InsightsApp } from "../../src/app.js";
import type { NatsConnection } from "@nats-io/nats-core";
import { startCluster, type Cluster } from "../support/cluster.js";
import { pushAll, pushWith, connectSystem, startServer, type RunningServer } from "../support/nats-server.js";
import { pinnedServers, toolPath } from "../support/tools.js";
import { ensureFreshDist, runMain } from "../support/dist.js";

const cli = (args: string[]) => runMain(args);

const statusOf = (r: { stdout: string }, subject: string) =>
  (JSON.parse(r.stdout) as AuditReport).imports.find((d) => (d.local_subject ?? d.subject) === subject)?.status;

beforeAll(async () => {
  await ensureFreshDist(); // never test a stale dist
}, 130_000);

describe.skipIf(!toolPath("nats-server"))("the system account's JetStream API export, as the servers run", () => {
  let server: RunningServer;
  let dir: string;
  let importer: TestAccount;
  let op: TestOperator;

  beforeAll(async () => {
    op = await TestOperator.create({ signingKey: true });
    dir = mkdtempSync(join(tmpdir(), "insights-lines-js-"));
    server = await startServer(op, { extraConfig: `jetstream: { store_dir: ${JSON.stringify(join(dir, "js"))} }` });
    importer = await op.account("IMP");
    await importer.reissue({
      imports: [
        { name: "js", account: op.system.id, subject: "$JS.API.INFO", type: "service", local_subject: "js.info" },
      ],
    });
    await pushAll(server, [importer]);
    writeFileSync(join(dir, "sys.creds"), await op.system.userCreds());
    const jwts = join(dir, "jwts");
    mkdirSync(jwts);
    writeFileSync(join(jwts, "operator.jwt"), op.jwt);
    writeFileSync(join(jwts, `${op.system.id}.jwt`), op.system.jwt);
    writeFileSync(join(jwts, `${importer.id}.jwt`), importer.jwt);
  }, 60_000);

  afterAll(async () => {
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("check --server finds the export in the servers' VARZ, as the request through the import does", async () => {
    expect(await serviceAnswered(server, importer, "js.info")).toBe(true);
    const r = await cli(["check", "--server", server.url, "--creds", join(dir, "sys.creds"), "--json"]);
    expect(r.stderr).toBe("");
    expect(statusOf(r, "js.info")).toBe("active");
    expect(r.code).toBe(0);
  });

  it("JWTs at rest have it only with --jetstream", async () => {
    const without = await cli(["check", "--jwt-dir", join(dir, "jwts"), "--json"]);
    expect(statusOf(without, "js.info")).toBe("inactive");
    expect(without.code).toBe(1);
    const withJs = await cli(["check", "--jwt-dir", join(dir, "jwts"), "--jetstream", "--json"]);
    expect(statusOf(withJs, "js.info")).toBe("active");
    expect(withJs.code).toBe(0);
  });
});

/**
 * Service imports of overlapping subjects from two accounts: nats-server 2.10 (jwt v2.7) refuses
 * such a JWT, 2.12 and later take it (docs/servers.md).
 */
const oldest = pinnedServers()[0]!;
describe.skipIf(!toolPath("nats-server") || !oldest.bin)(
  `preflight and check by the rules of the line the servers run (${oldest.version} and the newest)`,
  () => {
    const servers: { name: string; server: RunningServer }[] = [];
    let dir: string;
    let op: TestOperator;
    let proposed: TestAccount;

    beforeAll(async () => {
      op = await TestOperator.create({ signingKey: true });
      dir = mkdtempSync(join(tmpdir(), "insights-lines-"));
      const wide = await op.account("WIDE", { exports: [{ name: "a", subject: "a.>", type: "service" }] });
      const narrow = await op.account("NARROW", { exports: [{ name: "ab", subject: "a.b", type: "service" }] });
      proposed = await op.account("IMP", {
        imports: [
          { name: "wide", account: wide.id, subject: "a.>", type: "service" },
          { name: "narrow", account: narrow.id, subject: "a.b", type: "service", local_subject: "n.a.b" },
          { name: "again", account: narrow.id, subject: "a.b", type: "service", local_subject: "a.b.c" },
        ],
      });
      for (const [name, bin] of [
        ["oldest", oldest.bin!],
        ["newest", toolPath("nats-server")!],
      ] as const) {
        const server = await startServer(op, { bin });
        await pushAll(server, [wide, narrow]);
        servers.push({ name, server });
      }
      writeFileSync(join(dir, "sys.creds"), await op.system.userCreds());
      writeFileSync(join(dir, "IMP.jwt"), proposed.jwt);
      const jwts = join(dir, "jwts");
      mkdirSync(jwts);
      writeFileSync(join(jwts, "operator.jwt"), op.jwt);
      for (const a of [op.system, wide, narrow, proposed]) writeFileSync(join(jwts, `${a.id}.jwt`), a.jwt);
    }, 60_000);

    afterAll(async () => {
      for (const { server } of servers) await server.stop();
      rmSync(dir, { recursive: true, force: true });
    });

    it("preflight --server says what the push then does on each line", async () => {
      const seen: Record<string, unknown> = {};
      for (const { name, server } of servers) {
        const r = await cli([
          "preflight",
          join(dir, "IMP.jwt"),
          "--server",
          server.url,
          "--creds",
          join(dir, "sys.creds"),
          "--json",
        ]);
        const sys = await connectSystem(server, op);
        const pushed = await pushWith(sys, proposed.jwt).finally(() => sys.close());
        seen[name] = {
          preflight_stored: (JSON.parse(r.stdout) as { stored: boolean }).stored,
          code: r.code,
          pushed: pushed.ok,
        };
      }
      expect(seen).toEqual({
        oldest: { preflight_stored: false, code: 1, pushed: false },
        newest: { preflight_stored: true, code: 0, pushed: true },
      });
    });

    it("check of JWTs at rest follows --server-version", async () => {
      const errorsFor = async (...extra: string[]) =>
        (
          JSON.parse((await cli(["check", "--jwt-dir", join(dir, "jwts"), "--json", ...extra])).stdout) as AuditReport
        ).account_errors.map((e) => e.account);
      expect(await errorsFor("--server-version", oldest.version)).toEqual([proposed.id]);
      expect(await errorsFor()).toEqual([]);
      expect(await errorsFor("--server-version", "2.12.15")).toEqual([]);
    });

    it("a --server-version that is no version, or older than 2.10, is a usage error", async () => {
      for (const bad of ["2.10", "latest", "2.9.25", `2.10.29${"x".repeat(100)}`]) {
        const r = await cli(["check", "--jwt-dir", join(dir, "jwts"), "--server-version", bad]);
        expect(r.code, bad).toBe(2);
        expect(r.stderr, bad).toMatch(
          /--server-version.*(must be a nats-server version|models nats-server 2\.10\.0 and later)/,
        );
      }
    });
  },
);

/**
 * A cluster mid-upgrade: one node on the oldest pinned line, one on the newest. Every line present
 * judges (docs/servers.md): an importer that maps its requests with `{{random(1)}}` is answered from
 * the oldest line's node (2.10 leaves the mapping out) and not from the newest's (which installs
 * it), so it is inactive although the oldest line alone would say active. `check --server` and the
 * live service both read the two versions from VARZ; check names them on stderr.
 */
describe.skipIf(!toolPath("nats-server") || !oldest.bin)(`a cluster of ${oldest.version} and the newest line`, () => {
  let cluster: Cluster;
  let dir: string;
  let exporter: TestAccount;
  let importer: TestAccount;
  let mapped: TestAccount;
  let app: InsightsApp | undefined;
  let sys: NatsConnection | undefined;

  beforeAll(async () => {
    const op = await TestOperator.create({ signingKey: true });
    dir = mkdtempSync(join(tmpdir(), "insights-lines-mixed-"));
    exporter = await op.account("EXP", {
      exports: [
        { name: "pub", subject: "pub.>", type: "stream" },
        { name: "svc", subject: "svc.*", type: "service" },
      ],
    });
    importer = await op.account("IMP", {
      imports: [{ name: "pub", account: exporter.id, subject: "pub.>", type: "stream" }],
    });
    mapped = await op.account("MAPPED", {
      imports: [{ name: "svc", account: exporter.id, subject: "svc.*", type: "service" }],
      mappings: { "svc.*": [{ subject: "gone.{{random(1)}}" }] },
    });
    cluster = await startCluster(op, { nodes: 2, binOf: (i) => (i === 0 ? oldest.bin! : undefined) });
    await cluster.pushAll(0, [exporter, importer, mapped]);
    writeFileSync(join(dir, "sys.creds"), await op.system.userCreds());
    app = await startService(op, cluster.urls.join(","), dir, "60");
    sys = await cluster.connect(1);
  }, 120_000);

  afterAll(() => stopStarted({ app, sys, cluster, dir }));

  const verdicts = (imports: { account_name: string | null; status: string; cause: string | null }[]) =>
    imports.map((d) => [d.account_name, d.status, d.cause]).sort();
  const expected = [
    ["IMP", "active", null],
    ["MAPPED", "inactive", "local_subject_mapped"],
  ];

  it("the imports flow as each node's line decides", async () => {
    for (const [from, to] of [
      [0, 1],
      [1, 0],
    ] as const) {
      const at = { exporter: cluster.servers[from]!, importer: cluster.servers[to]! };
      expect(await streamFlows(at, exporter, importer, "pub.x", "pub.x", 5_000), `${from} → ${to}`).toBe(true);
    }
    for (const node of [0, 1]) {
      const at = { exporter: cluster.servers[1 - node]!, importer: cluster.servers[node]! };
      expect(await serviceFlows(at, exporter, mapped, "svc.*", "svc.x", 3_000), `from node ${node}`).toBe(node === 0);
    }
  });

  it("check --server judges by both lines and names them", async () => {
    const r = await cli(["check", "--server", cluster.urls.join(","), "--creds", join(dir, "sys.creds"), "--json"]);
    expect(verdicts((JSON.parse(r.stdout) as AuditReport).imports)).toEqual(expected);
    const note = /the servers run (.+): judged by the rules of every line; (\S+) is the oldest/.exec(r.stderr);
    expect(note?.[1]?.split(", ").sort()).toEqual([oldest.version, pinnedServers().at(-1)!.version].sort());
    expect(note?.[2]).toBe(oldest.version);
    expect(r.code).toBe(1);
  });

  it("the live service judges by both lines", async () => {
    const reply = await checkUntil(sys!, (r) => r.imports.length === 2);
    expect(verdicts(reply.imports)).toEqual(expected);
  });
});
