/**
 * Configuration from the environment, with flags of the same meaning (flags win). Every problem is
 * a ConfigError with a one-line message; the entry point prints it and exits non-zero.
 */
import { parseArgs } from "node:util";
import { ConfigError } from "./config-error.js";
import { readable, resolveConnection, yesNo, type ConnectionSettings } from "./shell/connection.js";
import { DEFAULT_HISTORY_LIMITS, HISTORY_LIMIT_CAPS, type HistoryLimits } from "./shell/history.js";

export { ConfigError };

export interface Config {
  /** Where the service connects, how it authenticates (a system-account user) and its TLS. */
  connection: ConnectionSettings;
  /** The server URLs of `connection`, comma-separated (for messages). */
  natsUrl: string;
  /** A system-account user's creds file, when given as one; its contents are never logged. */
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
  /** The state connection: `stateUrl`, `stateCredsPath`, and the main connection's TLS settings. */
  stateConnection: ConnectionSettings | null;
  stateBucket: string;
  stateReplicas: number;
  /** The JetStream stream of the history in the state account (used when `stateConnection` is set). */
  historyStream: string;
  /** What the history keeps: in the stream, and in each instance's memory. */
  historyLimits: HistoryLimits;
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
  context: ["context", "NATS_CONTEXT", "a natscli context (name or .json file) for what is not set here", ""],
  credsPath: ["creds", "NATS_CREDS", "system-account user creds file", ""],
  nkey: ["nkey", "NATS_NKEY", "or: an nkey seed file", ""],
  user: ["user", "NATS_USER", "or: user name (with NATS_PASSWORD)", ""],
  password: ["password", "NATS_PASSWORD", "password (prefer the variable to the flag)", ""],
  token: ["token", "NATS_TOKEN", "or: an authentication token", ""],
  tlsCa: ["tls-ca", "NATS_CA", "CA certificate(s) to trust for the servers' TLS", ""],
  tlsCert: ["tls-cert", "NATS_CERT", "client certificate (servers with verify: true)", ""],
  tlsKey: ["tls-key", "NATS_KEY", "its private key", ""],
  tlsFirst: ["tls-first", "NATS_TLS_FIRST", "TLS handshake before the server's greeting (handshake_first)", "false"],
  epochSeconds: ["epoch", "INSIGHTS_EPOCH_SECONDS", "full resync period in seconds", "60"],
  expiryWarningDays: [
    "expiry-warning-days",
    "INSIGHTS_EXPIRY_WARNING_DAYS",
    "warn about tokens expiring within this many days",
    "7",
  ],
  operatorJwtPath: [
    "operator-jwt",
    "INSIGHTS_OPERATOR_JWT",
    "operator JWT file (default: read from the servers' VARZ)",
    "",
  ],
  requestTimeoutMs: ["request-timeout-ms", "INSIGHTS_REQUEST_TIMEOUT_MS", "timeout of one $SYS request", "2000"],
  logLevel: ["log-level", "LOG_LEVEL", "fatal|error|warn|info|debug|trace|silent", "info"],
  stateCredsPath: [
    "state-creds",
    "INSIGHTS_STATE_CREDS",
    "creds of a JetStream-enabled account's user: run several instances",
    "",
  ],
  stateUrl: ["state-url", "INSIGHTS_STATE_URL", "server URL(s) for the shared state (default: NATS_URL)", ""],
  stateBucket: ["state-bucket", "INSIGHTS_STATE_BUCKET", "KV bucket of the shared state", "insights_imports"],
  stateReplicas: ["state-replicas", "INSIGHTS_STATE_REPLICAS", "replicas of the KV bucket (1, 3 or 5)", "1"],
  historyStream: [
    "history-stream",
    "INSIGHTS_HISTORY_STREAM",
    "JetStream stream of the history (state account)",
    "insights_history",
  ],
  historyMaxEntries: [
    "history-max-entries",
    "INSIGHTS_HISTORY_MAX_ENTRIES",
    `history entries kept, at most ${HISTORY_LIMIT_CAPS.maxEntries}`,
    String(DEFAULT_HISTORY_LIMITS.maxEntries),
  ],
  historyMaxMib: [
    "history-max-mib",
    "INSIGHTS_HISTORY_MAX_MIB",
    `history kept, MiB, at most ${HISTORY_LIMIT_CAPS.maxBytes / 1024 / 1024}`,
    String(DEFAULT_HISTORY_LIMITS.maxBytes / 1024 / 1024),
  ],
  historyMaxAgeDays: [
    "history-max-age-days",
    "INSIGHTS_HISTORY_MAX_AGE_DAYS",
    `days history entries are kept, at most ${HISTORY_LIMIT_CAPS.maxAgeSeconds / 86_400}`,
    String(DEFAULT_HISTORY_LIMITS.maxAgeSeconds / 86_400),
  ],
  metricsPort: ["metrics-port", "INSIGHTS_METRICS_PORT", "serve Prometheus metrics on this port (default: off)", ""],
  metricsHost: ["metrics-host", "INSIGHTS_METRICS_HOST", "address the metrics endpoint listens on", "127.0.0.1"],
  metricsImports: [
    "metrics-imports",
    "INSIGHTS_METRICS_IMPORTS",
    "per-import metrics for at most this many imports (default: off)",
    "",
  ],
} as const;

export function usage(): string {
  const lines = Object.values(OPTIONS).map(
    ([flag, env, text, def]) =>
      `  --${flag.padEnd(22)} ${env.padEnd(30)} ${text}${def && def !== "false" ? ` (default ${def})` : ""}`,
  );
  return ["Usage: nats-insights [options]   (each option can also be set by its environment variable)", ...lines].join(
    "\n",
  );
}

function positiveNumber(name: string, raw: string, { integer = false, max = Number.MAX_SAFE_INTEGER } = {}): number {
  const n = Number(raw);
  if (raw.trim() === "" || !Number.isFinite(n) || n <= 0 || n > max || (integer && !Number.isInteger(n))) {
    throw new ConfigError(
      `${name} must be a positive ${integer ? "whole " : ""}number${max < Number.MAX_SAFE_INTEGER ? ` up to ${max}` : ""}, got "${raw}"`,
    );
  }
  return n;
}

function validBucket(name: string, variable = "INSIGHTS_STATE_BUCKET"): string {
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(name))
    throw new ConfigError(`${variable} must be letters, digits, _ or -, got "${name}"`);
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
      // --tls-first is a switch (NATS_TLS_FIRST=true in the environment); every other flag takes a value.
      options: Object.fromEntries(
        Object.values(OPTIONS).map(([flag]) => [
          flag,
          { type: flag === "tls-first" ? ("boolean" as const) : ("string" as const) },
        ]),
      ),
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (e) {
    throw new ConfigError((e as Error).message.split("\n")[0]);
  }
  const given = (key: keyof typeof OPTIONS): string | undefined => {
    const [flag, envName] = OPTIONS[key];
    const f = flags[flag];
    const v = typeof f === "boolean" ? String(f) : (f ?? env[envName]);
    return v === "" ? undefined : v;
  };
  const get = (key: keyof typeof OPTIONS): string => given(key) ?? OPTIONS[key][3];
  const connection = resolveConnection(
    {
      url: given("natsUrl"),
      context: given("context"),
      creds: given("credsPath"),
      nkey: given("nkey"),
      user: given("user"),
      password: given("password"),
      token: given("token"),
      tlsCa: given("tlsCa"),
      tlsCert: given("tlsCert"),
      tlsKey: given("tlsKey"),
      tlsFirst: yesNo("NATS_TLS_FIRST", given("tlsFirst")),
    },
    env,
  );
  const url = connection.servers.join(",");
  const operator = get("operatorJwtPath");
  const level = get("logLevel");
  if (!["fatal", "error", "warn", "info", "debug", "trace", "silent"].includes(level)) {
    throw new ConfigError(`LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent, got "${level}"`);
  }
  if (get("metricsImports") && !get("metricsPort"))
    throw new ConfigError(
      "INSIGHTS_METRICS_IMPORTS needs INSIGHTS_METRICS_PORT: per-import metrics are served on the metrics endpoint only",
    );
  const stateCreds = given("stateCredsPath");
  const stateUrl = get("stateUrl") || url;
  return {
    connection,
    natsUrl: url,
    credsPath:
      connection.auth.kind === "creds" && "path" in connection.auth.secret ? connection.auth.secret.path : null,
    epochSeconds: positiveNumber("INSIGHTS_EPOCH_SECONDS", get("epochSeconds"), { max: 86_400 }),
    expiryWarningDays: positiveNumber("INSIGHTS_EXPIRY_WARNING_DAYS", get("expiryWarningDays"), { max: 3650 }),
    operatorJwtPath: operator ? readable("INSIGHTS_OPERATOR_JWT", operator) : null,
    requestTimeoutMs: positiveNumber("INSIGHTS_REQUEST_TIMEOUT_MS", get("requestTimeoutMs"), {
      integer: true,
      max: 60_000,
    }),
    logLevel: level as Config["logLevel"],
    stateCredsPath: stateCreds ? readable("INSIGHTS_STATE_CREDS", stateCreds) : null,
    stateUrl,
    // Same TLS as the main connection (from the options, variables or context); its own creds.
    stateConnection: stateCreds
      ? resolveConnection(
          {
            url: stateUrl,
            context: given("context"),
            creds: stateCreds,
            tlsCa: given("tlsCa"),
            tlsCert: given("tlsCert"),
            tlsKey: given("tlsKey"),
            tlsFirst: yesNo("NATS_TLS_FIRST", given("tlsFirst")),
          },
          env,
          "INSIGHTS_STATE_URL",
        )
      : null,
    stateBucket: validBucket(get("stateBucket")),
    stateReplicas: replicas(get("stateReplicas")),
    historyStream: validBucket(get("historyStream"), "INSIGHTS_HISTORY_STREAM"),
    historyLimits: {
      maxEntries: positiveNumber("INSIGHTS_HISTORY_MAX_ENTRIES", get("historyMaxEntries"), {
        integer: true,
        max: HISTORY_LIMIT_CAPS.maxEntries,
      }),
      maxBytes:
        positiveNumber("INSIGHTS_HISTORY_MAX_MIB", get("historyMaxMib"), {
          integer: true,
          max: HISTORY_LIMIT_CAPS.maxBytes / 1024 / 1024,
        }) *
        1024 *
        1024,
      maxAgeSeconds: Math.round(
        positiveNumber("INSIGHTS_HISTORY_MAX_AGE_DAYS", get("historyMaxAgeDays"), {
          max: HISTORY_LIMIT_CAPS.maxAgeSeconds / 86_400,
        }) * 86_400,
      ),
    },
    metricsPort: get("metricsPort")
      ? positiveNumber("INSIGHTS_METRICS_PORT", get("metricsPort"), { integer: true, max: 65535 })
      : null,
    metricsHost: get("metricsHost"),
    metricsImports: get("metricsImports")
      ? positiveNumber("INSIGHTS_METRICS_IMPORTS", get("metricsImports"), { integer: true, max: MAX_IMPORT_SERIES })
      : null,
  };
}
