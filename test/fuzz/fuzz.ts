/**
 * The fuzz loop: random deployments from a run seed until the time is up; every disagreement with
 * the real server is shrunk (once per kind of disagreement) and written as a scenario file that
 * test/integration/fuzz-scenarios.test.ts replays.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { serverVersion } from "../support/tools.js";
import { JETSTREAM_SHARE, deploymentSeed, generate, type FuzzDeployment } from "./model.js";
import { hasJetStream } from "./jetstream.js";
import { openClassOf, openScenario } from "./open-classes.js";
import { nodeCount, runDeployment, topologyOf, type Disagreement, type RunOptions } from "./run.js";
import { reductions, type Target } from "./shrink.js";

export interface FuzzOptions {
  seed: number;
  seconds: number;
  /** Every deployment on a 3-node cluster; otherwise a share of them (`clusterShare`). */
  cluster: boolean;
  clusterShare: number;
  live: boolean;
  /** Where scenario files of new disagreements go. */
  outDir: string;
  /** Bound on real-server runs spent shrinking one disagreement. */
  shrinkTries: number;
  log?: (line: string) => void;
  /** Run this one deployment seed only (to reproduce a report's disagreement). */
  only?: number;
  /** The share of deployments with a JetStream exporter and importers (default JETSTREAM_SHARE). */
  jetstreamShare?: number;
  /**
   * The share of deployments on a supercluster (clusters [2, 1] or [1, 1, 1] joined by gateways)
   * instead of one server or a cluster (default 0).
   */
  superclusterShare?: number;
  /** The share of deployments on a memory resolver, the JWTs preloaded instead of pushed (default 0). */
  memoryShare?: number;
}

/** The topology of deployment `seed`: drawn from bits of the seed of their own, so that the shapes stay. */
export function topologyFor(
  seed: number,
  o: Pick<FuzzOptions, "cluster" | "clusterShare" | "superclusterShare" | "memoryShare">,
  jetStream: boolean,
): Pick<RunOptions, "nodes" | "clusters" | "resolver"> {
  const share = (bits: number) => (Math.floor(seed / 2 ** bits) % 1000) / 1000;
  const memory = share(20) < (o.memoryShare ?? 0) ? { resolver: "memory" as const } : {};
  // JetStream sets on a supercluster: on a 3-node cluster instead (the harness's one-node cluster of
  // [2, 1] exits at start-up with JetStream; measured on 2.15.3, not investigated).
  if (share(10) < (o.superclusterShare ?? 0) && jetStream) return { nodes: 3, ...memory };
  if (share(10) < (o.superclusterShare ?? 0))
    return { nodes: 3, clusters: Math.floor(seed / 2 ** 30) % 2 === 0 ? [2, 1] : [1, 1, 1], ...memory };
  return { nodes: o.cluster || (seed % 1000) / 1000 < o.clusterShare ? 3 : 1, ...memory };
}

export interface ReportedDisagreement {
  judge: Disagreement["judge"];
  deployment_seed: number;
  nodes: number;
  /** "1 node", "3 nodes", "supercluster 2+1", with ", memory resolver". */
  topology: string;
  import: {
    account: string;
    name: string;
    type: string;
    from: string;
    subject: string;
    local_subject?: string;
    to?: string;
  };
  truth: { node: number; flows: boolean; basis: string; note: string | null }[];
  verdict: { status: string; cause: string | null; message: string | null };
  /** The documented open class it belongs to, or null: a new finding. */
  open_class: string | null;
  scenario: string | null;
  /** Whether a second run of the deployment showed it again (null: not tried, e.g. an open class). */
  reproduced: boolean | null;
}

export interface FuzzReport {
  seed: number;
  server_version: string;
  deployments: number;
  cluster_deployments: number;
  /** Of those on a cluster, on a supercluster. */
  supercluster_deployments: number;
  memory_deployments: number;
  imports: number;
  /** How the truth of the imports came out (first node): carried messages, or not, and on what basis. */
  truth: {
    flows: number;
    no_flow: number;
    by_account_info: number;
    importer_cannot_connect: number;
    undecidable: number;
    /** Judged by the importers' real JetStream consumers. */
    jetstream: number;
  };
  /** Deployments with a JetStream exporter. */
  jetstream_deployments: number;
  push_rejected: number;
  /** Deployments not run: their cluster did not form in time (a loaded machine). */
  not_formed: number;
  /** Memory resolver: JWTs the server would not start with in its preload (left out of it). */
  preload_refused: number;
  /** The engine's verdicts by cause ("active" for none): which decisions the run exercised. */
  engine_causes: Record<string, number>;
  seconds: number;
  disagreements: ReportedDisagreement[];
}

/** A scenario file: a minimised deployment, the import in question, and what the server did. */
export interface ScenarioFile {
  name: string;
  /** "open": a documented, known disagreement; "fixed": the engine agrees now (a regression test). */
  status: "open" | "fixed" | "new";
  open_class?: string;
  note: string;
  found: { run_seed: number; deployment_seed: number; server_version: string };
  judge: Disagreement["judge"];
  nodes: 1 | 3;
  /** A supercluster of clusters of these sizes (overrides `nodes`). */
  clusters?: number[];
  /** "memory": the JWTs preloaded into a memory resolver instead of pushed. */
  resolver?: "full" | "memory";
  seed: number;
  target: Target;
  /** The server's behaviour when found: does the import carry messages? */
  flows: boolean;
  /** The oldest nats-server line the scenario applies to (e.g. a feature flag it sets); replayed from there on. */
  min_server?: string;
  deployment: FuzzDeployment;
}

/** How long a message may take to flow, per node: longer across routes, longer still across gateways. */
export const windowFor = (t: Pick<RunOptions, "nodes" | "clusters">): number =>
  t.clusters ? 2_500 : t.nodes > 1 ? 2_000 : 1_200;

const signature = (d: Disagreement) =>
  `${d.judge}|${d.verdict.cause ?? d.verdict.status}|${d.truth.map((t) => `${t.flows}:${t.basis}`).join(",")}`;

function sameDisagreement(found: Disagreement[], target: Target, like: Disagreement): boolean {
  return found.some(
    (d) =>
      d.account === target.account &&
      d.imp.name === target.name &&
      d.judge === like.judge &&
      d.truth[0]!.flows === like.truth[0]!.flows,
  );
}

/** Greedy shrinking within `tries` real-server runs; returns the smallest deployment still disagreeing. */
async function shrink(
  d: FuzzDeployment,
  seed: number,
  target: Target,
  like: Disagreement,
  opts: RunOptions,
  tries: number,
  deadline: number,
): Promise<{ d: FuzzDeployment; target: Target; opts: RunOptions; reproduced: boolean }> {
  const still = async (cand: FuzzDeployment, t: Target, o: RunOptions) =>
    sameDisagreement((await runDeployment(cand, seed, o)).disagreements, t, like);
  let cur = { d, target, opts };
  if (tries <= 0) return { ...cur, reproduced: false };
  const alone: RunOptions = { ...opts, nodes: 1 };
  delete alone.clusters;
  if (like.judge !== "nodes" && nodeCount(opts) > 1 && (await still(d, target, alone))) cur.opts = alone;
  else if (!(await still(d, target, opts))) return { ...cur, reproduced: false };
  let left = tries - 1;
  let progress = true;
  while (progress && left > 0 && Date.now() < deadline) {
    progress = false;
    for (const cand of reductions(cur.d, cur.target)) {
      if (left-- <= 0 || Date.now() >= deadline) break;
      if (await still(cand.d, cand.target, cur.opts)) {
        cur = { d: cand.d, target: cand.target, opts: cur.opts };
        progress = true;
        break;
      }
    }
  }
  return { ...cur, reproduced: true };
}

function describeImport(d: FuzzDeployment, dis: Disagreement): ReportedDisagreement["import"] {
  const i = dis.imp;
  return {
    account: d.accounts[dis.account]!.name,
    name: i.name,
    type: i.type,
    from: i.from === "system" ? "SYS" : (d.accounts[i.from]?.name ?? `#${i.from}`),
    subject: i.subject,
    ...(i.local_subject !== undefined ? { local_subject: i.local_subject } : {}),
    ...(i.to !== undefined ? { to: i.to } : {}),
  };
}

export async function fuzz(o: FuzzOptions): Promise<FuzzReport> {
  const log = o.log ?? (() => undefined);
  const started = Date.now();
  const deadline = started + o.seconds * 1000;
  const version = await serverVersion();
  const report: FuzzReport = {
    seed: o.seed,
    server_version: version,
    deployments: 0,
    cluster_deployments: 0,
    supercluster_deployments: 0,
    memory_deployments: 0,
    imports: 0,
    truth: { flows: 0, no_flow: 0, by_account_info: 0, importer_cannot_connect: 0, undecidable: 0, jetstream: 0 },
    jetstream_deployments: 0,
    push_rejected: 0,
    not_formed: 0,
    preload_refused: 0,
    engine_causes: {},
    seconds: 0,
    disagreements: [],
  };
  const scenarios = new Map<string, string | null>();
  const reproduced = new Map<string, boolean | null>();
  for (let n = 0; Date.now() < deadline && (o.only === undefined || n === 0); n++) {
    const seed = o.only ?? deploymentSeed(o.seed, n);
    const d = generate(seed, o.jetstreamShare ?? JETSTREAM_SHARE);
    const js = hasJetStream(d);
    const topology = topologyFor(seed, o, js);
    const nodes = nodeCount(topology);
    const runOpts: RunOptions = { ...topology, live: o.live, windowMs: windowFor(topology) };
    const t0 = Date.now();
    let result: Awaited<ReturnType<typeof runDeployment>>;
    try {
      result = await runDeployment(d, seed, runOpts);
    } catch (e) {
      // A cluster that did not form in time says nothing of the deployment: counted, and the run goes on.
      if (!(e instanceof Error && e.message.startsWith("cluster did not form"))) throw e;
      report.not_formed++;
      log(`deployment ${n} (seed ${seed}, ${topologyOf(topology)}): not run, ${e.message.split("\n")[0]}`);
      continue;
    }
    log(
      `deployment ${n} (seed ${seed}, ${topologyOf(topology)}): ${result.imports.length} imports, ${result.disagreements.length} disagreements, ${Date.now() - t0} ms`,
    );
    report.deployments++;
    if (nodes > 1) report.cluster_deployments++;
    if (topology.clusters) report.supercluster_deployments++;
    if (topology.resolver === "memory") report.memory_deployments++;
    if (js) report.jetstream_deployments++;
    report.imports += result.imports.length;
    for (const i of result.imports) {
      const t = i.truth[0]!;
      report.truth[t.flows ? "flows" : "no_flow"]++;
      if (t.basis === "account-info") report.truth.by_account_info++;
      if (t.basis === "importer-cannot-connect") report.truth.importer_cannot_connect++;
      if (t.basis === "undecidable") report.truth.undecidable++;
      if (t.basis === "jetstream") report.truth.jetstream++;
      const cause = i.engine.cause ?? i.engine.status;
      report.engine_causes[cause] = (report.engine_causes[cause] ?? 0) + 1;
    }
    report.push_rejected += result.pushRejected;
    report.preload_refused += result.preloadRefused;
    for (const dis of result.disagreements) {
      const open = openClassOf(dis, d);
      const sig = `${signature(dis)}|${open ?? "new"}`;
      if (open) scenarios.set(sig, join("test", "fuzz", "scenarios", openScenario(open)));
      if (!scenarios.has(sig)) {
        scenarios.set(sig, null);
        const target = { account: dis.account, name: dis.imp.name };
        log(`deployment ${n} (seed ${seed}): ${dis.judge} disagrees on ${dis.imp.name} (${sig}); shrinking`);
        const small = await shrink(
          d,
          seed,
          target,
          dis,
          runOpts,
          o.shrinkTries,
          Math.max(deadline, Date.now() + 20_000),
        );
        const file: ScenarioFile = {
          name: `${dis.judge}-${dis.verdict.cause ?? dis.verdict.status}-${dis.truth[0]!.flows ? "flows" : "no-flow"}-${seed.toString(16)}-${scenarios.size}`,
          status: open ? "open" : "new",
          ...(open ? { open_class: open } : {}),
          note: small.reproduced ? "" : "did not reproduce on a second run (not shrunk)",
          found: { run_seed: o.seed, deployment_seed: seed, server_version: version },
          judge: dis.judge,
          nodes: small.opts.nodes,
          ...(small.opts.clusters ? { clusters: small.opts.clusters } : {}),
          ...(small.opts.resolver === "memory" ? { resolver: "memory" as const } : {}),
          seed,
          target: small.target,
          flows: dis.truth[0]!.flows,
          deployment: small.d,
        };
        mkdirSync(o.outDir, { recursive: true });
        const path = join(o.outDir, `${file.name}.json`);
        writeFileSync(path, `${JSON.stringify(file, null, 2)}\n`);
        scenarios.set(sig, path);
        reproduced.set(sig, o.shrinkTries > 0 ? small.reproduced : null);
        log(`  -> ${path}${small.reproduced ? "" : " (did not reproduce)"}`);
      }
      report.disagreements.push({
        judge: dis.judge,
        deployment_seed: seed,
        nodes,
        topology: topologyOf(topology),
        import: describeImport(d, dis),
        truth: dis.truth,
        verdict: dis.verdict,
        open_class: open,
        scenario: scenarios.get(sig) ?? null,
        reproduced: reproduced.get(sig) ?? null,
      });
    }
  }
  report.seconds = Math.round((Date.now() - started) / 1000);
  return report;
}
