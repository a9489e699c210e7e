/**
 * JetStream shared across accounts in fuzz deployments: an exporter with JetStream (limits in its
 * JWT), one stream and a pull and a push consumer for each importer, exports of its API, ack,
 * flow-control and deliver subjects, and importers declaring random subsets of the imports that
 * sharing needs (complete, missing the ack or the deliver subject, a wildcard API import, a domain
 * API, wrong subjects, token-required exports).
 *
 * The truth is what the importer's real nats.js consumers get, read back from the exporter's
 * consumer info (test/support/jetstream.ts does the same for the hand-written scenarios): consumer
 * info through the importer's prefix, a fetch of 2 (and how many the consumer delivered), whether
 * the importer's double acks were applied, whether the push consumer sees the importer's interest
 * (`push_bound`) and delivers. Each import the probes isolate gets what the engine should say:
 * inactive or not, and for a warning the pieces of the set that are missing.
 */
import { AckPolicy, StorageType, jetstream, jetstreamManager, type JsMsg } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/nats-core";
import { isSubsetMatch, isValidSubject } from "../../src/core/subject.js";
import type { TestAccount } from "../support/deployment.js";
import { connectAs, type Reachable } from "../support/nats-server.js";
import type { FuzzAccount, FuzzConsumer, FuzzDeployment, FuzzExport, FuzzImport, Rng } from "./model.js";

export const STREAM = "S";
const STREAM_SUBJECTS = "jsq.>";
const DOMAIN = "hub";
/** Messages in the stream; a fetch asks for all of them. */
const MESSAGES = 2;

/** Where an importer reaches the exporter's API: its imports' local prefix. */
export const apiPrefixOf = (importer: string) => `JS.${importer}.API`;
const deliverOf = (consumer: string) => `deliver.${consumer}`;
const ackLiteral = (consumer: string) => `$JS.ACK.${STREAM}.${consumer}.1.1.1.1.0`;
const pullName = (importer: string) => `P${importer}`;
/** A second pull consumer the importer's imports never name: a wildcard API import can fetch from it too. */
const otherName = (importer: string) => `Q${importer}`;
const pushName = (importer: string) => `H${importer}`;

export const hasJetStream = (d: FuzzDeployment) => d.accounts.some((a) => a.jetstream);

// ---------------------------------------------------------------------------------------------
// Generator
// ---------------------------------------------------------------------------------------------

function maybeToken(r: Rng, e: FuzzExport): FuzzExport {
  return r.chance(0.12) ? { ...e, token_req: true } : e;
}

/** The exporter's exports: its API (whole or per subject, plain or in the domain), acks, flow control, deliver subjects. */
function jetStreamExports(r: Rng, apiBase: string): FuzzExport[] {
  const responseType = r.pick([undefined, "Stream", "Stream", "Chunked"] as const);
  const rt = responseType ? { response_type: responseType } : {};
  const out: FuzzExport[] = [];
  if (r.chance(0.8)) out.push(maybeToken(r, { type: "service", subject: `${apiBase}.>`, ...rt }));
  else {
    out.push(maybeToken(r, { type: "service", subject: `${apiBase}.CONSUMER.MSG.NEXT.${STREAM}.*`, ...rt }));
    out.push(maybeToken(r, { type: "service", subject: `${apiBase}.CONSUMER.INFO.${STREAM}.*` }));
  }
  if (r.chance(0.85)) out.push(maybeToken(r, { type: "service", subject: "$JS.ACK.>" }));
  if (r.chance(0.3)) out.push(maybeToken(r, { type: "service", subject: "$JS.FC.>" }));
  if (r.chance(0.85)) out.push(maybeToken(r, { type: "stream", subject: "deliver.>" }));
  return out;
}

/** The imports one importer declares: a random subset of what sharing its two consumers takes. */
function jetStreamImports(
  r: Rng,
  importer: string,
  apiBase: string,
  push: boolean,
  name: () => string,
): Omit<FuzzImport, "from">[] {
  const prefix = apiPrefixOf(importer);
  // Now and then the API of the other form (the domain's when the export is plain, and back).
  const base = r.chance(0.1) ? (apiBase === "$JS.API" ? `$JS.${DOMAIN}.API` : "$JS.API") : apiBase;
  const service = (subject: string, local?: string) => ({
    name: name(),
    type: "service" as const,
    subject,
    ...(local !== undefined ? { local_subject: local } : {}),
  });
  const out: Omit<FuzzImport, "from">[] = [];
  const shape = r.next();
  const pull = pullName(importer);
  if (shape < 0.45) out.push(service(`${base}.>`, `${prefix}.>`));
  else if (shape < 0.85) {
    const next = `CONSUMER.MSG.NEXT.${STREAM}.${pull}`;
    out.push(service(`${base}.${next}`, `${prefix}.${next}`));
    if (r.chance(0.7)) {
      const info = `CONSUMER.INFO.${STREAM}.${pull}`;
      out.push(service(`${base}.${info}`, `${prefix}.${info}`));
    }
  }
  const ack = r.next();
  let everyAck = false;
  if (ack < 0.2) {
    /* no ack import */
  } else if (ack < 0.3) out.push(service(`$JS.ACK.${STREAM}.X${importer}.>`));
  else if (ack < 0.35) out.push(service(`$JS.ACK.${STREAM}.${pull}.>`, `JS.${importer}.ACK.${STREAM}.${pull}.>`));
  else if (ack < 0.6) {
    out.push(service("$JS.ACK.>"));
    everyAck = true;
  } else out.push(service(`$JS.ACK.${STREAM}.${pull}.>`));
  if (push) {
    const h = pushName(importer);
    const deliver = r.next();
    const stream = (subject: string, local?: string) => ({
      name: name(),
      type: "stream" as const,
      subject,
      ...(local !== undefined ? { local_subject: local } : {}),
    });
    if (deliver < 0.65) out.push(stream(deliverOf(h)));
    else if (deliver < 0.75) out.push(stream(deliverOf(h), `in.${h}`));
    else if (deliver < 0.85) out.push(stream(`deliver.zz${importer}`));
    if (!everyAck && r.chance(0.6)) out.push(service(`$JS.ACK.${STREAM}.${h}.>`));
  }
  return out;
}

/** The export that approves an import's subject (the first, as the generator never overlaps them). */
const exportFor = (exports: FuzzExport[], imp: Omit<FuzzImport, "from">) =>
  exports.find((e) => e.type === imp.type && isSubsetMatch(imp.subject, e.subject));

/**
 * Append a JetStream exporter and 1–3 importers to `d` (new accounts, so the rest of the deployment
 * keeps its shape), perhaps a JetStream domain and the v2 ack format.
 */
export function addJetStream(r: Rng, d: FuzzDeployment): void {
  const e = d.accounts.length;
  if (r.chance(0.25)) d.jetstream_domain = DOMAIN;
  if (r.chance(0.2)) d.js_ack_v2 = true;
  const apiBase = d.jetstream_domain && r.chance(0.6) ? `$JS.${DOMAIN}.API` : "$JS.API";
  const exports = jetStreamExports(r, apiBase);
  const consumers: FuzzConsumer[] = [];
  const exporter: FuzzAccount = {
    name: `J${e}`,
    pushed: true,
    signing_keys: [],
    exports,
    imports: [],
    jetstream: { consumers },
  };
  d.accounts.push(exporter);
  let n = 0;
  const name = () => `j${n++}`;
  for (let k = 1 + r.int(3); k > 0; k--) {
    const importer = `K${d.accounts.length}`;
    const ack = () => (r.chance(0.8) ? ("explicit" as const) : ("none" as const));
    consumers.push({ name: pullName(importer), kind: "pull", ack: ack(), for: importer });
    consumers.push({ name: otherName(importer), kind: "pull", ack: "explicit", for: importer });
    const push = r.chance(0.6);
    if (push) consumers.push({ name: pushName(importer), kind: "push", ack: ack(), for: importer });
    const imports = jetStreamImports(r, importer, apiBase, push, name).map((imp): FuzzImport => {
      const exp = exportFor(exports, imp);
      const token =
        exp?.token_req && r.chance(0.85)
          ? { token: { signer: "identity" as const, subject: exp.subject, to: "importer" as const } }
          : {};
      return { ...imp, from: e, ...token };
    });
    d.accounts.push({ name: importer, pushed: true, signing_keys: [], exports: [], imports });
  }
}

// ---------------------------------------------------------------------------------------------
// Set-up on the server
// ---------------------------------------------------------------------------------------------

/** The exporter's stream with its messages and every consumer it shares. */
export async function createJetStream(server: Reachable, exporter: TestAccount, js: FuzzAccount["jetstream"]) {
  const nc = await connectAs(server, exporter);
  try {
    // On a cluster a node enables JetStream for a pushed account a moment after it stores the JWT.
    const jsm = await retried(() => jetstreamManager(nc));
    // Measured again on each node of a cluster: a stream and consumers as new each time.
    await jsm.streams.delete(STREAM).catch(() => false);
    await jsm.streams.add({ name: STREAM, subjects: [STREAM_SUBJECTS], storage: StorageType.Memory });
    const client = jetstream(nc);
    for (let i = 0; i < MESSAGES; i++) await retried(() => client.publish(`jsq.${i}`, `m${i}`, { msgID: `m${i}` }));
    for (const c of js!.consumers) {
      await jsm.consumers.add(STREAM, {
        durable_name: c.name,
        ack_policy: c.ack === "explicit" ? AckPolicy.Explicit : AckPolicy.None,
        ack_wait: 30_000_000_000,
        ...(c.kind === "push" ? { deliver_subject: deliverOf(c.name) } : {}),
      });
    }
  } finally {
    await nc.close();
  }
}

/**
 * A cluster settles a moment after a push or a new stream: JetStream not yet enabled for the account
 * on the exporter's node, the stream's interest not yet there ("no responders"). Tried again for
 * 10 s; a publish is deduplicated by its message id.
 */
async function retried<T>(step: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      return await step();
    } catch (e) {
      if (Date.now() > deadline) throw e;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Truth: real consumers of the importer
// ---------------------------------------------------------------------------------------------

export interface PullTruth {
  consumer: FuzzConsumer;
  /** `consumers.get()` through the importer's API prefix. */
  info: boolean;
  /** Messages the importer's fetch of all of them got, and how many the consumer delivered. */
  fetched: number;
  delivered: number;
  /** Every double ack of the importer applied (the exporter's ack pending went down by as many); null: no acks to apply. */
  ackApplied: boolean | null;
}

export interface PushTruth {
  consumer: FuzzConsumer;
  /** The exporter's consumer saw the importer's interest on its deliver subject. */
  bound: boolean;
  delivered: number;
  ackApplied: boolean | null;
}

export interface JetStreamTruth {
  pull: PullTruth | null;
  /** The consumer no import names, probed when an import can fetch from it (a wildcard API import). */
  other: PullTruth | null;
  push: PushTruth | null;
}

async function exporterInfo(nc: NatsConnection, consumer: string) {
  return (await jetstreamManager(nc)).consumers.info(STREAM, consumer);
}

async function ackAll(messages: JsMsg[]): Promise<void> {
  for (const m of messages) await m.ackAck({ timeout: 2_000 }).catch(() => false);
}

/** Fetch from the importer's pull consumer, ack what came, read the consumer's view after each step. */
async function probePull(
  imp: NatsConnection,
  exp: NatsConnection,
  prefix: string,
  c: FuzzConsumer,
): Promise<PullTruth> {
  const client = jetstream(imp, { apiPrefix: prefix, timeout: 2_000 });
  const info = await client.consumers.get(STREAM, c.name).then(
    () => true,
    () => false,
  );
  const consumer = client.consumers.getConsumerFromInfo(await exporterInfo(exp, c.name));
  const messages: JsMsg[] = [];
  try {
    // A fetch that reaches the consumer gets its messages at once; one that does not has nothing to wait for.
    const iter = await consumer.fetch({ max_messages: MESSAGES, expires: 1_500 });
    for await (const m of iter) messages.push(m);
  } catch {
    /* a fetch ended early ("heartbeats missed" after a Singleton response): what arrived counts */
  }
  const before = await exporterInfo(exp, c.name);
  let ackApplied: boolean | null = null;
  if (c.ack === "explicit" && messages.length > 0) {
    await ackAll(messages);
    await imp.flush();
    const after = await exporterInfo(exp, c.name);
    ackApplied = after.num_ack_pending === before.num_ack_pending - messages.length;
  }
  return { consumer: c, info, fetched: messages.length, delivered: before.delivered.consumer_seq, ackApplied };
}

/** Does the exporter's account have a subscription (an importer's, through a stream import) on `subject`? */
async function interest(server: JetStreamServer, exporter: TestAccount, subject: string): Promise<boolean> {
  const res = await fetch(`${server.monitorUrl}/subsz?subs=1&acc=${exporter.id}&test=${encodeURIComponent(subject)}`);
  if (!res.ok) throw new Error(`subsz answered ${res.status}`);
  return ((await res.json()) as { total?: number }).total! > 0;
}

/**
 * Bind to the push consumer's deliver subject as the importer sees it. Interest is the server's
 * condition for delivering at all: when the exporter's account has no subscription on the deliver
 * subject after the importer subscribed, nothing can arrive and nothing is waited for; when it has
 * one, the consumer learns of it (push_bound) and delivers.
 */
async function probePush(
  server: JetStreamServer,
  exporter: TestAccount,
  imp: NatsConnection,
  exp: NatsConnection,
  prefix: string,
  deliver: string,
  c: FuzzConsumer,
): Promise<PushTruth> {
  const consumer = await jetstream(imp, { apiPrefix: prefix }).consumers.getBoundPushConsumer({
    deliver_subject: deliver,
  });
  const iter = await consumer.consume();
  await imp.flush();
  let bound = false;
  if (await interest(server, exporter, deliverOf(c.name))) {
    const deadline = Date.now() + 10_000;
    while (!(bound = (await exporterInfo(exp, c.name)).push_bound === true) && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 50));
  }
  const messages: JsMsg[] = [];
  if (bound) {
    const timer = setTimeout(() => iter.stop(), 10_000);
    for await (const m of iter) {
      messages.push(m);
      if (messages.length >= MESSAGES) break;
    }
    clearTimeout(timer);
  }
  iter.stop();
  const before = await exporterInfo(exp, c.name);
  let ackApplied: boolean | null = null;
  if (c.ack === "explicit" && messages.length > 0) {
    await ackAll(messages);
    await imp.flush();
    ackApplied = (await exporterInfo(exp, c.name)).num_ack_pending === before.num_ack_pending - messages.length;
  }
  return { consumer: c, bound, delivered: messages.length, ackApplied };
}

/** The importer's local subject of a push consumer's deliver subject (its stream import), or the subject itself. */
function deliverLocal(imports: FuzzImport[], consumer: string): string {
  const subject = deliverOf(consumer);
  const imp = imports.find(
    (i) => i.type === "stream" && isValidSubject(i.subject) && isSubsetMatch(subject, i.subject),
  );
  return imp?.local_subject ?? subject;
}

/** The real consumers' truth for one importer of `exporter`'s JetStream. */
/** The server the JetStream probes run on: clients connect to `url`, interest is read from `monitorUrl`. */
export type JetStreamServer = Reachable & { monitorUrl: string };

export async function measureJetStream(
  server: JetStreamServer,
  exporter: TestAccount,
  importer: TestAccount,
  model: FuzzAccount,
  consumers: FuzzConsumer[],
  /** Where the exporter's client connects (on a cluster, another node than the importer's); default `server`. */
  exporterServer: Reachable = server,
): Promise<JetStreamTruth> {
  const prefix = apiPrefixOf(model.name);
  const imp = await connectAs(server, importer);
  const exp = await connectAs(exporterServer, exporter);
  try {
    const pullC = consumers.find((c) => c.name === pullName(model.name));
    const otherC = consumers.find((c) => c.name === otherName(model.name));
    const pushC = consumers.find((c) => c.kind === "push" && c.for === model.name);
    const reachable = (c: FuzzConsumer) =>
      model.imports.some((i) => i.type === "service" && carries(i, `$JS.API.CONSUMER.MSG.NEXT.${STREAM}.${c.name}`));
    return {
      pull: pullC ? await probePull(imp, exp, prefix, pullC) : null,
      other: otherC && reachable(otherC) ? await probePull(imp, exp, prefix, otherC) : null,
      push: pushC
        ? await probePush(server, exporter, imp, exp, prefix, deliverLocal(model.imports, pushC.name), pushC)
        : null,
    };
  } finally {
    await imp.close();
    await exp.close();
  }
}

// ---------------------------------------------------------------------------------------------
// What the engine should say, import by import
// ---------------------------------------------------------------------------------------------

/**
 * What the truth says of one import. `flows`: the import carries what it is for (null: the probes
 * cannot tell). `gaps`: the pieces of the set a warning must name (`[]`: none, so active; null: not
 * compared); `ignore`: kinds the truth cannot judge (an ack gap for a consumer that takes no acks).
 */
export interface JetStreamExpectation {
  flows: boolean | null;
  gaps: string[] | null;
  ignore: string[];
  note: string;
}

/** Does the import's exporter-side subject carry `literal` (in the plain or a domain API)? */
function carries(imp: FuzzImport, literal: string): boolean {
  if (!isValidSubject(imp.subject)) return false;
  if (isSubsetMatch(literal, imp.subject)) return true;
  const t = imp.subject.split(".");
  return literal.startsWith("$JS.API.") && t.length > 2 && t[1] !== "API" && t[2] === "API"
    ? isSubsetMatch(literal.replace("$JS.API.", `$JS.${t[1]}.API.`), imp.subject)
    : false;
}

const describePull = (p: PullTruth) =>
  `pull ${p.consumer.name} (ack ${p.consumer.ack}): info ${p.info}, fetched ${p.fetched} of ${MESSAGES} (consumer delivered ${p.delivered}), acks applied ${p.ackApplied}`;
const describePush = (p: PushTruth) =>
  `push ${p.consumer.name} (ack ${p.consumer.ack}): bound ${p.bound}, delivered ${p.delivered}, acks applied ${p.ackApplied}`;

/** The expectation for every import of one importer (null where the probes do not isolate it). */
export function expectations(model: FuzzAccount, truth: JetStreamTruth): (JetStreamExpectation | null)[] {
  const { pull, other, push } = truth;
  const note = [pull ? describePull(pull) : null, other ? describePull(other) : null, push ? describePush(push) : null]
    .filter(Boolean)
    .join("; ");
  const services = model.imports.filter((i) => i.type === "service");
  return model.imports.map((imp): JetStreamExpectation | null => {
    const expect = (flows: boolean | null, gaps: string[] | null, ignore: string[] = []) => ({
      flows,
      gaps,
      ignore,
      note,
    });
    if (imp.type === "stream") {
      if (!push || !carries(imp, deliverOf(push.consumer.name))) return null;
      const delivered = push.bound && push.delivered > 0;
      // Messages arrive, but the acks of a consumer that wants them are lost: the set lacks the ack import.
      return expect(delivered, delivered && push.ackApplied === false ? ["ack"] : []);
    }
    const next = pull && `$JS.API.CONSUMER.MSG.NEXT.${STREAM}.${pull.consumer.name}`;
    if (pull && next && carries(imp, next)) {
      const flows = pull.fetched > 0;
      // A wildcard import fetches from the other consumer too: what fails for either is missing.
      const both =
        other && carries(imp, `$JS.API.CONSUMER.MSG.NEXT.${STREAM}.${other.consumer.name}`) ? [pull, other] : [pull];
      const gaps = new Set(
        both.flatMap((p) => [
          ...(p.info ? [] : ["consumer_info"]),
          ...(p.fetched < p.delivered ? ["singleton_response"] : []),
          ...(p.ackApplied === false ? ["ack"] : []),
        ]),
      );
      const ignore = both.every((p) => p.consumer.ack === "none") ? ["ack"] : [];
      return expect(flows, flows ? [...gaps] : null, ignore);
    }
    const info = pull && `$JS.API.CONSUMER.INFO.${STREAM}.${pull.consumer.name}`;
    if (pull && info && carries(imp, info) && services.filter((s) => carries(s, info)).length === 1)
      return expect(pull.info, null);
    // An ack import under another local subject carries nothing (clients ack on the reply subject as
    // it is), yet the server honours it: it is the set's pull import that says acks are missing.
    const renamed = imp.local_subject !== undefined && imp.local_subject !== imp.subject;
    const acksPull = !renamed && pull && carries(imp, ackLiteral(pull.consumer.name));
    const acksPush = !renamed && push && carries(imp, ackLiteral(push.consumer.name));
    const pulls =
      pull !== null && services.some((s) => carries(s, `$JS.API.CONSUMER.MSG.NEXT.${STREAM}.${pull.consumer.name}`));
    if (acksPull && pull.ackApplied !== null) return expect(pull.ackApplied, pulls ? [] : null);
    if (acksPush && !pulls) {
      // The ack import of a push consumer: a warning when its messages cannot arrive.
      const delivered = push.bound && push.delivered > 0;
      return expect(push.ackApplied, delivered ? [] : ["deliver_subject"]);
    }
    return null;
  });
}

/**
 * The pieces a JetStream warning says are missing, read from its remediation the way a user reads
 * it: the imports it adds (by their exporter-side subject) and a response type to change.
 */
export function gapsNamed(remediation: string[], cause: string | null): string[] {
  if (cause !== "jetstream_imports_incomplete") return [];
  const out = new Set<string>();
  for (const line of remediation) {
    if (line.startsWith("nsc edit export") && line.includes("--response-type")) out.add("singleton_response");
    if (!line.startsWith("nsc add import")) continue;
    const subject = line.includes("<deliver subject>")
      ? "<deliver subject>"
      : (/--remote-subject '?([^' ]+)'?/.exec(line)?.[1] ?? "");
    if (subject.startsWith("$JS.ACK.")) out.add("ack");
    else if (subject.includes(".CONSUMER.INFO.")) out.add("consumer_info");
    else if (subject === "<deliver subject>" || !subject.startsWith("$JS.")) out.add("deliver_subject");
    else out.add(`other:${subject}`);
  }
  return [...out];
}
