/**
 * Configuration from the environment, with flags of the same meaning (flags win). Every problem is
 * a ConfigError with a one-line message; the entry point prints it and exits non-zero.
 */
import { existsSync, readFileSync } from "node:fs";
import { parseArgs } from "node:util";

export class ConfigError extends Error {}

export interface Config {
  natsUrl: string;
  /** A system-account user's creds file; its contents are read once and never logged. */
  credsPath: string | null;
  /** Full resync period, seconds. */
  epochSeconds: number;
  /** A valid token expiring within this many days is a warning. */
  expiryWarningDays: number;
  /** An operator JWT file to trust; when absent, the servers' VARZ is asked. */
  operatorJwtPath: string | null;
  /** How long one $SYS request may take, milliseconds. */
  requestTimeoutMs: number;
  logLevel: "fatal" | "error" | "warn" | "info" | "debug" | "trace" | "silent";
  /** Several instances: a JetStream-enabled account's user creds for the shared state; null: alone. */
  stateCredsPath: string | null;
  stateUrl: string;
  stateBucket: string;
  stateReplicas: number;
  /** Serve Prometheus metrics on this port; null: off. */
  metricsPort: number | null;
  metricsHost: string;
  /** Per-import metrics for at most this many imports; null: none. */
  metricsImports: number | null;
}

/** The highest bound on per-import metrics: each import is two series, and a scrape must stay small. */
export const MAX_IMPORT_SERIES = 10_000;

/** name → [flag, env var, description, default] */
const OPTIONS = {
  natsUrl: ["nats-url", "NATS_URL", "server URL(s), comma-separated", "nats://127.0.0.1:4222"],
  credsPath: ["creds", "NATS_CREDS", "system-account user creds file", ""],
  epochSeconds: ["epoch", "INSIGHTS_EPOCH_SECONDS", "full resync period in seconds", "60"],
  expiryWarningDays: ["expiry-warning-days", "INSIGHTS_EXPIRY_WARNING_DAYS", "warn about tokens expiring within this many days", "7"],
  operatorJwtPath: ["operator-jwt", "INSIGHTS_OPERATOR_JWT", "operator JWT file (default: read from the servers' VARZ)", ""],
  requestTimeoutMs: ["request-timeout-ms", "INSIGHTS_REQUEST_TIMEOUT_MS", "timeout of one $SYS request", "2000"],
  logLevel: ["log-level", "LOG_LEVEL", "fatal|error|warn|info|debug|trace|silent", "info"],
  stateCredsPath: ["state-creds", "INSIGHTS_STATE_CREDS", "creds of a JetStream-enabled account's user: run several instances", ""],
  stateUrl: ["state-url", "INSIGHTS_STATE_URL", "server URL(s) for the shared state (default: NATS_URL)", ""],
  stateBucket: ["state-bucket", "INSIGHTS_STATE_BUCKET", "KV bucket of the shared state", "insights_imports"],
  stateReplicas: ["state-replicas", "INSIGHTS_STATE_REPLICAS", "replicas of the KV bucket (1, 3 or 5)", "1"],
  metricsPort: ["metrics-port", "INSIGHTS_METRICS_PORT", "serve Prometheus metrics on this port (default: off)", ""],
  metricsHost: ["metrics-host", "INSIGHTS_METRICS_HOST", "address the metrics endpoint listens on", "127.0.0.1"],
  metricsImports: ["metrics-imports", "INSIGHTS_METRICS_IMPORTS", "per-import metrics for at most this many imports (default: off)", ""],
} as const;

export function usage(): string {
  const lines = Object.values(OPTIONS).map(([flag, env, text, def]) => `  --${flag.padEnd(22)} ${env.padEnd(30)} ${text}${def ? ` (default ${def})` : ""}`);
  return ["Usage: nats-insights [options]   (each option can also be set by its environment variable)", ...lines].join("\n");
}

function positiveNumber(name: string, raw: string, { integer = false, max = Number.MAX_SAFE_INTEGER } = {}): number {
  const n = Number(raw);
  if (raw.trim() === "" || !Number.isFinite(n) || n <= 0 || n > max || (integer && !Number.isInteger(n))) {
    throw new ConfigError(`${name} must be a positive ${integer ? "whole " : ""}number${max < Number.MAX_SAFE_INTEGER ? ` up to ${max}` : ""}, got "${raw}"`);
  }
  return n;
}

function readableFile(name: string, path: string): string {
  if (!existsSync(path)) throw new ConfigError(`${name}: no such file: ${path}`);
  try {
    readFileSync(path);
  } catch (e) {
    throw new ConfigError(`${name}: cannot read ${path}: ${(e as Error).message}`);
  }
  return path;
}

function validBucket(name: string): string {
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(name)) throw new ConfigError(`INSIGHTS_STATE_BUCKET must be letters, digits, _ or -, got "${name}"`);
  return name;
}

function replicas(raw: string): number {
  if (!["1", "3", "5"].includes(raw)) throw new ConfigError(`INSIGHTS_STATE_REPLICAS must be 1, 3 or 5, got "${raw}"`);
  return Number(raw);
}

export function loadConfig(argv: string[], env: NodeJS.ProcessEnv): Config {
  let flags: Record<string, string | boolean | undefined>;
  try {
    flags = parseArgs({
      args: argv,
      options: Object.fromEntries(Object.values(OPTIONS).map(([flag]) => [flag, { type: "string" as const }])),
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (e) {
    throw new ConfigError((e as Error).message.split("\n")[0]!);
  }
  const get = (key: keyof typeof OPTIONS): string => {
    const [flag, envName, , def] = OPTIONS[key];
    return (flags[flag] as string | undefined) ?? env[envName] ?? def;
  };
  const url = get("natsUrl");
  if (!/^(nats|tls|ws|wss):\/\/|^[A-Za-z0-9.-]+:\d+/.test(url)) throw new ConfigError(`NATS_URL is not a NATS URL: "${url}"`);
  const creds = get("credsPath");
  const operator = get("operatorJwtPath");
  const level = get("logLevel");
  if (!["fatal", "error", "warn", "info", "debug", "trace", "silent"].includes(level)) {
    throw new ConfigError(`LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent, got "${level}"`);
  }
  if (get("metricsImports") && !get("metricsPort")) throw new ConfigError("INSIGHTS_METRICS_IMPORTS needs INSIGHTS_METRICS_PORT: per-import metrics are served on the metrics endpoint only");
  return {
    natsUrl: url,
    credsPath: creds ? readableFile("NATS_CREDS", creds) : null,
    epochSeconds: positiveNumber("INSIGHTS_EPOCH_SECONDS", get("epochSeconds"), { max: 86_400 }),
    expiryWarningDays: positiveNumber("INSIGHTS_EXPIRY_WARNING_DAYS", get("expiryWarningDays"), { max: 3650 }),
    operatorJwtPath: operator ? readableFile("INSIGHTS_OPERATOR_JWT", operator) : null,
    requestTimeoutMs: positiveNumber("INSIGHTS_REQUEST_TIMEOUT_MS", get("requestTimeoutMs"), { integer: true, max: 60_000 }),
    logLevel: level as Config["logLevel"],
    stateCredsPath: get("stateCredsPath") ? readableFile("INSIGHTS_STATE_CREDS", get("stateCredsPath")) : null,
    stateUrl: get("stateUrl") || url,
    stateBucket: validBucket(get("stateBucket")),
    stateReplicas: replicas(get("stateReplicas")),
    metricsPort: get("metricsPort") ? positiveNumber("INSIGHTS_METRICS_PORT", get("metricsPort"), { integer: true, max: 65535 }) : null,
    metricsHost: get("metricsHost"),
    metricsImports: get("metricsImports") ? positiveNumber("INSIGHTS_METRICS_IMPORTS", get("metricsImports"), { integer: true, max: MAX_IMPORT_SERIES }) : null,
  };
}
