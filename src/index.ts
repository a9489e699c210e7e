/**
 * nats-insights as a library: read a deployment's JWTs the way `nats-insights check` reads them,
 * and diagnose every import they declare. Offline: no connection, no timers; the same diagnoses,
 * causes and remediation commands as the CLI and the live service.
 *
 * A loader throws ConfigError when its source cannot be read (missing directory, no operator JWT,
 * a file too large to be a JWT); a JWT that is merely bad is no error: it is reported in the
 * result (an account error, or an import's cause).
 */
import { audit, type AuditReport } from "./cli/audit.js";
import { readAuditArchive } from "./cli/audit-archive.js";
import type { Deployment } from "./cli/deployment.js";
import { nscStore, readJwtDir, readNscStore, readSource } from "./cli/sources.js";
import type { ImportStatus } from "./core/diagnosis.js";
import { DEFAULT_EXPIRY_WARNING_SECONDS } from "./core/evaluate.js";
import { ConfigError } from "./config-error.js";

export { ConfigError };
export type { Deployment } from "./cli/deployment.js";
export type { AuditReport as Report } from "./cli/audit.js";
export type { AccountError, CheckSummary } from "./core/report.js";
export {
  CAUSE_CODES,
  type CauseCode,
  type ImportDiagnosis,
  type ImportStatus,
  type ServerView,
  type TokenSummary,
  type Verdict,
} from "./core/diagnosis.js";

/**
 * A directory of JWT files: account JWTs (a full resolver's directory names them `<account key>.jwt`)
 * and the operator JWT among them, or in `operatorJwtFile`.
 */
export function loadJwtDirectory(dir: string, options: { operatorJwtFile?: string } = {}): Deployment {
  return readJwtDir(dir, options.operatorJwtFile ?? null);
}

/**
 * An nsc store: the stores directory (one deployment per operator in it) or one operator's
 * directory; without `dir`, the store nsc itself is configured with (as `nsc env` shows it).
 */
export function loadNscStore(dir?: string, env: NodeJS.ProcessEnv = process.env): Deployment[] {
  return readNscStore(dir ?? nscStore(env));
}

/**
 * The archive `nats audit gather` writes: its account JWTs and each server's own view of them.
 * diagnoseDeployment judges it as of its capture (its `asOf`) unless told another instant.
 */
export function loadAuditArchive(file: string): Promise<Deployment> {
  return readAuditArchive(file);
}

/** Where a live deployment is read from, as `check --server/--context/--creds` take it. */
export interface ServersSource {
  /** A server URL (or several, comma-separated); else the context's. */
  server?: string;
  /** A natscli context name or file; $NATS_CONTEXT otherwise. */
  context?: string;
  /** A system-account user's creds file; $NATS_CREDS otherwise. */
  creds?: string;
}

/**
 * A live deployment, as `check --server` reads it: the operator JWTs from the servers' VARZ and
 * every account JWT from the full resolver through $SYS (CLAIMS.PACK, else LIST and LOOKUP), with
 * a system-account user. The connection is closed before the promise settles; a server that
 * cannot be reached or refuses the credentials rejects it with a ConfigError.
 */
export async function loadFromServers(
  source: ServersSource,
  env: NodeJS.ProcessEnv = process.env,
): Promise<Deployment> {
  const context = source.context || env["NATS_CONTEXT"] || undefined;
  if (!source.server && !context)
    throw new ConfigError("give a server URL or a context to read a live deployment from");
  const values = { server: source.server || undefined, context, creds: source.creds };
  const [deployment] = await readSource(values, env, () => undefined);
  return deployment!;
}

/** JWTs held in memory: the operator JWTs to trust and the account JWTs. */
export function deploymentOf(operatorJwts: readonly string[], accountJwts: readonly string[]): Deployment {
  return {
    origin: "JWTs given in memory",
    operatorJwts: [...operatorJwts],
    accounts: accountJwts.map((jwt, i) => ({ filedUnder: null, jwt: jwt.trim(), file: `account JWT #${i + 1}` })),
  };
}

export interface DiagnoseOptions {
  /** The instant to judge at; default: the source's capture time (an audit archive), else now. */
  at?: Date;
  /** A valid token expiring within this many days is a warning (default 7). */
  expiryWarningDays?: number;
  /** Only the imports of this account (public key or name). */
  account?: string;
  /** Only the imports with this status. */
  status?: ImportStatus;
}

/**
 * Every import of the deployment(s), diagnosed in the server's order: status, cause, a message
 * and the nsc commands that fix it; with the accounts whose JWTs the server would not load.
 */
export function diagnoseDeployment(
  source: Deployment | readonly Deployment[],
  options: DiagnoseOptions = {},
): AuditReport {
  const deployments = Array.isArray(source) ? [...(source as readonly Deployment[])] : [source as Deployment];
  const at = options.at ?? deployments[0]?.asOf ?? new Date();
  const days = options.expiryWarningDays;
  if (days !== undefined && !(Number.isFinite(days) && days > 0))
    throw new ConfigError(`expiryWarningDays must be a positive number, got ${days}`);
  if (Number.isNaN(at.getTime())) throw new ConfigError("at is not a valid date");
  const expiryWarningSeconds = days === undefined ? DEFAULT_EXPIRY_WARNING_SECONDS : days * 86_400;
  return audit(deployments, at, expiryWarningSeconds, {
    ...(options.account !== undefined ? { account: options.account } : {}),
    ...(options.status !== undefined ? { status: options.status } : {}),
  });
}
