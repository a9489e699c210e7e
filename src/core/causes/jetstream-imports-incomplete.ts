import type { JetStreamGap, JetStreamSet } from "../jetstream.js";
import { arg, label, push, reloadImporter, subjectPhrase, type Cause, type CauseContext } from "./cause.js";

/** "consumer pull on stream ORDERS", or "any consumer" for wildcards. */
function consumerPhrase(set: JetStreamSet): string {
  const { stream, consumer } = set.consumer;
  if (stream === "*" && consumer === "*") return "any consumer";
  if (consumer === "*") return `any consumer on stream ${stream}`;
  return `consumer ${consumer} on stream ${stream === "*" ? "(any)" : stream}`;
}

/** What will not work for want of one piece of the set. */
function brokenBy(gap: JetStreamGap, ctx: CauseContext): string {
  const importer = label(ctx.importer);
  switch (gap.kind) {
    case "ack":
      return `acks from ${importer} never reach the consumer and fail without an error: every message is redelivered after the consumer's ack wait (consumers with ack policy none are not affected)`;
    case "consumer_info":
      return `clients in ${importer} that look the consumer up before pulling (nats.js consumers.get) get no answer`;
    case "singleton_response":
      return `the export "${gap.subject}" answers with one message (response type ${ctx.exportClaim?.responseType ?? "Singleton"}), so a fetch of more than one message delivers only the first`;
    case "deliver_subject":
      return `the push consumer's messages never reach ${importer}: they go to its deliver subject in ${label(ctx.exporter)}, which ${importer} does not import`;
  }
}

function exportCommand(gap: JetStreamGap, ctx: CauseContext): string {
  const service = gap.kind === "deliver_subject" ? "" : " --service";
  return `nsc add export --account ${arg(label(ctx.exporter))} --subject ${arg(gap.subject)}${service}`;
}

function importCommand(gap: JetStreamGap, ctx: CauseContext): string {
  const local = gap.localSubject !== gap.subject ? ` --local-subject ${arg(gap.localSubject)}` : "";
  const service = gap.kind === "deliver_subject" ? "" : " --service";
  return `nsc add import --account ${arg(label(ctx.importer))} --src-account ${ctx.exporter.id} --remote-subject ${arg(gap.subject)}${service}${local}`;
}

function remediation(ctx: CauseContext): string[] {
  const gaps = ctx.jetstream?.gaps ?? [];
  const out: string[] = [];
  const deliver = gaps.find((g) => g.kind === "deliver_subject");
  if (deliver)
    out.push(
      `# <deliver subject>: the consumer's deliver subject, as \`nats consumer info\` shows it to ${label(ctx.exporter)}`,
    );
  const exports = gaps.filter((g) => g.kind !== "singleton_response" && !g.exported);
  const singleton = gaps.find((g) => g.kind === "singleton_response");
  out.push(...exports.map((g) => exportCommand(g, ctx)));
  if (singleton)
    out.push(
      `nsc edit export --account ${arg(label(ctx.exporter))} --subject ${arg(singleton.subject)} --response-type Stream`,
    );
  if (exports.length > 0 || singleton) out.push(push(ctx.exporter));
  const imports = gaps.filter((g) => g.kind !== "singleton_response");
  out.push(...imports.map((g) => importCommand(g, ctx)));
  // A new response type reaches an import only when the server adds it again.
  if (imports.length > 0) out.push(push(ctx.importer));
  else out.push(...reloadImporter(ctx));
  return out;
}

export const jetStreamImportsIncomplete: Cause = {
  code: "jetstream_imports_incomplete",
  status: "warning",
  title: "JetStream import set incomplete",
  explanation:
    "Using another account's consumer takes a set of imports: its API subjects (exported with response type Stream for fetches), the ack subject `$JS.ACK.<stream>.<consumer>.>` under the same name, and for a push consumer a stream import of its deliver subject. The server honours each import alone; with a piece missing, fetch may work while acks are silently dropped, or a push consumer delivers nothing.",
  message: (ctx) => {
    const set = ctx.jetstream;
    if (!set) return `${subjectPhrase(ctx)} is part of an incomplete set of JetStream imports.`;
    const uses =
      set.role === "pull"
        ? `lets ${label(ctx.importer)} fetch from ${consumerPhrase(set)}`
        : `carries ${label(ctx.importer)}'s acks for ${consumerPhrase(set)}, a push consumer`;
    const works = set.role === "pull" ? "Fetching works, but" : "The import is active, but";
    return `${subjectPhrase(ctx)} ${uses}. ${works} ${set.gaps.map((g) => brokenBy(g, ctx)).join("; ")}.`;
  },
  remediation,
};
