/**
 * One fuzz deployment end to end: realise it, start a real server (or 3-node cluster), push the
 * JWTs, measure the truth of every import by message flow on every node, ask the engine (offline,
 * over the JWTs that were pushed) and the live service (in-process, over NATS) for their verdicts,
 * and list every disagreement.
 */
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { InsightsApp } from "../../src/app.js";
import { loadConfig } from "../../src/config.js";
import { AccountRejected } from "../../src/core/directory.js";
import {
  AccountDirectory,
  DEFAULT_EXPIRY_WARNING_SECONDS,
  OperatorTrust,
  diagnoseAll,
  rulesFor,
  rulesForLoaded,
  type ImportDiagnosis,
} from "../../src/core/index.js";
import { createLogger } from "../../src/shell/log.js";
import { startCluster, type Cluster, type ClusterOptions } from "../support/cluster.js";
import { serverVersion } from "../support/tools.js";
import { signClaims } from "../support/deployment.js";
import type { TestAccount } from "../support/deployment.js";
import type { FuzzDeployment, FuzzImport } from "./model.js";
import { realize, type Realized, type RealizedImport } from "./realize.js";
import { exporterNodeFor, measure, type NodeTruth } from "./truth.js";
import {
  createJetStream,
  expectations,
  gapsNamed,
  hasJetStream,
  measureJetStream,
  type JetStreamExpectation,
} from "./jetstream.js";

export interface RunOptions {
  nodes: 1 | 3;
  /**
   * A supercluster instead: clusters of these sizes joined by gateways (e.g. [2, 1] or [1, 1, 1];
   * overrides `nodes`). Each node's probes meet an exporter on another cluster (truth.ts).
   */
  clusters?: number[];
  /**
   * "memory": `resolver: MEMORY`, the JWTs preloaded in every node's config instead of pushed; no
   * deletes (a memory resolver has none), and a JWT the server will not start with is left out of
   * the preload (`preloadRefused`). Default "full".
   */
  resolver?: "full" | "memory";
  /** Ask the live service too (an in-process InsightsApp on node 0). */
  live: boolean;
  /** How long a message may take to flow, per node. */
  windowMs: number;
}

export interface Verdict {
  status: ImportDiagnosis["status"] | "unknown";
  cause: string | null;
  message: string | null;
  /** The commands of the remediation (the pieces a JetStream warning names are read from them). */
  remediation?: string[];
}

const verdictOf = (d: ImportDiagnosis): Verdict => ({
  status: d.status,
  cause: d.cause,
  message: d.message,
  remediation: d.remediation,
});

export interface ImportOutcome {
  account: number;
  index: number;
  imp: FuzzImport;
  truth: NodeTruth[];
  engine: Verdict;
  live: Verdict | null;
  /** For an import of a JetStream set: what the importer's real consumers say it must be (jetstream.ts), on node 0. */
  jetstream?: JetStreamExpectation;
  /** The same on every node (null where the probes do not isolate the import there). */
  jetstream_nodes?: (JetStreamExpectation | null)[];
}

export type Judge = "engine" | "live" | "nodes";

export interface Disagreement {
  judge: Judge;
  account: number;
  index: number;
  imp: FuzzImport;
  /** Flows by node, with how each was established. */
  truth: NodeTruth[];
  verdict: Verdict;
}

export interface DeploymentResult {
  imports: ImportOutcome[];
  disagreements: Disagreement[];
  pushRejected: number;
  /** Memory resolver: JWTs the server refused to start with in its preload (left out, see `startMemory`). */
  preloadRefused: number;
}

/** How many servers a run starts. */
export const nodeCount = (o: Pick<RunOptions, "nodes" | "clusters">): number =>
  o.clusters ? o.clusters.reduce((a, b) => a + b, 0) : o.nodes;

/** The topology in words, for logs: "1 node", "3 nodes", "supercluster 2+1", with ", memory". */
export function topologyOf(o: Pick<RunOptions, "nodes" | "clusters" | "resolver">): string {
  const shape = o.clusters ? `supercluster ${o.clusters.join("+")}` : o.nodes > 1 ? `${o.nodes} nodes` : "1 node";
  return o.resolver === "memory" ? `${shape}, memory resolver` : shape;
}

const flowsPerVerdict = (v: Verdict) => v.status !== "inactive";

/**
 * The engine's `undetermined` states no flow: it is right only for an import on a cycle, which
 * the server refuses or not by the order it loaded the accounts (each node its own), and for one
 * that intersecting exports disagree about, which each node holds against the export its map order
 * gave it at its last check (docs/decisions.md 45). The nodes' own views show what they decided.
 */
const undeterminedPerNode = (v: Verdict) =>
  v.status === "undetermined" && (v.cause === "import_cycle" || v.cause === "exports_overlap");

/**
 * Overlapping mappings (on the importer's local subject, or on either side's reply subject): each
 * load of the JWT installs them in a new order, which no server view shows, so any flow agrees
 * with the verdict, and the live service cannot decide either.
 */
const mappingOrder = (v: Verdict) =>
  v.status === "undetermined" &&
  (v.cause === "local_subject_mappings_overlap" || v.cause === "replies_mappings_overlap");

/**
 * A JWT the engine refuses outright (no account id to file it under) is one the resolver refuses
 * to store: its account then has no JWT for the engine either, and its imports are judged "unknown"
 * against the flow, so a JWT the server did store and the engine refused still shows as a
 * disagreement.
 */
function fileAsTheResolverWould(dir: AccountDirectory, jwt: string): void {
  try {
    dir.upsert(jwt);
  } catch (e) {
    if (!(e instanceof AccountRejected)) throw e;
  }
}

function engineVerdicts(r: Realized, version: string, jetStream: boolean, preloaded: boolean): Verdict[][] {
  const trust = new OperatorTrust();
  trust.addOperator(r.op.jwt);
  // A memory resolver's preload is loaded without the push's checks.
  trust.rules = preloaded ? rulesForLoaded(rulesFor(version)) : rulesFor(version);
  // A server with JetStream exports its API from the system account (the live service asks it).
  trust.jetStreamApi = jetStream;
  const dir = new AccountDirectory(trust);
  dir.upsert(r.op.system.jwt);
  for (const a of r.pushed) if (!r.deleted.includes(a)) fileAsTheResolverWould(dir, a.jwt);
  const opts = { now: Math.floor(Date.now() / 1000), expiryWarningSeconds: DEFAULT_EXPIRY_WARNING_SECONDS };
  return r.accounts.map((a) => {
    if (!dir.get(a.id)) return [];
    return diagnoseAll(dir, opts, [a.id]).map(verdictOf);
  });
}

/** The live service's check reply for every importer, matched to the imports in JWT order. */
async function liveVerdicts(cluster: Cluster, r: Realized): Promise<Verdict[][]> {
  const dir = mkdtempSync(join(tmpdir(), "insights-fuzz-"));
  let app: InsightsApp | null = null;
  const sys = await cluster.connect(0);
  try {
    const creds = join(dir, "sys.creds");
    writeFileSync(creds, await r.op.system.userCreds());
    const config = loadConfig(["--nats-url", cluster.url(0), "--creds", creds], {});
    app = await InsightsApp.start(config, createLogger("silent"));
    const out: Verdict[][] = [];
    for (const a of r.accounts) {
      const reply = await sys.request("insights.imports.check", JSON.stringify({ account: a.id, limit: 1000 }), {
        timeout: 5_000,
      });
      const body = reply.headers?.get("Nats-Service-Error-Code")
        ? { imports: [] }
        : reply.json<{ imports: ImportDiagnosis[] }>();
      const pool = [...body.imports];
      out.push(
        r.imports
          .filter((i) => i.importer === a)
          .map((i) => {
            const k = pool.findIndex((d) => sameImport(d, i));
            if (k < 0) return { status: "unknown", cause: null, message: null };
            const [d] = pool.splice(k, 1);
            return verdictOf(d!);
          }),
      );
    }
    return out;
  } finally {
    await app?.stop();
    await sys.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Import names are unique in a fuzz deployment; the reply is sorted by status, not in JWT order. */
function sameImport(d: ImportDiagnosis, i: RealizedImport): boolean {
  return (
    d.name === i.name &&
    d.type === i.claim.type &&
    d.source_account === i.exporter.id &&
    d.subject === i.claim.subject &&
    (d.local_subject ?? undefined) === i.claim.local_subject
  );
}

export async function runDeployment(d: FuzzDeployment, seed: number, opts: RunOptions): Promise<DeploymentResult> {
  const memory = opts.resolver === "memory";
  const realized = await realize(d, seed);
  // A memory resolver has no deletes: an account to delete stays as preloaded.
  const r: Realized = memory ? { ...realized, deleted: [] } : realized;
  const version = await serverVersion();
  const js = hasJetStream(d);
  const clusterOpts: ClusterOptions = {
    ...(opts.clusters ? { clusters: opts.clusters } : { nodes: opts.nodes }),
    debug: false,
    resolverTimeout: "0.5s",
    allowDelete: r.deleted.length > 0,
    // A JetStream meta group of 3 takes longer to form on a loaded machine than routes do.
    ...(js ? { jetstream: true, ...(nodeCount(opts) > 1 ? { readyTimeoutMs: 45_000 } : {}) } : {}),
    ...(js && d.jetstream_domain ? { jetstreamDomain: d.jetstream_domain } : {}),
    // The feature flag exists from 2.14 on; older servers refuse the unknown option.
    ...(js && d.js_ack_v2 && knowsAckV2(version) ? { extraConfig: "feature_flags: { js_ack_fc_v2: true }\n" } : {}),
  };
  const { cluster, refused } = memory
    ? await startMemory(r, clusterOpts)
    : { cluster: await startCluster(r.op, clusterOpts), refused: [] };
  try {
    let pushRejected = 0;
    if (!memory) {
      for (const a of r.pushed) if (!(await cluster.push(0, a.jwt)).ok) pushRejected++;
      if (cluster.servers.length > 1) await waitForReplication(cluster, r);
    }
    if (r.deleted.length > 0) await deleteLoaded(cluster, r);
    const jsExporters = new Set(r.accounts.filter((_, i) => d.accounts[i]!.jetstream));
    const isJs = (imp: RealizedImport) => jsExporters.has(imp.exporter);
    const plain = r.imports.filter((imp) => !isJs(imp));
    // The probes go where the server installed the imports (account-scoped functions expanded).
    const probed = hashesAccounts(version) ? plain.map(withAccountHashes) : plain;
    const measured = await measure(cluster, probed, opts.windowMs, new Set(r.deleted.map((a) => a.id)));
    const jsTruth = js
      ? await jetStreamTruth(cluster, r, d)
      : new Map<RealizedImport, (JetStreamExpectation | null)[]>();
    const jsOf = (imp: RealizedImport) => jsTruth.get(imp) ?? cluster.servers.map(() => null);
    const truths = r.imports.map((imp) => (isJs(imp) ? jetStreamNodeTruth(jsOf(imp)) : measured[plain.indexOf(imp)]!));
    const engine = engineVerdicts(r, version, js, memory);
    const live = opts.live ? await liveVerdicts(cluster, r) : null;
    const imports: ImportOutcome[] = r.imports.map((imp, k) => {
      const a = r.accounts.indexOf(imp.importer);
      const nth = r.imports.filter((o, j) => j < k && o.importer === imp.importer).length;
      return {
        account: a,
        index: imp.index,
        imp: d.accounts[a]!.imports[imp.index]!,
        truth: truths[k]!,
        engine: engine[a]![nth] ?? {
          status: "unknown",
          cause: null,
          message: "the engine has no JWT for this account",
        },
        live: live ? (live[a]![nth] ?? null) : null,
        ...(isJs(imp) && jsOf(imp)[0] ? { jetstream: jsOf(imp)[0]!, jetstream_nodes: jsOf(imp) } : {}),
      };
    });
    return {
      imports,
      disagreements: imports.flatMap(disagreementsOf),
      pushRejected,
      preloadRefused: refused.length,
    };
  } finally {
    await cluster.stopAll();
  }
}

/**
 * A memory-resolver cluster with every pushed account's JWT in the preload. nats-server reads the
 * preload when it parses its config: a JWT it cannot decode (jwt's DecodeAccountClaims: the
 * signature, the claims' JSON) is a config error and the server does not start (server/opts.go,
 * "invalid account JWT" at the preload's line; measured). Such a JWT is taken out of the preload,
 * as an operator would have to, and the start tried again; every other JWT is stored as it is, and
 * judged by the server only when it loads the account (a client connects, or an importer needs it).
 */
async function startMemory(r: Realized, base: ClusterOptions): Promise<{ cluster: Cluster; refused: TestAccount[] }> {
  const refused: TestAccount[] = [];
  for (;;) {
    const preload = r.pushed.filter((a) => !refused.includes(a));
    try {
      return { cluster: await startCluster(r.op, { ...base, resolver: "memory", preload }), refused };
    } catch (e) {
      const bad = refusedPreload(e instanceof Error ? e.message : String(e), preload);
      if (!bad) throw e;
      refused.push(bad);
    }
  }
}

/**
 * The preloaded account a failed start names: the server's config error points at a line of the
 * config, which startCluster quotes ("config line N: <ID>: <JWT>"), or names the account.
 */
function refusedPreload(message: string, preload: TestAccount[]): TestAccount | null {
  const line = /config line \d+: +(A[A-Z2-7]{55}): /.exec(message);
  return (
    preload.find((a) => a.id === line?.[1]) ??
    preload.find((a) => message.includes(`preload account error for "${a.id}"`)) ??
    null
  );
}

/**
 * Account deletes as `nsc push --prune` sends them: first every pushed account is loaded on every
 * node (a client connects; an account the server refuses is simply not loaded), so the delete
 * meets accounts in use, then one request signed by the operator, then wait until no node's
 * resolver stores the deleted JWTs.
 */
async function deleteLoaded(cluster: Cluster, r: Realized): Promise<void> {
  for (let node = 0; node < cluster.servers.length; node++) {
    for (const a of r.pushed) {
      const nc = await cluster.connect(node, a, { timeout: 10_000 }).catch(() => null);
      await nc?.close();
    }
  }
  const request = await signClaims(
    { sub: r.op.id, nats: { type: "generic", version: 2, accounts: r.deleted.map((a) => a.id) } },
    r.op.key,
  );
  const sys = await cluster.connect(0);
  try {
    const reply = (await sys.request("$SYS.REQ.CLAIMS.DELETE", request, { timeout: 10_000 })).json<{
      data?: { message?: string };
      error?: { description?: string };
    }>();
    if (!reply.data)
      throw new Error(`the delete request was refused: ${reply.error?.description ?? JSON.stringify(reply)}`);
  } finally {
    await sys.close();
  }
  const deadline = Date.now() + 5_000;
  while (cluster.servers.some((_, i) => r.deleted.some((a) => cluster.storedJwt(i, a.id) !== null))) {
    if (Date.now() > deadline) throw new Error("a deleted account's JWT is still stored after 5 s");
    await new Promise((res) => setTimeout(res, 50));
  }
}

/**
 * nats-server 2.14.10 on and 2.15.3 on expand `{{account-hash()}}` and `{{account-hash-import()}}`
 * where they install an import or export (read from their source; measured by
 * test/integration/account-hash.test.ts on 2.14.9, 2.14.10, 2.15.2 and 2.15.3).
 */
const hashesAccounts = (version: string) => {
  const [major, minor, patch] = version.split(/[.-]/).map(Number);
  if (major !== 2) return major! > 2;
  return minor! > 15 || (minor === 15 && patch! >= 3) || (minor === 14 && patch! >= 10);
};

/** The server's getHash of an account key: 8 base-62 digits of its SHA-256. */
function accountHashOf(id: string): string {
  const digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
  const sum = createHash("sha256").update(id).digest();
  return Array.from(sum.subarray(0, 8), (b) => digits[b % 62]).join("");
}

/** An import as such a server installs it: the importer's hash and the source account's in its subjects. */
function withAccountHashes(imp: RealizedImport): RealizedImport {
  const expand = (s: string) =>
    s
      .replaceAll("{{account-hash-import()}}", accountHashOf(imp.exporter.id))
      .replaceAll("{{account-hash()}}", accountHashOf(imp.importer.id));
  const c = imp.claim;
  const claim = {
    ...c,
    subject: expand(c.subject),
    ...(c.local_subject !== undefined ? { local_subject: expand(c.local_subject) } : {}),
    ...(c.to !== undefined ? { to: expand(c.to) } : {}),
  };
  return { ...imp, claim };
}

const knowsAckV2 = (version: string) => {
  const [major, minor] = version.split(".").map(Number);
  return major! > 2 || (major === 2 && minor! >= 14);
};

/**
 * The JetStream sets, judged by the importers' real consumers on every node: the importer's client
 * on that node, the exporter's on the next (exporterNodeFor, as for the other probes), the stream
 * and its consumers made anew before each node's probes (a probe consumes and acks the messages).
 */
async function jetStreamTruth(
  cluster: Cluster,
  r: Realized,
  d: FuzzDeployment,
): Promise<Map<RealizedImport, (JetStreamExpectation | null)[]>> {
  const out = new Map<RealizedImport, (JetStreamExpectation | null)[]>();
  for (let node = 0; node < cluster.servers.length; node++) {
    const server = { url: cluster.url(node), monitorUrl: cluster.servers[node]!.monitorUrl };
    const exporterServer = { url: cluster.url(exporterNodeFor(cluster, node)) };
    for (const [e, exporter] of d.accounts.entries()) {
      if (!exporter.jetstream) continue;
      await createJetStream(exporterServer, r.accounts[e]!, exporter.jetstream);
      const importers = d.accounts.flatMap((a, i) => (a.imports.some((imp) => imp.from === e) ? [i] : []));
      const truths = await Promise.all(
        importers.map((i) =>
          measureJetStream(
            server,
            r.accounts[e]!,
            r.accounts[i]!,
            d.accounts[i]!,
            exporter.jetstream!.consumers,
            exporterServer,
          ),
        ),
      );
      for (const [k, i] of importers.entries()) {
        const expected = expectations(d.accounts[i]!, truths[k]!);
        for (const imp of r.imports)
          if (imp.importer === r.accounts[i] && imp.exporter === r.accounts[e])
            out.set(imp, [...(out.get(imp) ?? []), expected[imp.index] ?? null]);
      }
    }
  }
  return out;
}

function jetStreamNodeTruth(byNode: (JetStreamExpectation | null)[]): NodeTruth[] {
  return byNode.map((e, node) =>
    !e || (e.flows === null && e.gaps === null)
      ? { node, flows: false, basis: "undecidable", note: e?.note ?? "a JetStream import no consumer probe isolates" }
      : { node, flows: e.flows ?? true, basis: "jetstream", note: e.note, expected_gaps: e.gaps },
  );
}

/** A push reaches every node's resolver asynchronously: wait until each stores what node 0 took. */
async function waitForReplication(cluster: Cluster, r: Realized): Promise<void> {
  const deadline = Date.now() + 5_000;
  const expected = r.pushed.filter((a) => cluster.storedJwt(0, a.id) === a.jwt);
  while (Date.now() < deadline) {
    if (cluster.servers.every((_, i) => expected.every((a) => cluster.storedJwt(i, a.id) === a.jwt))) return;
    await new Promise((res) => setTimeout(res, 50));
  }
}

/** A verdict that contradicts what the importer's consumers did, or names other missing pieces than those that failed. */
export function jetStreamMismatch(v: Verdict, e: JetStreamExpectation): boolean {
  const inactive = v.status === "inactive" || v.status === "unknown";
  if (e.flows !== null && inactive === e.flows) return true;
  if (inactive || e.gaps === null) return false;
  const named = gapsNamed(v.remediation ?? [], v.cause).filter((k) => !e.ignore.includes(k));
  const want = e.gaps.filter((k) => !e.ignore.includes(k));
  return named.length !== want.length || want.some((k) => !named.includes(k));
}

function disagreementsOf(o: ImportOutcome): Disagreement[] {
  const base = { account: o.account, index: o.index, imp: o.imp, truth: o.truth };
  const out: Disagreement[] = [];
  if (o.jetstream) {
    if (o.truth.some((t) => t.basis === "undecidable")) return [];
    // Every node's consumers: a verdict must fit each; nodes that differ in flow are a finding of their own.
    const each = (o.jetstream_nodes ?? [o.jetstream]).filter((e) => e !== null);
    if (new Set(o.truth.map((t) => t.flows)).size > 1) out.push({ ...base, judge: "nodes", verdict: o.engine });
    if (each.some((e) => jetStreamMismatch(o.engine, e))) out.push({ ...base, judge: "engine", verdict: o.engine });
    if (o.live && each.some((e) => jetStreamMismatch(o.live!, e)))
      out.push({ ...base, judge: "live", verdict: o.live });
    return out;
  }
  // Identical imports the server lists once: which of them it kept is not observable.
  if (o.truth.some((t) => t.basis === "undecidable")) return [];
  const flows = new Set(o.truth.map((t) => t.flows));
  // Nodes may refuse different imports of a cycle (each loaded the accounts in its own order), or
  // pick different ones of intersecting exports.
  const cycle = undeterminedPerNode(o.engine);
  if (flows.size > 1 && !cycle && !mappingOrder(o.engine)) out.push({ ...base, judge: "nodes", verdict: o.engine });
  const truth = o.truth[0]!.flows;
  // An engine without the importer's JWT says nothing; nothing can flow for an unknown account.
  const engineFlows = o.engine.status === "unknown" ? false : flowsPerVerdict(o.engine);
  if (o.engine.status === "undetermined") {
    if (!cycle && !mappingOrder(o.engine)) out.push({ ...base, judge: "engine", verdict: o.engine });
  } else if (flows.size === 1 && engineFlows !== truth) out.push({ ...base, judge: "engine", verdict: o.engine });
  if (o.live && mappingOrder(o.engine)) {
    if (!mappingOrder(o.live)) out.push({ ...base, judge: "live", verdict: o.live });
  } else if (o.live) {
    // The live service has the servers' views: it must decide, and say "works" if any node honours it.
    const liveFlows = o.live.status === "unknown" ? false : flowsPerVerdict(o.live);
    if (o.live.status === "undetermined" || ((flows.size === 1 || cycle) && liveFlows !== flows.has(true)))
      out.push({ ...base, judge: "live", verdict: o.live });
  }
  return out;
}
