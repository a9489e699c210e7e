/**
 * One way to reach NATS, for the service (main and state connections) and for every CLI source:
 * server URLs, authentication (creds, nkey seed, user/password, token), TLS (a private CA, a client
 * certificate for servers with `verify: true`, the TLS-first handshake), and a natscli context
 * that supplies whatever the options and environment do not. A failure to connect is explained
 * (which setting is probably missing) and classed: a configuration problem, or a server that is
 * not there yet (the service waits for it; the CLI gives up).
 */
import { existsSync, readFileSync } from "node:fs";
import { isIP } from "node:net";
import { checkServerIdentity, type PeerCertificate } from "node:tls";
import { credsAuthenticator, nkeyAuthenticator, type ConnectionOptions, type NatsConnection } from "@nats-io/nats-core";
import { connect } from "@nats-io/transport-node";
import { ConfigError } from "../config-error.js";
import type { Logger } from "./log.js";
import { readContext, resolveSecret, type Secret } from "./natscontext.js";

/** Connection settings as given (flag, else environment variable); undefined: not given. */
export interface ConnectionInputs {
  url?: string | undefined;
  context?: string | undefined;
  creds?: string | undefined;
  nkey?: string | undefined;
  user?: string | undefined;
  password?: string | undefined;
  token?: string | undefined;
  tlsCa?: string | undefined;
  tlsCert?: string | undefined;
  tlsKey?: string | undefined;
  tlsFirst?: boolean | undefined;
}

export type Auth =
  | { kind: "none" }
  | { kind: "creds"; secret: Secret }
  | { kind: "nkey"; secret: Secret }
  | { kind: "user"; user: string; password: string }
  | { kind: "token"; token: string };

export interface TlsSettings {
  caFile: string | null;
  certFile: string | null;
  keyFile: string | null;
  handshakeFirst: boolean;
}

export interface ConnectionSettings {
  servers: string[];
  auth: Auth;
  /** null: plain, upgraded to TLS (system CAs) when a server requires it. */
  tls: TlsSettings | null;
  /** The natscli context file the settings came from, if any (for messages). */
  contextFile: string | null;
}

const DEFAULT_URL = "nats://127.0.0.1:4222";

/**
 * Options and environment first, then the context (`--context`/`NATS_CONTEXT`) for what they leave
 * out, then defaults. Authentication is taken whole from one place: any credential given as an
 * option or variable replaces the context's.
 */
export function resolveConnection(
  inputs: ConnectionInputs,
  env: NodeJS.ProcessEnv,
  label = "NATS",
): ConnectionSettings {
  const ctx = inputs.context ? readContext(inputs.context, env) : null;
  const url = inputs.url ?? ctx?.url ?? DEFAULT_URL;
  const servers = url
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
  for (const s of servers) {
    if (!/^(nats|tls|ws|wss):\/\/[^\s/]+$|^[A-Za-z0-9.[\]:-]+:\d+$/.test(s)) {
      throw new ConfigError(
        `${label === "NATS" ? "NATS_URL" : label} is not a NATS URL: "${s.replace(/^([a-z]+:\/\/)[^@/]*@/i, "$1***@")}"`,
      );
    }
  }
  if (servers.length === 0) throw new ConfigError(`NATS_URL is empty`);
  const given = [inputs.creds, inputs.nkey, inputs.user, inputs.password, inputs.token].some(
    (v) => v !== undefined && v !== "",
  );
  const auth = given
    ? authFrom(inputs, env)
    : ctx
      ? authFrom({ creds: undefined, ...contextAuth(ctx) }, env, `context ${ctx.file}`)
      : { kind: "none" as const };
  const ca = inputs.tlsCa ?? ctx?.ca ?? null;
  const cert = inputs.tlsCert ?? ctx?.cert ?? null;
  const key = inputs.tlsKey ?? ctx?.key ?? null;
  const first = inputs.tlsFirst ?? ctx?.tlsFirst ?? false;
  if ((cert === null) !== (key === null))
    throw new ConfigError(
      "a TLS client certificate needs its key: give both NATS_CERT and NATS_KEY (--tls-cert, --tls-key)",
    );
  const tls =
    ca || cert || first
      ? {
          caFile: ca ? readable("NATS_CA", ca) : null,
          certFile: cert ? readable("NATS_CERT", cert) : null,
          keyFile: key ? readable("NATS_KEY", key) : null,
          handshakeFirst: first,
        }
      : null;
  return { servers, auth, tls, contextFile: ctx?.file ?? null };
}

function contextAuth(
  ctx: ReturnType<typeof readContext>,
): ConnectionInputs & { credsSecret?: Secret; nkeySecret?: Secret } {
  return {
    ...(ctx.user !== null ? { user: ctx.user } : {}),
    ...(ctx.password !== null ? { password: ctx.password } : {}),
    ...(ctx.token !== null ? { token: ctx.token } : {}),
    ...(ctx.creds !== null ? { credsSecret: ctx.creds } : {}),
    ...(ctx.nkey !== null ? { nkeySecret: ctx.nkey } : {}),
  };
}

function authFrom(
  inputs: ConnectionInputs & { credsSecret?: Secret; nkeySecret?: Secret },
  env: NodeJS.ProcessEnv,
  where = "options",
): Auth {
  const creds = inputs.credsSecret ?? (inputs.creds ? resolveSecret(inputs.creds, "NATS_CREDS", env) : null);
  const nkey = inputs.nkeySecret ?? (inputs.nkey ? resolveSecret(inputs.nkey, "NATS_NKEY", env) : null);
  const kinds = [
    creds && "creds",
    nkey && "nkey",
    (inputs.user || inputs.password) && "user/password",
    inputs.token && "token",
  ].filter(Boolean);
  if (kinds.length > 1) throw new ConfigError(`give one kind of credentials, not ${kinds.join(" and ")} (${where})`);
  if (creds) return { kind: "creds", secret: checkSecret("NATS_CREDS", creds) };
  if (nkey) return { kind: "nkey", secret: checkSecret("NATS_NKEY", nkey) };
  if (inputs.token) return { kind: "token", token: inputs.token };
  if (inputs.user || inputs.password) {
    if (!inputs.user || !inputs.password)
      throw new ConfigError(`user/password authentication needs both NATS_USER and NATS_PASSWORD (${where})`);
    return { kind: "user", user: inputs.user, password: inputs.password };
  }
  return { kind: "none" };
}

function checkSecret(name: string, secret: Secret): Secret {
  if ("path" in secret) readable(name, secret.path);
  return secret;
}

/** A file that exists and can be read now (it is read again at each connect). */
export function readable(name: string, path: string): string {
  if (!existsSync(path)) throw new ConfigError(`${name}: no such file: ${path}`);
  try {
    readFileSync(path);
  } catch (e) {
    throw new ConfigError(`${name}: cannot read ${path}: ${(e as Error).message}`);
  }
  return path;
}

/** The server URLs for messages and logs: a user or password in a URL (`nats://u:p@host`) is hidden. */
export function shownServers(settings: ConnectionSettings): string {
  return settings.servers.map((s) => s.replace(/^([a-z]+:\/\/)[^@/]*@/i, "$1***@")).join(",");
}

/** Parses a yes/no setting (NATS_TLS_FIRST). */
export function yesNo(name: string, raw: string | undefined): boolean | undefined {
  if (raw === undefined || raw === "") return undefined;
  if (/^(1|true|yes|on)$/i.test(raw)) return true;
  if (/^(0|false|no|off)$/i.test(raw)) return false;
  throw new ConfigError(`${name} must be true or false, got "${raw}"`);
}

// ---- connecting ---------------------------------------------------------------------------------

function secretBytes(secret: Secret): Uint8Array {
  return "path" in secret ? readFileSync(secret.path) : secret.bytes;
}

/**
 * nats.js upgrades an existing socket to TLS and names the server only when its URL has a host
 * name; for an IP address Node then checks the certificate against "localhost". A certificate that
 * names the IP we dialled (an IP SAN) must pass, as it does for the Go tools: check it against the
 * IP literals of the configured URLs.
 */
function identityCheck(servers: string[]): ((host: string, cert: PeerCertificate) => Error | undefined) | undefined {
  const ips = servers.map((s) => hostOf(s)).filter((h) => isIP(h) !== 0);
  if (ips.length === 0) return undefined;
  return (host, cert) => {
    const direct = checkServerIdentity(host, cert);
    if (!direct || host !== "localhost") return direct;
    return ips.some((ip) => checkServerIdentity(ip, cert) === undefined) ? undefined : direct;
  };
}

function hostOf(server: string): string {
  const withScheme = /^[a-z]+:\/\//i.test(server) ? server : `nats://${server}`;
  try {
    return new URL(withScheme).hostname.replace(/^\[|\]$/g, "");
  } catch {
    return "";
  }
}

export function connectionOptions(settings: ConnectionSettings, name: string): ConnectionOptions {
  const { auth, tls } = settings;
  const check = identityCheck(settings.servers);
  return {
    servers: settings.servers,
    name,
    ...(auth.kind === "creds" ? { authenticator: credsAuthenticator(secretBytes(auth.secret)) } : {}),
    ...(auth.kind === "nkey"
      ? {
          authenticator: nkeyAuthenticator(
            new TextEncoder().encode(new TextDecoder().decode(secretBytes(auth.secret)).trim()),
          ),
        }
      : {}),
    ...(auth.kind === "user" ? { user: auth.user, pass: auth.password } : {}),
    ...(auth.kind === "token" ? { token: auth.token } : {}),
    ...(tls
      ? {
          tls: {
            ...(tls.caFile ? { caFile: tls.caFile } : {}),
            ...(tls.certFile ? { certFile: tls.certFile } : {}),
            ...(tls.keyFile ? { keyFile: tls.keyFile } : {}),
            ...(tls.handshakeFirst ? { handshakeFirst: true } : {}),
            ...(check ? { checkServerIdentity: check } : {}),
          },
        }
      : {}),
  };
}

/** Why a connection attempt failed, and whether waiting could help. */
export interface ConnectFailure {
  message: string;
  /** A configuration problem (credentials, certificates, TLS mode): retrying cannot help. */
  permanent: boolean;
}

const TLS_VERIFY_CODES =
  /^(UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT(_LOCALLY)?|SELF_SIGNED_CERT_IN_CHAIN|DEPTH_ZERO_SELF_SIGNED_CERT|CERT_UNTRUSTED|CERT_SIGNATURE_FAILURE)$/;

/** Turns what nats.js and Node report into a message that names the setting to look at. */
export function explainConnectError(e: unknown, settings: ConnectionSettings): ConnectFailure {
  const err = (e ?? new Error("unknown error")) as Error & { code?: string; cause?: Error & { code?: string } };
  const code = err.code ?? err.cause?.code ?? "";
  // OpenSSL's "8010…:error:0A00045C:SSL routines:ssl3_read_bytes:tlsv13 alert certificate required:../deps/…" → its reason.
  const raw = (err.message || String(e)).split("\n")[0]!;
  const text = /error:[0-9A-F]+:SSL routines:[^:]*:([^:]+)/.exec(raw)?.[1] ?? raw;
  const first = settings.tls?.handshakeFirst ?? false;
  const hasClientCert = !!settings.tls?.certFile;
  if (TLS_VERIFY_CODES.test(code)) {
    const ca = settings.tls?.caFile;
    return {
      permanent: true,
      message: ca
        ? `TLS: the server's certificate is not signed by the CA in ${ca} (${text}): give the CA that signed it with NATS_CA (--tls-ca)`
        : `TLS: the server's certificate is not trusted (${text}): give the CA that signed it with NATS_CA (--tls-ca)`,
    };
  }
  if (code === "ERR_TLS_CERT_ALTNAME_INVALID" || code === "CERT_HAS_EXPIRED" || code === "CERT_NOT_YET_VALID") {
    return { permanent: true, message: `TLS: the server's certificate does not fit (${text})` };
  }
  if (code === "ERR_SSL_WRONG_VERSION_NUMBER" && first) {
    return {
      permanent: true,
      message: `TLS: the server does not start with a TLS handshake; drop NATS_TLS_FIRST (--tls-first) (${text})`,
    };
  }
  if (
    /certificate required|alert number 116|SSLV3_ALERT_BAD_CERTIFICATE|alert bad certificate|unknown ca|alert number 48/i.test(
      `${text} ${code}`,
    )
  ) {
    return {
      permanent: true,
      message: hasClientCert
        ? `TLS: the server refused the client certificate (${text}): it must be signed by a CA the server trusts`
        : `TLS: the server requires a client certificate (verify: true); give NATS_CERT and NATS_KEY (--tls-cert, --tls-key) (${text})`,
    };
  }
  if (/ERR_SSL|ERR_TLS|EPROTO/.test(code)) return { permanent: true, message: `TLS: ${text}` };
  if (settings.tls && (code === "EPIPE" || code === "ECONNRESET")) {
    // With TLS 1.3 the client finishes its handshake before the server checks the client's
    // certificate; the server's refusal (an alert, then close) then races our CONNECT, and we may
    // see only the reset. Measured with verify: true and no client certificate (tls.test.ts).
    return {
      permanent: true,
      message: hasClientCert
        ? `TLS: the server closed the connection after the handshake (${text}): does it trust the CA that signed NATS_CERT?`
        : `TLS: the server closed the connection after the handshake (${text}): it probably requires a client certificate (verify: true); give NATS_CERT and NATS_KEY (--tls-cert, --tls-key)`,
    };
  }
  if (/server does not support 'tls'|tls is not available/i.test(text)) {
    return {
      permanent: true,
      message: `the server does not offer TLS, but TLS options are set: remove them or use a TLS listener (${text})`,
    };
  }
  if (
    /Authorization Violation|authentication|user authentication expired|AuthorizationError/i.test(`${err.name} ${text}`)
  ) {
    return {
      permanent: true,
      message: `the server refused the credentials (${text}): check NATS_CREDS, NATS_NKEY, NATS_USER/NATS_PASSWORD or NATS_TOKEN`,
    };
  }
  if (/doesn't exist/.test(text)) return { permanent: true, message: text };
  if (/unable to parse credentials|invalid (seed|nkey|credentials)|bad seed/i.test(text)) {
    return {
      permanent: true,
      message: `the credentials cannot be used (${text}): is NATS_CREDS a creds file, NATS_NKEY a seed file?`,
    };
  }
  if (/undefined error/.test(text) && !first) {
    // The server said nothing and hung up: a TLS-first server waits for a handshake we never send;
    // a server that is starting up or a proxy in front of it does the same, so it is not fatal.
    return {
      permanent: false,
      message: `the server closed the connection before greeting (does it require a TLS-first handshake? then set NATS_TLS_FIRST / --tls-first)`,
    };
  }
  if (/timeout/i.test(`${err.name} ${text}`) && settings.tls && !hasClientCert) {
    return {
      permanent: false,
      message: `${text} (if the server requires a client certificate, give NATS_CERT and NATS_KEY)`,
    };
  }
  return { permanent: false, message: text };
}

export interface ConnectBehaviour {
  /** Keep reconnecting once connected (the service); the CLI gives up at once. */
  reconnect: boolean;
}

/** One attempt. Throws ConnectFailure-shaped errors through `explainConnectError`. */
export async function connectOnce(
  settings: ConnectionSettings,
  name: string,
  { reconnect }: ConnectBehaviour,
): Promise<NatsConnection> {
  let options: ConnectionOptions;
  try {
    options = connectionOptions(settings, name);
  } catch (e) {
    // A creds or seed file that does not parse.
    throw new ConfigError(`credentials: ${(e as Error).message.split("\n")[0]}`);
  }
  return connect({
    ...options,
    timeout: 5000,
    ...(reconnect
      ? { maxReconnectAttempts: -1, reconnectTimeWait: 2000, reconnectJitter: 1000 }
      : { maxReconnectAttempts: 0, reconnect: false }),
  });
}

/** Connect once; any failure is a ConfigError naming the server and the likely cause (the CLI). */
export async function connectOrFail(settings: ConnectionSettings, name: string): Promise<NatsConnection> {
  try {
    return await connectOnce(settings, name, { reconnect: false });
  } catch (e) {
    if (e instanceof ConfigError) throw e;
    throw new ConfigError(`cannot connect to ${shownServers(settings)}: ${explainConnectError(e, settings).message}`);
  }
}

export interface RetryPolicy {
  /** First delay between attempts, doubled each time up to `maxDelayMs`. */
  initialDelayMs: number;
  maxDelayMs: number;
  log: Logger;
  /** Resolves when the caller gives up waiting (a stop signal). */
  stopped: Promise<void>;
}

/**
 * Connect, waiting for a server that is not up yet: bounded exponential backoff with jitter, each
 * failure logged. A configuration problem (credentials, certificates) ends it with a ConfigError.
 * Resolves null when stopped while waiting.
 */
export async function connectWithRetry(
  settings: ConnectionSettings,
  name: string,
  policy: RetryPolicy,
): Promise<NatsConnection | null> {
  let stopped = false;
  void policy.stopped.then(() => (stopped = true));
  let delay = policy.initialDelayMs;
  for (let attempt = 1; ; attempt++) {
    try {
      // With reconnection on, nats.js turns a refusal that comes after the TLS handshake (a client
      // certificate missing) into a bare "timeout" 5 s later; an attempt without reconnection
      // reports the real error at once. So: probe without, then connect for good with.
      await (await connectOnce(settings, `${name}-probe`, { reconnect: false })).close();
      const nc = await connectOnce(settings, name, { reconnect: true });
      if (attempt > 1) policy.log.info({ attempt, server: nc.getServer() }, "connected");
      if (stopped) {
        await nc.close().catch(() => {});
        return null;
      }
      return nc;
    } catch (e) {
      if (e instanceof ConfigError) throw e;
      const failure = explainConnectError(e, settings);
      if (failure.permanent) throw new ConfigError(`cannot connect to ${shownServers(settings)}: ${failure.message}`);
      const wait = Math.round(delay * (0.75 + Math.random() * 0.5));
      policy.log.warn(
        { connection: name, servers: shownServers(settings), attempt, err: failure.message, retry_in_ms: wait },
        "cannot connect yet; retrying",
      );
      if (stopped) return null;
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([new Promise<void>((r) => (timer = setTimeout(r, wait))), policy.stopped]);
      clearTimeout(timer);
      if (stopped) return null;
      delay = Math.min(delay * 2, policy.maxDelayMs);
    }
  }
}
