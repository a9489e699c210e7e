/**
 * The truth of every import of a deployment, measured on real servers.
 *
 * For each import a probe is made: a literal subject the exporter publishes (stream) or answers
 * (service) on, and the literal subject that reaches the importer through this import only. Then,
 * on every node, the importer's client (on that node) and the exporter's client (on the next node,
 * so cluster runs cross a route; in a supercluster on another cluster, across a gateway) send a marked message through it, again and again until it
 * arrives or the time is up.
 *
 * Honesty rules: an importer that cannot connect has no client that an import could serve, so its
 * imports are inactive (with that reason). When the exporter cannot connect, or no literal subject
 * isolates the import (another import of the importer could carry the same message, a mapping we do
 * not model), the server's own account view (`/accountz?acc=`) is asked instead: the import is
 * registered and not marked invalid.
 */
import type { Msg, NatsConnection } from "@nats-io/nats-core";
import { nuid } from "@nats-io/nats-core";
import type { Cluster } from "../support/cluster.js";
import type { TestAccount } from "../support/deployment.js";
import { isSubsetMatch, isValidSubject, subjectsCollide } from "../../src/core/subject.js";
import { wildcards } from "./model.js";
import type { RealizedImport } from "./realize.js";

/**
 * `jetstream`: what the importer's real JetStream consumers did (jetstream.ts).
 * `undecidable`: the server lists one import where the importer declares several identical ones,
 * or the importer's own mappings decide and no probe can isolate the import (`mappingProbe`).
 */
/**
 * `exporter-deleted`: the source account was deleted ($SYS.REQ.CLAIMS.DELETE) and the server refuses
 * its user with exactly "Authorization Violation": the server has disabled it, and nothing crosses
 * its imports, whatever the importer's account view lists (test/integration/deleted-source.test.ts).
 */
export type Basis =
  "flow" | "account-info" | "importer-cannot-connect" | "undecidable" | "jetstream" | "exporter-deleted";

export interface NodeTruth {
  node: number;
  flows: boolean;
  basis: Basis;
  /** Why flow could not be used, or what the server said. */
  note: string | null;
  /** basis "jetstream": the pieces of its set a warning must name (null: not judged; see jetstream.ts). */
  expected_gaps?: string[] | null;
}

interface Probe {
  imp: RealizedImport;
  /** The exporter-side and importer-side subject patterns, as the server reads the claim. */
  exporterPattern: string;
  localPattern: string;
  /** Literal subjects, or null when no probe isolates this import (see `note`). */
  publish: string | null;
  receive: string | null;
  /** A service the server itself answers (imports from the system account's `$SYS.` subjects). */
  serverAnswers: boolean;
  note: string | null;
  /** The importer's own mappings take requests on the local subject: only flow can tell (see `mappingProbe`). */
  mappedByImporter?: boolean;
  /** Neither flow nor the account view can tell: left out of the comparison, with the reason. */
  undecidable?: string;
}

type Mappings = Record<string, { subject: string; weight?: number }[]>;

const mappingsOf = (a: TestAccount): Mappings => (a.claims as { mappings?: Mappings }).mappings ?? {};

/** Every subject a mapping destination can yield, as a pattern: a function or reference is any one token, `>` the rest. */
const destinationPattern = (dest: string) =>
  dest
    .split(".")
    .map((t) => (t.startsWith("{{") || /^\$\d+$/.test(t) ? "*" : t))
    .join(".");

/**
 * An account's subject mappings meet the probe (src/core/mapping.ts models them for the engine):
 * the exporter's move what its client publishes, and where a request through the import lands, so
 * a probe through a mapped exporter subject does not isolate the import and the account view
 * decides. The importer's own mappings of a service import's local subject are what the engine
 * judges: flow decides, unless a mapped request could reach another of the importer's service
 * imports or its own responders (then nothing can tell), or no flow probe exists (the account
 * view lists such an import as valid, which would say nothing).
 */
function mappingProbe(p: Probe, all: RealizedImport[]): Probe {
  const { imp } = p;
  const exporterMapped = Object.keys(mappingsOf(imp.exporter)).find(
    (src) => isValidSubject(src) && p.publish !== null && isSubsetMatch(p.publish, src),
  );
  if (exporterMapped !== undefined && p.publish !== null) {
    p = {
      ...p,
      publish: null,
      receive: null,
      note: `the exporter maps "${exporterMapped}", so its messages (and requests through the import) move`,
    };
  }
  if (imp.claim.type !== "service") return p;
  // The account view lists an import valid whatever becomes of its answers (src/core/replies.ts):
  // with no flow probe, a mapping that can take the replies leaves nothing to judge by.
  const replyMapped =
    Object.keys(mappingsOf(imp.exporter)).find((src) => isValidSubject(src) && subjectsCollide(src, "_R_.*.*")) ??
    Object.keys(mappingsOf(imp.importer)).find((src) => isValidSubject(src) && subjectsCollide(src, "_INBOX.*.*"));
  if (p.publish === null && replyMapped !== undefined)
    return {
      ...p,
      undecidable: `a mapping of "${replyMapped}" can take the answers, and no flow probe isolates this import (${p.note})`,
    };
  const own = mappingsOf(imp.importer);
  const touching = Object.keys(own).filter(
    (src) => isValidSubject(src) && isValidSubject(p.localPattern) && subjectsCollide(src, p.localPattern),
  );
  if (touching.length === 0) return p;
  if (p.publish === null)
    return {
      ...p,
      undecidable: `the importer maps "${touching[0]}" and no flow probe isolates this import (${p.note})`,
    };
  // Two of them on the local subject: the server applies the first it installed, in Go's map order
  // of the JWT's mappings. Where their shares differ the engine says local_subject_mappings_overlap
  // and the judge takes either flow (run.ts); where they agree, the flow is the verdict's.
  // Another of the importer's mappings leading onto the local subject: requests reach the import
  // through that subject (the engine says active), not through the local subject the probe uses.
  const onto = Object.keys(own).find(
    (src) =>
      !touching.includes(src) &&
      own[src]!.some(
        (d) =>
          isValidSubject(destinationPattern(d.subject)) &&
          subjectsCollide(destinationPattern(d.subject), p.localPattern),
      ),
  );
  if (onto !== undefined)
    return {
      ...p,
      undecidable: `the importer maps "${onto}" onto the local subject: requests reach the import through it`,
    };
  const elsewhere = all.filter(
    (o) => o !== imp && o.claim.type === "service" && (o.importer === imp.importer || o.exporter === imp.importer),
  );
  for (const src of touching) {
    for (const d of own[src]!) {
      const pattern = destinationPattern(d.subject);
      // A request moved to another subject inside the import's own local subject still reaches it,
      // but arrives at the exporter on the moved subject, where the probe's responder does not listen.
      if (d.subject !== src && isValidSubject(pattern) && subjectsCollide(pattern, p.localPattern)) {
        return {
          ...p,
          undecidable: `the importer maps "${src}" to "${d.subject}", inside the import's own subjects: the request reaches the exporter on a moved subject`,
        };
      }
      const rival = elsewhere.find((o) => {
        const side = patterns(o.claim)[o.importer === imp.importer ? "local" : "exporter"];
        return isValidSubject(side) && isValidSubject(pattern) && subjectsCollide(pattern, side);
      });
      if (rival)
        return {
          ...p,
          undecidable: `the importer maps "${src}" to "${d.subject}", which ${rival.importer.name}'s import #${rival.index + 1} could carry`,
        };
    }
  }
  return { ...p, mappedByImporter: true };
}

/** The exporter-side and local subject patterns, the way nats-server reads an import claim. */
export function patterns(c: RealizedImport["claim"]): { exporter: string; local: string } {
  if (c.type === "service") {
    if (c.local_subject !== undefined) return { exporter: c.subject, local: c.local_subject };
    return { exporter: c.to ?? c.subject, local: c.subject };
  }
  if (c.local_subject !== undefined) return { exporter: c.subject, local: c.local_subject };
  return {
    exporter: c.subject,
    local: c.to ? `${c.to.endsWith(".") ? c.to.slice(0, -1) : c.to}.${c.subject}` : c.subject,
  };
}

/** Fill the wildcards of `pattern` with fresh tokens; returns the literal and the values in order. */
function instantiate(pattern: string): { literal: string; values: string[] } {
  const values: string[] = [];
  const literal = pattern
    .split(".")
    .map((t) => {
      if (t !== "*" && t !== ">") return t;
      const v = `p${nuid.next().slice(-8).toLowerCase()}`;
      values.push(v);
      return v;
    })
    .join(".");
  return { literal, values };
}

/**
 * Apply a mapping destination the way the server's transform does: `$N` is the source's N-th
 * wildcard, the i-th `*` of the destination stands for `$i`, and `>` for the source's `>`.
 * Null when the mapping is not one every source wildcard takes part in (the server refuses those).
 */
function mapTo(dest: string, values: string[], source: string): string | null {
  const wc = wildcards(source);
  let stars = 0;
  const used = new Set<number>();
  const out: string[] = [];
  for (const t of dest.split(".")) {
    const ref = /^\$(\d+)$/.exec(t);
    const n = ref ? Number(ref[1]) - 1 : t === "*" ? stars++ : t === ">" ? wc.lastIndexOf(">") : null;
    if (n === null) {
      out.push(t);
      continue;
    }
    const v = values[n];
    if (v === undefined || (t === ">" && n !== wc.length - 1)) return null;
    used.add(n);
    out.push(v);
  }
  return used.size === wc.length ? out.join(".") : null;
}

const matchesPattern = (subject: string, pattern: string) => isValidSubject(pattern) && isSubsetMatch(subject, pattern);

const countWildcards = (s: string) => s.split(".").filter((t) => t === "*" || t === ">").length;

function makeProbe(imp: RealizedImport, all: RealizedImport[]): Probe {
  const siblings = all.filter((o) => o.importer === imp.importer);
  const { exporter: x, local: l } = patterns(imp.claim);
  const base = { imp, exporterPattern: x, localPattern: l, serverAnswers: false };
  const none = (note: string): Probe => ({ ...base, publish: null, receive: null, note });
  if (!isValidSubject(x) || !isValidSubject(l)) return none("not a valid subject");
  let publish: string;
  let receive: string;
  if (imp.claim.type === "stream") {
    const inst = instantiate(x);
    publish = inst.literal;
    if (imp.claim.local_subject !== undefined) {
      const mapped = mapTo(l, inst.values, x);
      if (mapped === null) return none("a local subject mapping the probe does not model");
      receive = mapped;
    } else receive = imp.claim.to ? `${imp.claim.to.replace(/\.$/, "")}.${publish}` : publish;
  } else {
    const inst = instantiate(l);
    receive = inst.literal;
    if (x === l) publish = receive;
    else {
      const mapped = mapTo(x, inst.values, l);
      if (mapped === null) return none("a service subject mapping the probe does not model");
      publish = mapped;
    }
  }
  const serverAnswers = imp.exporter === imp.importer.operator.system && x.startsWith("$SYS.");
  if (serverAnswers && countWildcards(l) > 0) return none("a wildcard import of a server service");
  // Another import of the same importer that could deliver to the same subject makes flow ambiguous.
  const rival = siblings.find(
    (o) =>
      o !== imp &&
      o.claim.type === imp.claim.type &&
      isValidSubject(patterns(o.claim).local) &&
      isSubsetMatch(receive, patterns(o.claim).local),
  );
  if (rival) return none(`import #${rival.index + 1} of the importer could carry the same message`);
  if (imp.claim.type === "service") {
    // Responders echo any request: one the importer runs itself, as the exporter of another
    // service import of that subject, would answer this probe without the import.
    const own = all.find(
      (o) =>
        o !== imp &&
        o.exporter === imp.importer &&
        o.claim.type === "service" &&
        matchesPattern(receive, patterns(o.claim).exporter),
    );
    if (own)
      return none(`the importer answers the subject itself, for ${own.importer.name}'s import #${own.index + 1}`);
  }
  if (imp.claim.type === "stream") {
    // A message published in the exporter also leaves it through the exporter's service imports,
    // and through other accounts' stream imports, from where it may reach the importer.
    const matches = (o: RealizedImport, subject: string, side: "local" | "exporter") => {
      const pattern = patterns(o.claim)[side];
      return isValidSubject(pattern) && isSubsetMatch(subject, pattern);
    };
    const detour =
      all.find((o) => o.importer === imp.exporter && o.claim.type === "service" && matches(o, publish, "local")) ??
      all.find(
        (o) =>
          o !== imp &&
          o.exporter === imp.exporter &&
          o.importer !== imp.importer &&
          o.claim.type === "stream" &&
          matches(o, publish, "exporter") &&
          all.some((back) => back.importer === imp.importer && back.exporter === o.importer),
      );
    if (detour)
      return none(
        `the message could reach the importer another way (${detour.importer.name}'s import #${detour.index + 1})`,
      );
  }
  return { ...base, publish, receive, serverAnswers, note: null };
}

export function probes(imports: RealizedImport[]): Probe[] {
  return imports.map((imp) => mappingProbe(makeProbe(imp, imports), imports));
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** One connection per (account, node), opened once; a failure is remembered with its message. */
class Connections {
  private readonly open = new Map<string, Promise<NatsConnection | string>>();
  constructor(private readonly cluster: Cluster) {}
  get(account: TestAccount, node: number): Promise<NatsConnection | string> {
    const key = `${account.id}@${node}`;
    let c = this.open.get(key);
    if (!c) {
      c = this.cluster
        .connect(node, account, { timeout: 10_000 })
        .catch((e: unknown) => (e as Error).message.split("\n")[0]!);
      this.open.set(key, c);
    }
    return c;
  }
  async closeAll(): Promise<void> {
    const all = await Promise.all(this.open.values());
    await Promise.allSettled(all.map((c) => (typeof c === "string" || c.isClosed() ? Promise.resolve() : c.close())));
  }
}

interface ServerImport {
  subject?: string;
  account?: string;
  local_subject?: string;
  type?: string;
  invalid?: boolean;
}

/** The node's own view of an account's imports (`/accountz?acc=`), or null if it has none. */
async function accountImports(cluster: Cluster, node: number, accountId: string): Promise<ServerImport[] | null> {
  const res = await fetch(`${cluster.servers[node]!.monitorUrl}/accountz?acc=${accountId}`);
  if (!res.ok) return null;
  const body = (await res.json()) as { account_detail?: { imports?: ServerImport[] } };
  return body.account_detail ? (body.account_detail.imports ?? []) : null;
}

function registered(list: ServerImport[], p: Probe): ServerImport | undefined {
  const untokenize = (s: string) => s.replace(/\$\d+/g, "*");
  return list.find(
    (s) =>
      s.account === p.imp.exporter.id &&
      s.type === p.imp.claim.type &&
      s.subject === p.exporterPattern &&
      untokenize(s.local_subject ?? "") === untokenize(p.localPattern),
  );
}

/**
 * Where the exporter's client of node `node`'s probes connects: the next node, so that a cluster's
 * flow crosses a route; in a supercluster the next node of another cluster, so that it crosses a
 * gateway (in [2, 1]: 0 -> 2, 1 -> 2, 2 -> 0).
 */
export function exporterNodeFor(cluster: Pick<Cluster, "servers">, node: number): number {
  const n = cluster.servers.length;
  const own = cluster.servers[node]!.cluster;
  for (let k = 1; k < n; k++) if (cluster.servers[(node + k) % n]!.cluster !== own) return (node + k) % n;
  return (node + 1) % n;
}

/** Measure every probe on node `node`; `windowMs` is how long a message may take to flow. */
async function measureOnNode(
  cluster: Cluster,
  all: Probe[],
  node: number,
  windowMs: number,
  conns: Connections,
  deleted: ReadonlySet<string>,
): Promise<NodeTruth[]> {
  const exporterNode = exporterNodeFor(cluster, node);
  const out: (NodeTruth | null)[] = all.map(() => null);
  const active: {
    i: number;
    p: Probe;
    imp: NatsConnection;
    exp: NatsConnection | null;
    marker: string;
    got: boolean;
  }[] = [];
  const byInfo: number[] = [];
  for (const [i, p] of all.entries()) {
    const imp = await conns.get(p.imp.importer, node);
    if (typeof imp === "string") {
      out[i] = { node, flows: false, basis: "importer-cannot-connect", note: imp };
      continue;
    }
    if (p.undecidable) {
      out[i] = { node, flows: false, basis: "undecidable", note: p.undecidable };
      continue;
    }
    // A deleted exporter: only the server's refusal of its user, exactly, proves it disabled.
    if (deleted.has(p.imp.exporter.id)) {
      const refused = await conns.get(p.imp.exporter, exporterNode);
      if (refused === "Authorization Violation") {
        out[i] = { node, flows: false, basis: "exporter-deleted", note: `its user is refused: ${refused}` };
        continue;
      }
    }
    if (p.publish === null || p.receive === null) {
      byInfo.push(i);
      continue;
    }
    const exp = p.serverAnswers ? null : await conns.get(p.imp.exporter, exporterNode);
    if (typeof exp === "string") {
      if (p.mappedByImporter) {
        out[i] = {
          node,
          flows: false,
          basis: "undecidable",
          note: `the importer's mappings decide, and the exporter cannot connect: ${exp}`,
        };
        continue;
      }
      all[i] = { ...p, note: `the exporter cannot connect: ${exp}` };
      byInfo.push(i);
      continue;
    }
    active.push({ i, p, imp, exp, marker: `fuzz-${nuid.next()}`, got: false });
  }
  // Listeners first, then a round-trip on every connection so the server has them all.
  const subs = active.map((a) => {
    if (a.p.imp.claim.type === "stream") {
      return a.imp.subscribe(a.p.receive!, {
        callback: (_e, m: Msg) => void (m.string() === a.marker && (a.got = true)),
      });
    }
    // Responders echo the request: several importers' probes may share the exporter's subject.
    return a.exp?.subscribe(a.p.publish!, { callback: (_e, m: Msg) => void (m.reply && m.respond(m.data)) });
  });
  const used = new Set<NatsConnection>(active.flatMap((a) => (a.exp ? [a.imp, a.exp] : [a.imp])));
  await Promise.all([...used].map((c) => c.flush()));
  const deadline = Date.now() + windowMs;
  while (Date.now() < deadline && active.some((a) => !a.got)) {
    await Promise.all(
      active
        .filter((a) => !a.got)
        .map(async (a) => {
          if (a.p.imp.claim.type === "stream") {
            a.exp!.publish(a.p.publish!, a.marker);
            return;
          }
          try {
            const reply = await a.imp.request(a.p.receive!, a.marker, {
              timeout: Math.max(50, Math.min(400, deadline - Date.now())),
            });
            if (a.p.serverAnswers ? reply.data.length > 0 : reply.string() === a.marker) a.got = true;
          } catch {
            /* no responders or timeout: not (yet) flowing */
          }
        }),
    );
    await Promise.all([...used].map((c) => c.flush().catch(() => undefined)));
    if (active.some((a) => !a.got)) await sleep(60);
  }
  for (const s of subs) s?.unsubscribe();
  for (const a of active) out[a.i] = { node, flows: a.got, basis: "flow", note: null };
  if (byInfo.length > 0) {
    const views = new Map<string, ServerImport[] | null>();
    for (const i of byInfo) {
      const p = all[i]!;
      if (!views.has(p.imp.importer.id))
        views.set(p.imp.importer.id, await accountImports(cluster, node, p.imp.importer.id));
      const view = views.get(p.imp.importer.id) ?? null;
      const found = view ? registered(view, p) : undefined;
      const twins = all.filter(
        (o) => o !== p && o.imp.importer === p.imp.importer && view && registered(view, o) === found,
      );
      const basis = found && twins.length > 0 ? "undecidable" : "account-info";
      out[i] = { node, flows: !!found && !found.invalid, basis, note: p.note };
    }
  }
  return out.map((t) => t!);
}

/**
 * The truth of every import on every node. `windowMs` bounds how long one node's measurement waits
 * for messages that do not come (each inactive import costs that once per node, concurrently).
 */
export async function measure(
  cluster: Cluster,
  imports: RealizedImport[],
  windowMs: number,
  deleted: ReadonlySet<string> = new Set(),
): Promise<NodeTruth[][]> {
  const all = probes(imports);
  const perNode: NodeTruth[][] = [];
  const conns = new Connections(cluster);
  try {
    for (let node = 0; node < cluster.servers.length; node++)
      perNode.push(await measureOnNode(cluster, all, node, windowMs, conns, deleted));
  } finally {
    await conns.closeAll();
  }
  return all.map((_, i) => perNode.map((row) => row[i]!));
}
