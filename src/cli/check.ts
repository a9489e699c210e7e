/**
 * `nats-insights check`: the offline audit, a CI gate to run before `nsc push`.
 * Exit 0: every import active (warnings allowed); 1: an import is inactive or undetermined, or an account JWT would
 * not load; 2: usage or configuration error.
 */
import { parseArgs } from "node:util";
import { ConfigError } from "../config.js";
import { summarize } from "../core/report.js";
import { audit, type AuditReport } from "./audit.js";
import { painter, renderReport } from "./render.js";
import {
  isLive,
  liveConnection,
  oneSource,
  readServerViews,
  readSource,
  SERVERS_USAGE,
  SOURCE_OPTIONS,
} from "./sources.js";

export const CHECK_USAGE = `Usage: nats-insights check [source] [filters] [--json]
Sources (default: the nsc store nsc is configured with, as \`nsc env\` shows it):
  --nsc-store DIR          an nsc store (the stores directory, or one operator's directory)
  --jwt-dir DIR            a directory of account JWTs, e.g. a full resolver's directory
    --operator-jwt FILE    the operator JWT to trust (else an operator JWT in DIR)
  --audit-archive FILE     an archive \`nats audit gather\` wrote: its account JWTs and the servers'
                           views of them, judged as of its capture
  --server URL             a live deployment, through $SYS (system-account credentials)
  --context NAME|FILE      a live deployment through a natscli context ($NATS_CONTEXT fills gaps)
    --creds FILE           the system-account user's creds file ($NATS_CREDS)
    --nkey FILE | --user U --password P | --token T    other credentials ($NATS_NKEY, ...)
    --tls-ca FILE --tls-cert FILE --tls-key FILE --tls-first    TLS ($NATS_CA, $NATS_CERT, $NATS_KEY)
${SERVERS_USAGE}
Filters and output:
  --account KEY|NAME       only this importing account
  --status active|inactive|warning|undetermined
  --expiry-warning-days N  warn about tokens expiring within N days (default 7)
  --json                   the report as JSON (the same ImportDiagnosis objects as the service)
Exit status: 0 all imports active, 1 an import is inactive or undetermined (an import cycle: only
the servers say which import they refuse; add --server) or an account JWT is unusable,
2 a usage, configuration, connection or credential error (no verdict).`;

const STATUSES = ["active", "inactive", "warning", "undetermined"];

interface Io {
  stdout: NodeJS.WriteStream | { write(s: string): boolean; isTTY?: boolean };
  stderr: NodeJS.WriteStream | { write(s: string): boolean; isTTY?: boolean };
  env: NodeJS.ProcessEnv;
}

export async function runCheck(argv: string[], io: Io): Promise<number> {
  const { values } = parseCheckArgs(argv);
  const status = values["status"];
  if (status !== undefined && !STATUSES.includes(status))
    throw new ConfigError(`--status must be one of ${STATUSES.join(", ")}, got "${status}"`);
  const days = Number(values["expiry-warning-days"] ?? "7");
  if (!Number.isFinite(days) || days <= 0) throw new ConfigError(`--expiry-warning-days must be a positive number`);
  const progress = (text: string) => io.stderr.isTTY && io.stderr.write(`\r${text}\x1b[K`);
  const deployments = await readSource(values, io.env, progress, (text) => io.stderr.write(`nats-insights: ${text}\n`));
  const accounts = deployments.reduce((n, d) => n + d.accounts.length, 0);
  if (accounts >= 1000) progress(`evaluating ${accounts} accounts…`);
  const at = deployments[0]?.asOf ?? new Date();
  const account = values["account"] ? { account: values["account"] } : {};
  let all = audit(deployments, at, days * 86400, account);
  // The JWTs leave an import of a cycle undetermined: on a live deployment, ask the servers which they refuse.
  const undetermined = all.imports.filter((d) => d.status === "undetermined");
  if (undetermined.length > 0 && isLive(values)) {
    const ids = [...new Set(undetermined.flatMap((d) => [d.account, d.source_account]))];
    const serverViews = await readServerViews(liveConnection(values, io.env), ids);
    all = audit(
      deployments.map((d) => ({ ...d, serverViews })),
      at,
      days * 86400,
      account,
    );
  }
  const shown = status ? all.imports.filter((d) => d.status === status) : all.imports;
  const report = { ...all, summary: summarize(all.summary.accounts, shown), imports: shown };
  if (io.stderr.isTTY && accounts >= 1000) io.stderr.write("\r\x1b[K");
  io.stdout.write(
    values["json"]
      ? `${JSON.stringify(report, null, 2)}\n`
      : `${renderReport(report, painter(!!io.stdout.isTTY && !io.env["NO_COLOR"]))}\n`,
  );
  return exitCode(report);
}

export function exitCode(report: AuditReport): number {
  return report.summary.inactive > 0 || report.summary.undetermined > 0 || report.account_errors.length > 0 ? 1 : 0;
}

function parseCheckArgs(argv: string[]) {
  try {
    const parsed = parseArgs({
      args: argv,
      options: {
        ...SOURCE_OPTIONS,
        account: { type: "string" },
        status: { type: "string" },
        "expiry-warning-days": { type: "string" },
        json: { type: "boolean" },
      },
      strict: true,
      allowPositionals: false,
    });
    oneSource(parsed.values);
    return parsed;
  } catch (e) {
    if (e instanceof ConfigError) throw e;
    throw new ConfigError((e as Error).message.split("\n")[0]);
  }
}
