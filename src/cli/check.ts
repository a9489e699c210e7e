/**
 * `nats-insights check`: the offline audit, a CI gate to run before `nsc push`.
 * Exit 0: every import active (warnings allowed); 1: an import is inactive or an account JWT would
 * not load; 2: usage or configuration error.
 */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { credsAuthenticator } from "@nats-io/nats-core";
import { connect } from "@nats-io/transport-node";
import { ConfigError } from "../config.js";
import type { ImportStatus } from "../core/diagnosis.js";
import { ResolverClient } from "../shell/resolver.js";
import { audit, type AuditReport } from "./audit.js";
import { painter, renderReport } from "./render.js";
import { defaultNscStore, readJwtDir, readNscStore, type Deployment } from "./sources.js";

export const CHECK_USAGE = `Usage: nats-insights check [source] [filters] [--json]
Sources (default: the nsc store at nsc's default location):
  --nsc-store DIR          an nsc store (the stores directory, or one operator's directory)
  --jwt-dir DIR            a directory of account JWTs, e.g. a full resolver's directory
    --operator-jwt FILE    the operator JWT to trust (else an operator JWT in DIR)
  --server URL             a live deployment, through $SYS (system-account credentials)
    --creds FILE           the system-account user's creds file
Filters and output:
  --account KEY|NAME       only this importing account
  --status active|inactive|warning
  --expiry-warning-days N  warn about tokens expiring within N days (default 7)
  --json                   the report as JSON (the same ImportDiagnosis objects as the service)
Exit status: 0 all imports active, 1 an import is inactive or an account JWT is unusable, 2 usage error.`;

const STATUSES = ["active", "inactive", "warning"];

interface Io {
  stdout: NodeJS.WriteStream | { write(s: string): boolean; isTTY?: boolean };
  stderr: NodeJS.WriteStream | { write(s: string): boolean; isTTY?: boolean };
  env: NodeJS.ProcessEnv;
}

export async function runCheck(argv: string[], io: Io): Promise<number> {
  const { values } = parseCheckArgs(argv);
  const status = values["status"] as string | undefined;
  if (status !== undefined && !STATUSES.includes(status)) throw new ConfigError(`--status must be one of ${STATUSES.join(", ")}, got "${status}"`);
  const days = Number(values["expiry-warning-days"] ?? "7");
  if (!Number.isFinite(days) || days <= 0) throw new ConfigError(`--expiry-warning-days must be a positive number`);
  const progress = (text: string) => io.stderr.isTTY && io.stderr.write(`\r${text}\x1b[K`);
  const deployments = await readSource(values, io.env, progress);
  const accounts = deployments.reduce((n, d) => n + d.accounts.length, 0);
  if (accounts >= 1000) progress(`evaluating ${accounts} accounts…`);
  const report = audit(deployments, new Date(), days * 86400, {
    ...(values["account"] ? { account: values["account"] as string } : {}),
    ...(status ? { status: status as ImportStatus } : {}),
  });
  if (io.stderr.isTTY && accounts >= 1000) io.stderr.write("\r\x1b[K");
  io.stdout.write(values["json"] ? `${JSON.stringify(report, null, 2)}\n` : `${renderReport(report, painter(!!io.stdout.isTTY && !io.env["NO_COLOR"]))}\n`);
  return exitCode(report);
}

export function exitCode(report: AuditReport): number {
  return report.summary.inactive > 0 || report.account_errors.length > 0 ? 1 : 0;
}

/** The options that name where JWTs are read from, shared by every offline command. */
export const SOURCE_OPTIONS = {
  "nsc-store": { type: "string" },
  "jwt-dir": { type: "string" },
  "operator-jwt": { type: "string" },
  server: { type: "string" },
  creds: { type: "string" },
} as const;

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
    throw new ConfigError((e as Error).message.split("\n")[0]!);
  }
}

export function oneSource(values: Record<string, unknown>): void {
  const sources = ["nsc-store", "jwt-dir", "server"].filter((s) => values[s] !== undefined);
  if (sources.length > 1) throw new ConfigError(`give one source, not ${sources.map((s) => `--${s}`).join(" and ")}`);
}

export async function readSource(values: Record<string, unknown>, env: NodeJS.ProcessEnv, progress: (t: string) => unknown): Promise<Deployment[]> {
  if (values["jwt-dir"]) return [readJwtDir(values["jwt-dir"] as string, (values["operator-jwt"] as string | undefined) ?? null)];
  if (values["server"]) return [await readLive(values["server"] as string, values["creds"] as string | undefined, progress)];
  return readNscStore((values["nsc-store"] as string | undefined) ?? defaultNscStore(env));
}

async function readLive(url: string, credsPath: string | undefined, progress: (t: string) => unknown): Promise<Deployment> {
  let creds: Uint8Array | undefined;
  if (credsPath) {
    try {
      creds = readFileSync(credsPath);
    } catch {
      throw new ConfigError(`--creds: cannot read ${credsPath}`);
    }
  }
  const nc = await connect({ servers: url, name: "nats-insights-check", maxReconnectAttempts: 0, ...(creds ? { authenticator: credsAuthenticator(creds) } : {}) }).catch((e: Error) => {
    throw new ConfigError(`cannot connect to ${url}: ${e.message}`);
  });
  try {
    const resolver = new ResolverClient(nc, 2000);
    const operatorJwts = await resolver.operatorJwts();
    if (operatorJwts.length === 0) throw new ConfigError(`no operator JWT from ${url}: are these system-account creds?`);
    const jwts = await resolver.loadAll((n) => progress(`loaded ${n} account JWTs…`));
    return { origin: url, operatorJwts, accounts: [...jwts].map(([id, jwt]) => ({ filedUnder: id, jwt, file: id })) };
  } finally {
    await nc.close();
  }
}
