/**
 * `nats-insights history --account X [--subject S] [--since T]`: when an account's imports changed
 * and what triggered each change, asked of a running service (insights.imports.history) as any
 * client would: with a system-account user, or a tenant's user through the service import of the
 * endpoint (then only its own account). Exit 0 when answered, 2 on any error.
 */
import { parseArgs } from "node:util";
import type { NatsConnection } from "@nats-io/nats-core";
import { ConfigError } from "../config.js";
import type { HistoryEntry } from "../core/history.js";
import { connectOrFail } from "../shell/connection.js";
import { CONNECTION_OPTIONS, liveConnection } from "./sources.js";

export const HISTORY_USAGE = `Usage: nats-insights history --account ACCOUNT [--subject SUBJECT] [--since WHEN] [--json]
  When ACCOUNT's imports changed (status, cause) and what triggered each change, oldest first, from
  a running service (insights.imports.history). WHEN: an ISO 8601 instant with a zone, or a
  duration before now (90s, 15m, 6h, 7d). Connect as for check: --server URL (or NATS_URL),
  --context NAME, --creds FILE...; a system-account user, or a tenant (its own account only).
  --timeout-ms N   how long the service is waited for (default 5000)`;

const SUBJECT = "insights.imports.history";
/** Entries asked for per request; the reply says when more follow. */
const PAGE = 1000;

interface Io {
  stdout: { write(s: string): boolean };
  env: NodeJS.ProcessEnv;
}

interface HistoryReply {
  account: string;
  account_name: string | null;
  entries: HistoryEntry[];
  total: number;
  offset: number;
  truncated: boolean;
  retention: { kept_in: string; oldest: string | null };
}

export async function runHistory(argv: string[], io: Io): Promise<number> {
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs({
      args: argv,
      options: {
        account: { type: "string" },
        subject: { type: "string" },
        since: { type: "string" },
        json: { type: "boolean" },
        "timeout-ms": { type: "string" },
        ...CONNECTION_OPTIONS,
      },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (e) {
    throw new ConfigError((e as Error).message.split("\n")[0]);
  }
  const account = values["account"];
  if (typeof account !== "string" || account === "")
    throw new ConfigError("give --account (a public key or a JWT name)");
  const timeout = Number(values["timeout-ms"] ?? "5000");
  if (!Number.isInteger(timeout) || timeout <= 0 || timeout > 120_000)
    throw new ConfigError(`--timeout-ms must be a whole number of milliseconds up to 120000`);
  const request = {
    account,
    ...(values["subject"] !== undefined ? { subject: values["subject"] } : {}),
    ...(values["since"] !== undefined ? { since: values["since"] } : {}),
  };
  const settings = liveConnection({ ...values, server: values["server"] ?? io.env["NATS_URL"] }, io.env);
  const nc = await connectOrFail(settings, "nats-insights-history");
  try {
    const reply = await allPages(nc, request, timeout);
    io.stdout.write(values["json"] ? `${JSON.stringify(reply, null, 2)}\n` : render(reply));
  } finally {
    await nc.close();
  }
  return 0;
}

/** Every page of the answer, as one reply. */
async function allPages(nc: NatsConnection, request: Record<string, unknown>, timeout: number): Promise<HistoryReply> {
  const first = await ask(nc, { ...request, limit: PAGE }, timeout);
  const entries = [...first.entries];
  while (entries.length < first.total) {
    const next = await ask(nc, { ...request, limit: PAGE, offset: entries.length }, timeout);
    if (next.entries.length === 0) break; // the history moved on under us: what we have is the answer
    entries.push(...next.entries);
  }
  return { ...first, entries, offset: 0, truncated: entries.length < first.total };
}

async function ask(nc: NatsConnection, body: Record<string, unknown>, timeout: number): Promise<HistoryReply> {
  let msg;
  try {
    msg = await nc.request(SUBJECT, JSON.stringify(body), { timeout });
  } catch (e) {
    const text = (e as Error).message;
    throw new ConfigError(
      /no responders|503/i.test(text)
        ? `no nats-insights service answers ${SUBJECT} here (is it running, and is this a system-account user or a tenant that imports the endpoint?)`
        : `${SUBJECT}: ${text}`,
    );
  }
  const code = msg.headers?.get("Nats-Service-Error-Code");
  if (code) throw new ConfigError(`${SUBJECT} (${code}): ${msg.headers?.get("Nats-Service-Error") ?? "error"}`);
  return msg.json<HistoryReply>();
}

function render(reply: HistoryReply): string {
  const who = reply.account_name ? `${reply.account_name} (${reply.account})` : reply.account;
  const lines = [`History of ${who}'s imports: ${reply.entries.length} change(s), kept in ${reply.retention.kept_in}`];
  for (const e of reply.entries) {
    const from = e.source_account_name ?? e.source_account;
    const before = e.previous_status === null ? "(first seen)" : verdict(e.previous_status, e.previous_cause);
    const after = e.removed ? `removed (${e.removed})` : verdict(e.status, e.cause);
    lines.push(`${e.at}  ${e.type} ${e.subject} from ${from}: ${before} -> ${after}  by ${triggerText(e.trigger)}`);
  }
  if (reply.truncated) lines.push("(more changes than could be read: ask with --since)");
  return `${lines.join("\n")}\n`;
}

function verdict(status: string, cause: string | null): string {
  return cause ? `${status} ${cause}` : status;
}

function triggerText(t: HistoryEntry["trigger"]): string {
  const who = t.account_name ?? t.account;
  switch (t.kind) {
    case "push":
      return who ? `a push of ${who}` : "a push of another account";
    case "push_rejected":
      return who ? `a push of ${who} the server refused` : "a refused push of another account";
    case "delete":
      return who ? `the deletion of ${who}` : "the deletion of another account";
    case "time":
      return `time: ${t.instant ?? "an exp/nbf instant"} reached`;
    case "resync":
      return `a resync (${t.reason ?? "epoch"})`;
    case "cross_check":
      return "the servers' own view (cross-check)";
    case "start":
      return "the service's start";
  }
}
