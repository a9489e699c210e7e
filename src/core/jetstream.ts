/**
 * JetStream shared across accounts: the set of imports an application needs to use another
 * account's consumer, and what is missing from a set. Measured on nats-server 2.10, 2.12 and 2.15
 * (docs/decisions.md, "JetStream across accounts"):
 *
 *  - A pull (fetch) is a request on `$JS.API.CONSUMER.MSG.NEXT.<stream>.<consumer>` through a
 *    service import. The messages come back as responses, so the export must answer with more than
 *    one message (response type Stream or Chunked): with the default Singleton a fetch gets the
 *    first message only.
 *  - Every message carries the reply subject `$JS.ACK.<stream>.<consumer>.…` unchanged: the importer's
 *    client acks on that literal subject in its own account, so an ack reaches the consumer only
 *    through a service import of `$JS.ACK.<stream>.<consumer>.>` under the same local subject.
 *    Without one, acks are dropped without an error and every message is redelivered.
 *  - Clients look a consumer up before pulling (`$JS.API.CONSUMER.INFO.<stream>.<consumer>`).
 *  - A push consumer delivers to a subject of the exporter's account: it reaches the importer only
 *    through a stream import of that subject. Acks need `$JS.ACK`, flow control `$JS.FC` imports.
 *
 * The server's JetStream answers these subjects in the exporter's account, so which imports are
 * active decides, not who subscribes. Pure: the importer's imports and their verdicts in, gaps out.
 */
import type { ExportClaim, ImportClaim } from "./jwt/claims.js";
import { isSubsetMatch } from "./subject.js";
import { exporterSubject } from "./validate.js";

/** One consumer (or a wildcard set of them): stream and consumer tokens, either may be `*`. */
export interface ConsumerPattern {
  stream: string;
  consumer: string;
  /** The JetStream domain of a domain-qualified API import (`$JS.<domain>.API.…`). */
  domain?: string;
}

export type JetStreamGapKind = "ack" | "consumer_info" | "singleton_response" | "deliver_subject";

export interface JetStreamGap {
  kind: JetStreamGapKind;
  /** The exporter-side subject to import (or, for singleton_response, the export to change). */
  subject: string;
  /** The importer-side subject the import must have. */
  localSubject: string;
  /** An export of the exporter already approves `subject` (then only the import is missing). */
  exported: boolean;
}

/** What an import contributes to a JetStream set, and what the set lacks for it. */
export interface JetStreamSet {
  /** "pull": this import carries fetches; "push": it carries acks or flow control of a push consumer. */
  role: "pull" | "push";
  consumer: ConsumerPattern;
  gaps: JetStreamGap[];
}

/** An active import of the same importer from the same exporter, with the export that approved it. */
export interface ActiveSibling {
  imp: ImportClaim;
  exportClaim: ExportClaim | null;
}

const NEXT = ["$JS", "API", "CONSUMER", "MSG", "NEXT", "*", "*"];
const ACK = ["$JS", "ACK", "*", "*", ">"];
const FC = ["$JS", "FC", "*", "*", ">"];

/** The subject the importer's clients use for a service import (after any local subject). */
export function localSubjectOf(imp: ImportClaim): string {
  if (imp.localSubject) return imp.localSubject;
  return imp.type === "service" && imp.to ? imp.subject : exporterSubject(imp);
}

/**
 * The tokens `pattern` and `template` both match, or null when they match nothing in common. The
 * template's `*` take the pattern's token, a `>` in the pattern takes the rest of the template.
 */
function intersect(pattern: string, template: string[]): string[] | null {
  const tokens = pattern.split(".");
  const out: string[] = [];
  for (let i = 0; i < template.length; i++) {
    const p = tokens[i];
    const t = template[i]!;
    if (p === undefined) return null;
    if (p === ">") return [...out, ...template.slice(i)];
    if (t === ">") return [...out, tokens.slice(i).join(".")];
    if (p === "*") out.push(t);
    else if (t === "*" || t === p) out.push(p);
    else return null;
  }
  return tokens.length === template.length ? out : null;
}

/**
 * The consumers a service import can fetch from (its exporter-side subject against MSG.NEXT), or
 * null. A domain-qualified API (`$JS.<domain>.API.…`) counts too: a server in that JetStream domain
 * maps it onto `$JS.API` in every account, the exporter's included, so a request through the
 * import reaches the consumer (measured, test/fuzz/jetstream.ts); acks keep the plain form.
 */
export function pullConsumers(imp: ImportClaim): ConsumerPattern | null {
  if (imp.type !== "service") return null;
  const subject = exporterSubject(imp);
  const t = intersect(subject, NEXT);
  if (t) return { stream: t[5]!, consumer: t[6]! };
  const domain = domainOf(subject);
  if (domain === null) return null;
  const d = intersect(subject, ["$JS", domain, ...NEXT.slice(1)]);
  return d ? { stream: d[6]!, consumer: d[7]!, domain } : null;
}

/**
 * The domain of a `$JS.<domain>.API.…` subject (a literal token), or null. A domain may be named
 * `API`: a server in it maps `$JS.API.API.CONSUMER.>` onto `$JS.API.CONSUMER.>` like any other
 * domain's (measured on 2.10.29, 2.12.15 and 2.15.2, test/integration/jetstream-domain-api.test.ts).
 */
function domainOf(subject: string): string | null {
  const t = subject.split(".");
  const domain = t[1];
  return t[0] === "$JS" && t[2] === "API" && domain && domain !== "*" && domain !== ">" ? domain : null;
}

/** `$JS.API`, or `$JS.<domain>.API` for a domain-qualified set. */
const apiOf = (c: ConsumerPattern) => (c.domain ? `$JS.${c.domain}.API` : "$JS.API");

/** The consumers whose acks (or flow-control answers) a service import carries to the exporter, or null. */
function replyConsumers(imp: ImportClaim, template: string[]): ConsumerPattern | null {
  if (imp.type !== "service") return null;
  const t = intersect(exporterSubject(imp), template);
  return t ? { stream: t[2]!, consumer: t[3]! } : null;
}

/** `$JS.ACK.<stream>.<consumer>.>`, or `$JS.ACK.>` for every consumer. */
export function ackSubject(c: ConsumerPattern): string {
  return c.stream === "*" && c.consumer === "*" ? "$JS.ACK.>" : `$JS.ACK.${c.stream}.${c.consumer}.>`;
}

export function infoSubject(c: ConsumerPattern): string {
  return `${apiOf(c)}.CONSUMER.INFO.${c.stream}.${c.consumer}`;
}

/**
 * Does an active service import carry `subject` from the importer's `local` to the exporter's
 * `subject`? `unrenamed`: only an import that keeps the subject as it is (acks, flow control).
 * For a set of consumers (a wildcard pull import) it must carry them all: the importer can fetch
 * from any of them (measured: through `$JS.API.>` with one consumer's ack import, the acks for
 * that consumer are applied and those for another it fetches from are not).
 */
function carries(siblings: ActiveSibling[], subject: string, local: string, unrenamed = false): boolean {
  return siblings.some(
    ({ imp }) =>
      imp.type === "service" &&
      isSubsetMatch(subject, exporterSubject(imp)) &&
      isSubsetMatch(local, localSubjectOf(imp)) &&
      (!unrenamed || sameMapping(imp)),
  );
}

/** Acks are published on the exporter's subject itself: only an import that does not rename it carries them. */
const sameMapping = (imp: ImportClaim): boolean => localSubjectOf(imp) === exporterSubject(imp);

/**
 * Where the importer's clients reach the exporter's JetStream API, judging by a pull import's
 * local subject (`JS.X.API.CONSUMER.MSG.NEXT.S.C` → `JS.X.API`); the API's own prefix when the
 * import does not keep the API's tail.
 */
export function localApiPrefix(imp: ImportClaim): string {
  const domain = domainOf(exporterSubject(imp));
  const api = domain ? `$JS.${domain}.API` : "$JS.API";
  const remote = exporterSubject(imp).split(".");
  const local = localSubjectOf(imp).split(".");
  const tail = remote.slice(domain ? 3 : 2);
  const keeps = local.length >= tail.length && tail.every((t, i) => local[local.length - tail.length + i] === t);
  return keeps ? local.slice(0, local.length - tail.length).join(".") || api : api;
}

/**
 * What a JetStream import lacks, given the importer's other active imports from the same exporter
 * (`siblings`, this one included) and whether an export of the exporter approves a subject. Null
 * when the import is no JetStream consumer import or the set is complete.
 */
export function jetStreamSet(
  imp: ImportClaim,
  exportClaim: ExportClaim | null,
  siblings: ActiveSibling[],
  exported: (type: "stream" | "service", subject: string) => boolean,
): JetStreamSet | null {
  const pull = pullConsumers(imp);
  if (pull) return orNull({ role: "pull", consumer: pull, gaps: pullGaps(imp, exportClaim, pull, siblings, exported) });
  const push = replyConsumers(imp, ACK) ?? replyConsumers(imp, FC);
  if (push && sameMapping(imp)) return orNull({ role: "push", consumer: push, gaps: pushGaps(imp, push, siblings) });
  return null;
}

const orNull = (set: JetStreamSet): JetStreamSet | null => (set.gaps.length > 0 ? set : null);

function pullGaps(
  imp: ImportClaim,
  exportClaim: ExportClaim | null,
  c: ConsumerPattern,
  siblings: ActiveSibling[],
  exported: (type: "stream" | "service", subject: string) => boolean,
): JetStreamGap[] {
  const gaps: JetStreamGap[] = [];
  const rt = exportClaim?.responseType ?? "Singleton";
  if (exportClaim && rt !== "Stream" && rt !== "Chunked") {
    gaps.push({
      kind: "singleton_response",
      subject: exportClaim.subject,
      localSubject: localSubjectOf(imp),
      exported: true,
    });
  }
  const prefix = localApiPrefix(imp);
  const info = infoSubject(c);
  const infoLocal = `${prefix}.CONSUMER.INFO.${c.stream}.${c.consumer}`;
  if (!carries(siblings, info, infoLocal))
    gaps.push({ kind: "consumer_info", subject: info, localSubject: infoLocal, exported: exported("service", info) });
  const ack = ackSubject(c);
  if (!carries(siblings, ack, ack, true))
    gaps.push({ kind: "ack", subject: ack, localSubject: ack, exported: exported("service", ack) });
  return gaps;
}

/**
 * An ack or flow-control import for consumers this set cannot pull from serves a push consumer:
 * its messages arrive only through a stream import of its deliver subject, which the JWTs do not
 * name, so any active stream import from the exporter is taken as that subject.
 */
function pushGaps(imp: ImportClaim, c: ConsumerPattern, siblings: ActiveSibling[]): JetStreamGap[] {
  // Acks for consumers another import fetches from (some of them, for a wildcard ack import) are a pull set's.
  const pulled = siblings.some((s) => {
    const p = s.imp !== imp ? pullConsumers(s.imp) : null;
    return p !== null && meets(p, c);
  });
  if (pulled) return [];
  if (siblings.some((s) => s.imp.type !== "service")) return [];
  return [
    { kind: "deliver_subject", subject: "<deliver subject>", localSubject: "<deliver subject>", exported: false },
  ];
}

/** Do patterns `a` and `b` match some consumer in common? */
const meets = (a: ConsumerPattern, b: ConsumerPattern): boolean =>
  (a.stream === "*" || b.stream === "*" || a.stream === b.stream) &&
  (a.consumer === "*" || b.consumer === "*" || a.consumer === b.consumer);
