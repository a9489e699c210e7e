/**
 * Runs a REAL nats-server in operator mode with a full (directory) account resolver, for
 * integration tests. One temp dir per server holds the config, the resolver's JWT store, the
 * log file (debug on) and the ports file.
 *
 * Port discovery: the config says `listen: 127.0.0.1:-1` (the server picks a free port itself, so
 * there is no find-a-port-then-bind race) and `ports_file_dir: <dir>`; the server writes
 * `<dir>/nats-server_<pid>.ports` (JSON `{"nats":["nats://127.0.0.1:PORT"], "monitoring":[...]}`)
 * once all its listeners are up. We wait for that file and then for a TCP connect to succeed.
 */
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { mkdir, readdir, readFile, rm } from "node:fs/promises";
import { connect as tcpConnect } from "node:net";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { connect } from "@nats-io/transport-node";
import { credsAuthenticator, type ConnectionOptions, type NatsConnection } from "@nats-io/nats-core";
import type { TestAccount, TestOperator } from "./deployment.js";
import { trackDir, untrackDir } from "./leftovers.js";
import { harnessKind, launchServer, STATIC_SERVER_BIN } from "./server-process.js";
import { serverVersion, serverVersionOf, toolPath } from "./tools.js";

/** What a server in operator mode needs: the operator JWT and the system account. A TestOperator is one. */
export interface ServerTrust {
  jwt: string;
  system: { id: string; jwt: string };
}

export interface RunningServer<Op extends ServerTrust = TestOperator> {
  /** nats://127.0.0.1:<port> */
  url: string;
  port: number;
  /** Monitoring URL (http://host:port) if the extra config enabled `http`, else null. */
  monitorUrl: string | null;
  /** Temp dir: nats-server.conf, nats-server.log, jwt/ (resolver store), *.ports */
  dir: string;
  configPath: string;
  logPath: string;
  /** nats-server version without "v", e.g. "2.15.2" */
  version: string;
  pid: number;
  /** The operator the server trusts. */
  operator: Op;
  /** Contents of the server's log file (debug level) plus anything it wrote to stdout/stderr. */
  logs(): string;
  /** SIGTERM, then SIGKILL after a timeout; waits for exit; removes the temp dir. Idempotent. */
  stop(): Promise<void>;
  /** True once the process has exited. */
  readonly exited: boolean;
  /**
   * Rewrite the config with these options over the ones it started with (e.g. another `preload`)
   * and send SIGHUP; resolves once the server logs the reload done, throws if it logs a failure.
   */
  reload(opts: Pick<StartOptions, "preload" | "extraConfig">): Promise<void>;
}

/** Anything a client can connect to: a server, or one node of a cluster. */
export type Reachable = Pick<RunningServer, "url">;

export interface StartOptions {
  /** Appended verbatim to the generated config (e.g. `http: 127.0.0.1:-1`). */
  extraConfig?: string;
  /** Account JWTs put into `resolver_preload` in addition to the system account. */
  preload?: TestAccount[];
  /** Account JWTs already in the full resolver's store when the server starts (`jwt/<id>.jwt`), as after earlier pushes. */
  stored?: { id: string; jwt: string }[];
  /** Debug logging (default on, for the log a failing test shows; off where it would cost, as in the benchmark). */
  debug?: boolean;
  /** The full resolver's `allow_delete` (default false): whether `$SYS.REQ.CLAIMS.DELETE` removes accounts. */
  allowDelete?: boolean;
  /** How long to wait for the server to accept connections (default 10 s). */
  readyTimeoutMs?: number;
  /**
   * Not in operator mode: this configuration (e.g. an `authorization {}` block) instead of the
   * operator, resolver and preload, for what operator mode forbids (user/password, token, nkey users).
   */
  plainConfig?: string;
  /** Listen on this port instead of one the server picks (a test that starts a client first). */
  port?: number;
  /** Another nats-server binary (an older pinned line, see pinnedServers()); default the newest. */
  bin?: string;
  /**
   * The account resolver: "full" (default, a directory store answering `$SYS.REQ.CLAIMS.*`), or
   * "memory" (`resolver: MEMORY`, what `nsc generate config --mem-resolver` writes: the preload is
   * all it has, and a config reload is the only change), "cache" (`type: cache`: a directory of
   * JWTs fetched from full resolvers elsewhere, here only the preload), or `{ url }` (a URL
   * resolver: the server fetches `<url><account id>` over HTTP; no preload allowed).
   */
  resolver?: "full" | "memory" | "cache" | { url: string };
}

const q = (s: string): string => JSON.stringify(s);

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Does something accept TCP connections on host:port? */
export function tcpProbe(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = tcpConnect({ host, port });
    const done = (ok: boolean): void => {
      sock.removeAllListeners();
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(500, () => done(false));
    sock.once("connect", () => done(true));
    sock.once("error", () => done(false));
  });
}

export function buildConfig(op: ServerTrust, dir: string, opts: StartOptions = {}): string {
  const listen = `listen: "127.0.0.1:${opts.port ?? -1}"
ports_file_dir: ${q(dir)}
log_file: ${q(join(dir, "nats-server.log"))}
logtime: true
debug: ${opts.debug ?? true}
`;
  if (opts.plainConfig !== undefined)
    return `# generated by test/support/nats-server.ts (no operator)\n${listen}\n${opts.plainConfig}\n${opts.extraConfig ?? ""}\n`;
  const preload = [op.system, ...(opts.preload ?? [])];
  const preloadLines = preload.map((a) => `    ${a.id}: ${q(a.jwt)}`).join("\n");
  const kind = opts.resolver ?? "full";
  const resolver =
    typeof kind === "object"
      ? `resolver: URL(${q(kind.url)})`
      : kind === "memory"
        ? "resolver: MEMORY"
        : kind === "cache"
          ? `resolver: {\n    type: cache\n    dir: ${q(join(dir, "jwt"))}\n    ttl: "2m"\n}`
          : `resolver: {
    type: full
    dir: ${q(join(dir, "jwt"))}
    allow_delete: ${opts.allowDelete ?? false}
    interval: "2m"
    timeout: "1.9s"
}`;
  return `# generated by test/support/nats-server.ts
server_name: ${q(`test-${process.pid}-${basename(dir)}`)}
${listen}
operator: ${q(op.jwt)}
system_account: ${op.system.id}

# A client's CONNECT must arrive within this. The 2 s default is shorter than a test process
# gets the CPU when ~7 test runs share 2 cores (seen: "Authentication Timeout" at load 10); no
# test is about this timeout, so a slow machine must not turn into a refused user.
authorization: { timeout: 10 }

${resolver}

${typeof kind === "object" ? "" : `resolver_preload: {\n${preloadLines}\n}`}

${opts.extraConfig ?? ""}
`;
}

export async function startServer<Op extends ServerTrust = TestOperator>(
  op: Op,
  opts: StartOptions = {},
): Promise<RunningServer<Op>> {
  const bin = opts.bin ?? toolPath("nats-server");
  if (!bin) throw new Error("nats-server binary not found (set NATS_SERVER_BIN or run scripts/setup.sh)");
  const version = opts.bin
    ? await serverVersionOf(opts.bin)
    : harnessKind === "containers"
      ? await serverVersionOf(STATIC_SERVER_BIN)
      : await serverVersion();

  const dir = mkdtempSync(join(tmpdir(), "nats-insights-test-"));
  await mkdir(join(dir, "jwt"));
  for (const a of opts.stored ?? []) writeFileSync(join(dir, "jwt", `${a.id}.jwt`), a.jwt);
  const configPath = join(dir, "nats-server.conf");
  const logPath = join(dir, "nats-server.log");
  writeFileSync(configPath, buildConfig(op, dir, opts));

  // An older line (`bin`) runs as a binary whichever harness runs: the image holds the pinned line.
  trackDir(dir);
  const proc = await launchServer(bin, configPath, dir, opts.bin ? "binary" : harnessKind).catch(async (e: Error) => {
    await rm(dir, { recursive: true, force: true });
    untrackDir(dir);
    throw e;
  });
  const exitPromise = proc.exited;

  let removed = false;
  const logs = (): string => {
    let file = "";
    if (!removed) {
      try {
        file = readFileSync(logPath, "utf8");
      } catch {
        /* not written yet */
      }
    }
    const output = proc.output();
    return output ? `${file}\n--- stdout/stderr ---\n${output}` : file;
  };

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    if (!stopping) {
      stopping = (async () => {
        if (!proc.hasExited) {
          proc.signal("SIGTERM");
          const killed = await Promise.race([exitPromise.then(() => true), sleep(5_000).then(() => false)]);
          if (!killed && !proc.hasExited) proc.signal("SIGKILL");
          await exitPromise;
        }
        removed = true;
        await rm(dir, { recursive: true, force: true });
        untrackDir(dir);
      })();
    }
    return stopping;
  };

  // Wait for readiness: ports file, then a TCP connect.
  const deadline = Date.now() + (opts.readyTimeoutMs ?? 10_000);
  let ports: { nats?: string[]; monitoring?: string[] } | undefined;
  let failure: string | undefined;
  while (!ports) {
    if (proc.hasExited) failure = `nats-server exited during start-up (${proc.exitInfo})`;
    else if (Date.now() > deadline) failure = "nats-server did not become ready in time";
    if (failure) break;
    try {
      const f = (await readdir(dir)).find((n) => n.endsWith(".ports"));
      if (f) ports = JSON.parse(await readFile(join(dir, f), "utf8")) as typeof ports;
    } catch {
      ports = undefined; // partially written; retry
    }
    if (!ports) await sleep(20);
  }
  const url = ports?.nats?.[0];
  // A server with a `tls {}` block reports tls://; the client URL stays nats:// (clients upgrade).
  const m = url ? /^(?:nats|tls):\/\/([^:]+):(\d+)$/.exec(url) : null;
  if (!failure && !m) failure = `unexpected ports file content: ${JSON.stringify(ports)}`;
  if (!failure && m) {
    while (!(await tcpProbe(m[1]!, Number(m[2])))) {
      if (proc.hasExited || Date.now() > deadline) {
        failure = `nats-server not accepting connections on ${url}`;
        break;
      }
      await sleep(20);
    }
  }
  if (failure || !m) {
    const l = logs();
    await stop();
    throw new Error(`${failure}\n${l}`);
  }

  const port = Number(m[2]);
  const reloadsLogged = (): { done: number; failed: string[] } => {
    const text = logs();
    return {
      done: text.split("Reloaded server configuration").length - 1,
      failed: text.match(/Failed to reload server configuration.*|config reload failed.*/gi) ?? [],
    };
  };
  const reload = async (changed: Pick<StartOptions, "preload" | "extraConfig">): Promise<void> => {
    const before = reloadsLogged();
    // The port stays: a reload cannot change where the server listens.
    writeFileSync(configPath, buildConfig(op, dir, { ...opts, ...changed, port }));
    proc.signal("SIGHUP");
    const deadline = Date.now() + 10_000;
    for (;;) {
      const now = reloadsLogged();
      if (now.failed.length > before.failed.length) throw new Error(`reload failed: ${now.failed.at(-1)}`);
      if (now.done > before.done) return;
      if (proc.hasExited || Date.now() > deadline) throw new Error(`no reload logged\n${logs()}`);
      await sleep(20);
    }
  };
  return {
    reload,
    url: `nats://127.0.0.1:${port}`,
    port,
    monitorUrl: ports?.monitoring?.[0] ?? null,
    dir,
    configPath,
    logPath,
    version,
    pid: proc.pid,
    operator: op,
    logs,
    stop,
    get exited() {
      return proc.hasExited;
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Clients
// ---------------------------------------------------------------------------------------------

/**
 * A connection authenticated as a fresh, unrestricted user of `account` (creds signed by the
 * account key). Reconnect is off by default so a stopped server does not leave a client retrying.
 * The account must already be known to the server (pushed or preloaded).
 */
export async function connectAs(
  server: Reachable,
  account: TestAccount,
  opts: Partial<ConnectionOptions> = {},
): Promise<NatsConnection> {
  const creds = await account.userCreds();
  const options = {
    servers: server.url,
    authenticator: credsAuthenticator(new TextEncoder().encode(creds)),
    name: `test-${account.name}`,
    reconnect: false,
    timeout: 5_000,
    ...opts,
  };
  for (let attempt = 1; ; attempt++) {
    try {
      return await connect(options);
    } catch (e) {
      // The server closed the socket between its INFO and our CONNECT (nats.js rejects the connect
      // with the write's EPIPE, or a reset): a server busy loading or stopping, not a refusal. A
      // fuzz campaign died on one (docs/decisions.md 43).
      const code = (e as { code?: unknown }).code;
      if ((code !== "EPIPE" && code !== "ECONNRESET") || attempt === DROPPED_CONNECT_ATTEMPTS) throw e;
      await new Promise((r) => setTimeout(r, 100 * attempt));
    }
  }
}

/** How often connectAs tries a connection the server dropped before it was made. */
const DROPPED_CONNECT_ATTEMPTS = 3;

/** A connection as a user of the operator's system account. */
export function connectSystem(
  server: Reachable,
  op: TestOperator,
  opts: Partial<ConnectionOptions> = {},
): Promise<NatsConnection> {
  return connectAs(server, op.system, opts);
}

export interface PushResult {
  ok: boolean;
  message: string;
  /** The parsed JSON reply (or the raw text if it was not JSON). */
  raw: unknown;
}

async function withSystem<T>(server: Reachable, op: TestOperator, fn: (nc: NatsConnection) => Promise<T>): Promise<T> {
  const nc = await connectSystem(server, op);
  try {
    return await fn(nc);
  } finally {
    await nc.close();
  }
}

/**
 * Pushes an account JWT like `nsc push`: a request on `$SYS.REQ.CLAIMS.UPDATE` with the raw JWT.
 * Replies (2.15) look like `{"server":{...},"data":{"account":ID,"code":200,"message":"jwt updated"}}`
 * or `{"server":{...},"error":{"account":ID|"n/a","code":500,"description":"jwt validation failed -
 * validation errors: [...]"}}` (error code is always 500).
 *
 * CAUTION — `ok` means "stored by the resolver", not "usable":
 *  - the handler decodes + validates the claims (blocking errors, incl. bad activation tokens,
 *    reject the push and keep the previous JWT) but does NOT check that the issuer is the trusted
 *    operator: a JWT from a foreign operator is stored ("jwt updated") and only fails when the
 *    account is loaded;
 *  - a push only stores: an account is loaded (and its imports evaluated) when a client of it
 *    connects or another loaded account needs it. `$SYS.REQ.ACCOUNT.<id>.INFO` says "does not exist"
 *    for a pushed-but-unloaded account.
 * The push can take up to the resolver timeout (1.9 s) per import whose source account is missing,
 * when the account is loaded, so the request timeout here is generous.
 */
export async function pushAccount(
  server: RunningServer,
  op: TestOperator,
  jwt: string,
  timeoutMs = 10_000,
): Promise<PushResult> {
  return withSystem(server, op, (nc) => pushWith(nc, jwt, timeoutMs));
}

/** `pushAccount` over an existing system-account connection. */
export async function pushWith(nc: NatsConnection, jwt: string, timeoutMs = 10_000): Promise<PushResult> {
  const msg = await nc.request("$SYS.REQ.CLAIMS.UPDATE", jwt, { timeout: timeoutMs });
  const text = msg.string();
  let raw: unknown = text;
  try {
    raw = JSON.parse(text);
  } catch {
    return { ok: false, message: text, raw };
  }
  const r = raw as {
    data?: { code?: number; message?: string };
    error?: { code?: number; description?: string };
  };
  if (r.error) return { ok: false, message: r.error.description ?? JSON.stringify(r.error), raw };
  const code = r.data?.code ?? 0;
  return { ok: code >= 200 && code < 300, message: r.data?.message ?? text, raw };
}

/**
 * Pushes several accounts in order over one system connection (exporters first!), throwing if
 * any push is rejected.
 */
export async function pushAll(server: RunningServer, accounts: TestAccount[]): Promise<void> {
  await withSystem(server, server.operator, async (nc) => {
    for (const a of accounts) {
      const r = await pushWith(nc, a.jwt);
      if (!r.ok) throw new Error(`push of ${a.name} (${a.id}) rejected: ${r.message}`);
    }
  });
}

/**
 * The JWT the server's resolver holds for `id` (`$SYS.REQ.ACCOUNT.<id>.CLAIMS.LOOKUP`), or null.
 * Since 2.9.17 a missing account gets an empty reply; older servers do not reply (→ timeout → null).
 */
export async function lookupAccount(
  server: RunningServer,
  op: TestOperator,
  id: string,
  timeoutMs = 2_000,
): Promise<string | null> {
  return withSystem(server, op, (nc) => lookupWith(nc, id, timeoutMs));
}

/** lookupAccount on a system connection already open (many look-ups need not each connect). */
export async function lookupWith(nc: NatsConnection, id: string, timeoutMs = 2_000): Promise<string | null> {
  try {
    const msg = await nc.request(`$SYS.REQ.ACCOUNT.${id}.CLAIMS.LOOKUP`, "", { timeout: timeoutMs });
    const text = msg.string().trim();
    return text === "" ? null : text;
  } catch {
    return null;
  }
}

/**
 * `$SYS.REQ.ACCOUNT.<id>.INFO` — the server's own view of a LOADED account (`decoded_jwt`,
 * `imports` with `invalid`, `complete`, ...), or null when the server has not loaded it.
 * Note that `streamFlows`/`serviceFlows`/`connectAs` load accounts, which can change that view.
 * In a cluster every node answers INFO (one without the account: "does not exist") and the first
 * answer wins, so there `serverId` names the node to ask (`SERVER.<id>.ACCOUNTZ`, same view).
 */
export async function accountInfo(
  server: Reachable,
  op: TestOperator,
  id: string,
  timeoutMs = 2_000,
  serverId?: string,
): Promise<Record<string, unknown> | null> {
  return withSystem(server, op, async (nc) => {
    if (serverId) {
      const msg = await nc.request(`$SYS.REQ.SERVER.${serverId}.ACCOUNTZ`, JSON.stringify({ account: id }), {
        timeout: timeoutMs,
      });
      const r = JSON.parse(msg.string()) as { data?: { account_detail?: Record<string, unknown> } };
      return r.data?.account_detail ?? null;
    }
    const msg = await nc.request(`$SYS.REQ.ACCOUNT.${id}.INFO`, "", { timeout: timeoutMs });
    const r = JSON.parse(msg.string()) as { data?: Record<string, unknown> | null };
    return r.data ?? null;
  });
}

/** Sanity helper: the entries of a server's resolver store (account ids with a stored JWT). */
export function storedAccountIds(server: RunningServer): string[] {
  try {
    return readdirSync(join(server.dir, "jwt"))
      .filter((n) => n.endsWith(".jwt"))
      .map((n) => n.slice(0, -4));
  } catch {
    return [];
  }
}

/**
 * Where a message one of the account's users publishes on `publish` lands, seen by another of its
 * users: "left out" (on the subject published: no mapping took it), another subject, or a count that
 * is not one.
 */
export async function landing(server: RunningServer, acc: TestAccount, publish: string): Promise<string> {
  const sub = await connectAs(server, acc);
  const pub = await connectAs(server, acc);
  try {
    const got: string[] = [];
    sub.subscribe(">", { callback: (_e, m) => void got.push(m.subject) });
    await sub.flush();
    pub.publish(publish, "x");
    await pub.flush();
    await sub.flush();
    if (got.length !== 1) return `received ${got.length}`;
    return got[0] === publish ? "left out" : got[0]!;
  } finally {
    await Promise.all([sub.close(), pub.close()]);
  }
}
