/**
 * Where the offline commands read JWTs from: an nsc store, a directory of account JWTs (a full
 * resolver's directory, say), an audit archive, or a live deployment through $SYS. Each yields the
 * operator JWTs to trust and the account JWTs by the key they were filed under. Every command
 * (check, preflight) names its source with the same options and loads it through this module.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { homedir } from "node:os";
import { basename, join } from "node:path";
import { ConfigError } from "../config.js";
import type { AccountError } from "../core/report.js";
import { AccountDirectory, OperatorTrust, serversJudged } from "../core/directory.js";
import { NEWEST_MODELLED, oldestVersion, versionNumbers } from "../core/validate.js";
import { judgedAsLoaded } from "../core/push-refusal.js";
import { peekClaims } from "../core/jwt/decode.js";
import { isPublicKey } from "../core/jwt/nkey.js";
import { connectOrFail, resolveConnection, shownServers, yesNo, type ConnectionSettings } from "../shell/connection.js";
import { NoResolverError, ResolverClient, type AccountInfoReply } from "../shell/resolver.js";
import { readLoadedAccounts } from "../shell/server-accounts.js";
import { readAuditArchive } from "./audit-archive.js";
import type { Deployment } from "./deployment.js";

/** JWT files larger than this are not read (a JWT is at most 1 MiB). */
const MAX_JWT_FILE = 1024 * 1024 + 1024;

/** nsc's default store location: $XDG_DATA_HOME/nats/nsc/stores, else ~/.local/share/nats/nsc/stores. */
export function defaultNscStore(env: NodeJS.ProcessEnv): string {
  const data = env["XDG_DATA_HOME"] || join(env["HOME"] || homedir(), ".local", "share");
  return join(data, "nats", "nsc", "stores");
}

/**
 * The store nsc itself uses: `store_root` of its nsc.json (what `nsc env -s DIR` records), else its
 * default location. nsc.json lives in $NSC_HOME, else $XDG_CONFIG_HOME/nats/nsc (~/.config/nats/nsc),
 * else the pre-XDG ~/.nsc; the stores likewise fall back to ~/.nsc/nats when only that exists.
 */
export function nscStore(env: NodeJS.ProcessEnv): string {
  const home = env["HOME"] || homedir();
  const xdgConfig = join(env["XDG_CONFIG_HOME"] || join(home, ".config"), "nats", "nsc");
  const legacy = join(home, ".nsc");
  const configDir =
    env["NSC_HOME"] ||
    (!existsSync(join(xdgConfig, "nsc.json")) && existsSync(join(legacy, "nsc.json")) ? legacy : xdgConfig);
  const file = join(configDir, "nsc.json");
  if (existsSync(file) && statSync(file).size < 64 * 1024) {
    let root: unknown;
    try {
      root = (JSON.parse(readFileSync(file, "utf8")) as { store_root?: unknown }).store_root;
    } catch {
      throw new ConfigError(`nsc's configuration ${file} is not JSON; give --nsc-store DIR`);
    }
    if (typeof root === "string" && root !== "") return root;
  }
  const fallback = defaultNscStore(env);
  const legacyStores = join(legacy, "nats");
  return !existsSync(fallback) && isDir(legacyStores) ? legacyStores : fallback;
}

function readJwtFile(path: string): string {
  if (statSync(path).size > MAX_JWT_FILE) throw new ConfigError(`${path} is larger than any JWT can be`);
  return readFileSync(path, "utf8").trim();
}

function kindOf(jwt: string): unknown {
  const claims = peekClaims(jwt);
  const nats = claims?.["nats"] as Record<string, unknown> | undefined;
  return claims?.["type"] ?? nats?.["type"];
}

const isDir = (p: string) => existsSync(p) && statSync(p).isDirectory();

/**
 * An nsc store: `<stores>/<operator>/<operator>.jwt` and `<operator>/accounts/<name>/<name>.jwt`.
 * `dir` may be the stores directory (every operator in it) or one operator's directory.
 */
export function readNscStore(dir: string): Deployment[] {
  if (!isDir(dir)) throw new ConfigError(`nsc store not found: ${dir} (give --nsc-store DIR)`);
  const operatorDirs = isOperatorDir(dir)
    ? [dir]
    : readdirSync(dir)
        .map((n) => join(dir, n))
        .filter(isOperatorDir);
  if (operatorDirs.length === 0) throw new ConfigError(`no operator found in nsc store ${dir}`);
  return operatorDirs.map((opDir) => {
    const accountsDir = join(opDir, "accounts");
    const accounts = isDir(accountsDir)
      ? readdirSync(accountsDir)
          .map((name) => join(accountsDir, name, `${name}.jwt`))
          .filter((file) => existsSync(file))
          .map((file) => ({ filedUnder: null, jwt: readJwtFile(file), file }))
      : [];
    return {
      origin: `nsc store ${opDir}`,
      operatorJwts: [readJwtFile(join(opDir, `${basename(opDir)}.jwt`))],
      accounts,
    };
  });
}

function isOperatorDir(dir: string): boolean {
  const file = join(dir, `${basename(dir)}.jwt`);
  return isDir(dir) && existsSync(file) && kindOf(readJwtFile(file)) === "operator";
}

/**
 * A directory of JWT files: account JWTs (a full resolver names them `<account key>.jwt`) and,
 * optionally, the operator JWT among them; `operatorJwtFile` names it explicitly.
 */
export function readJwtDir(dir: string, operatorJwtFile: string | null): Deployment {
  if (!isDir(dir)) throw new ConfigError(`JWT directory not found: ${dir}`);
  const operatorJwts: string[] = operatorJwtFile ? [readJwtFile(operatorJwtFile)] : [];
  const accounts: Deployment["accounts"] = [];
  for (const name of readdirSync(dir).filter((n) => n.endsWith(".jwt"))) {
    const file = join(dir, name);
    if (!statSync(file).isFile()) continue;
    const jwt = readJwtFile(file);
    const key = name.slice(0, -".jwt".length);
    if (!operatorJwtFile && kindOf(jwt) === "operator") operatorJwts.push(jwt);
    else accounts.push({ filedUnder: isPublicKey(key, "account") ? key : null, jwt, file });
  }
  if (operatorJwts.length === 0) throw new ConfigError(`no operator JWT in ${dir}: give --operator-jwt FILE`);
  return { origin: `JWT directory ${dir}`, operatorJwts, accounts };
}

// ---- the source a command line names ----------------------------------------------------------

/** How to reach a NATS server: shared by the commands that connect. */
export const CONNECTION_OPTIONS = {
  server: { type: "string" },
  context: { type: "string" },
  creds: { type: "string" },
  nkey: { type: "string" },
  user: { type: "string" },
  password: { type: "string" },
  token: { type: "string" },
  "tls-ca": { type: "string" },
  "tls-cert": { type: "string" },
  "tls-key": { type: "string" },
  "tls-first": { type: "boolean" },
} as const;

/** The options that name where JWTs are read from, shared by every offline command. */
export const SOURCE_OPTIONS = {
  "nsc-store": { type: "string" },
  "jwt-dir": { type: "string" },
  "audit-archive": { type: "string" },
  "operator-jwt": { type: "string" },
  "server-version": { type: "string" },
  jetstream: { type: "boolean" },
  preloaded: { type: "boolean" },
  ...CONNECTION_OPTIONS,
} as const;

/** The help lines of the options that say what the servers are, shared by every offline command. */
export const SERVERS_USAGE = `What the servers are (live servers and audit archives say it themselves; these override):
  --server-version V       judge by the rules of nats-server V (from 2.10.0; default: every
                           version the servers report, else the newest line modelled, ${NEWEST_MODELLED})
  --jetstream              the servers run JetStream or a cluster (the system account then
                           exports $JS.API.>)
  --preloaded              the servers load these JWTs from resolver_preload (a memory resolver),
                           not by push: a JWT is not put to the push's checks`;

/** The oldest line the engine models (docs/servers.md). */
const OLDEST_MODELLED: [number, number] = [2, 10];

/** --server-version, --jetstream and --preloaded, checked; null or false for what they leave to the source. */
function serversSaid(values: Record<string, unknown>): {
  version: string | null;
  jetStream: boolean;
  preloaded: boolean;
} {
  const version = values["server-version"] as string | undefined;
  if (version !== undefined) {
    const n = version.length <= 64 ? versionNumbers(version) : null;
    if (!n || !/^v?\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/.test(version))
      throw new ConfigError(
        `--server-version must be a nats-server version such as 2.10.29, got "${version.slice(0, 64)}"`,
      );
    if (n[0] < OLDEST_MODELLED[0] || (n[0] === OLDEST_MODELLED[0] && n[1] < OLDEST_MODELLED[1]))
      throw new ConfigError(`--server-version ${version}: nats-insights models nats-server 2.10.0 and later`);
  }
  return { version: version ?? null, jetStream: values["jetstream"] === true, preloaded: values["preloaded"] === true };
}

/** The deployment with what the user said of its servers over what it says itself. */
function withServersSaid(d: Deployment, said: ReturnType<typeof serversSaid>): Deployment {
  if (said.version === null && !said.jetStream && !said.preloaded) return d;
  return {
    ...d,
    servers: {
      versions: said.version !== null ? [said.version] : (d.servers?.versions ?? []),
      jetStreamApi: said.jetStream || (d.servers?.jetStreamApi ?? false),
      ...(said.preloaded || d.servers?.loadedWithoutPush ? { loadedWithoutPush: true } : {}),
    },
  };
}

export function oneSource(values: Record<string, unknown>): void {
  const sources = ["nsc-store", "jwt-dir", "audit-archive", "server"].filter((s) => values[s] !== undefined);
  if (values["context"] !== undefined && values["server"] === undefined) sources.push("context");
  if (sources.length > 1) throw new ConfigError(`give one source, not ${sources.map((s) => `--${s}`).join(" and ")}`);
}

/** A live deployment is read when --server or --context names one; else JWTs at rest. */
export function isLive(values: Record<string, unknown>): boolean {
  return values["server"] !== undefined || values["context"] !== undefined;
}

/** `note`: something the user must know about what was read (one line each). */
export async function readSource(
  values: Record<string, unknown>,
  env: NodeJS.ProcessEnv,
  progress: (t: string) => unknown,
  note: (t: string) => unknown = () => {},
): Promise<Deployment[]> {
  const said = serversSaid(values);
  return (await readDeployments(values, env, progress, note)).map((d) => {
    const versions = d.servers?.versions ?? [];
    if (said.version === null && versions.length > 1)
      note(
        `the servers run ${versions.join(", ")}: judged by the rules of every line; ${oldestVersion(versions)} is the oldest (an import one line breaks is broken on its servers)`,
      );
    return withServersSaid(d, said);
  });
}

async function readDeployments(
  values: Record<string, unknown>,
  env: NodeJS.ProcessEnv,
  progress: (t: string) => unknown,
  note: (t: string) => unknown,
): Promise<Deployment[]> {
  if (values["audit-archive"]) return [await readAuditArchive(values["audit-archive"] as string)];
  if (values["jwt-dir"])
    return [readJwtDir(values["jwt-dir"] as string, (values["operator-jwt"] as string | undefined) ?? null)];
  if (isLive(values)) return [await readLive(liveConnection(values, env), progress, note)];
  return readNscStore((values["nsc-store"] as string | undefined) ?? nscStore(env));
}

/** Options first, then the NATS_* variables natscli also reads, then the context for the rest. */
export function liveConnection(values: Record<string, unknown>, env: NodeJS.ProcessEnv): ConnectionSettings {
  const opt = (flag: string, variable: string): string | undefined =>
    (values[flag] as string | undefined) || env[variable] || undefined;
  return resolveConnection(
    {
      url: values["server"] as string | undefined,
      context: opt("context", "NATS_CONTEXT"),
      creds: opt("creds", "NATS_CREDS"),
      nkey: opt("nkey", "NATS_NKEY"),
      user: opt("user", "NATS_USER"),
      password: opt("password", "NATS_PASSWORD"),
      token: opt("token", "NATS_TOKEN"),
      tlsCa: opt("tls-ca", "NATS_CA"),
      tlsCert: opt("tls-cert", "NATS_CERT"),
      tlsKey: opt("tls-key", "NATS_KEY"),
      tlsFirst: values["tls-first"] === true ? true : yesNo("NATS_TLS_FIRST", env["NATS_TLS_FIRST"]),
    },
    env,
    "--server",
  );
}

async function readLive(
  settings: ConnectionSettings,
  progress: (t: string) => unknown,
  note: (t: string) => unknown,
): Promise<Deployment> {
  const url = shownServers(settings);
  const nc = await connectOrFail(settings, "nats-insights-check");
  try {
    const resolver = new ResolverClient(nc, 2000);
    const facts = await resolver.serverFacts().catch((e: Error) => {
      throw new ConfigError(
        `${url}: cannot read the operator JWT from the servers' VARZ (are these system-account creds?): ${e.message}`,
      );
    });
    const operatorJwts = facts.operatorJwts;
    if (operatorJwts.length === 0)
      throw new ConfigError(`no operator JWT from ${url}: are these system-account creds?`);
    let loadedWithoutPush = false;
    const jwts = await resolver
      .loadAll((n) => progress(`loaded ${n} account JWTs…`))
      .catch(async (e: Error) => {
        // A memory or URL resolver: what the servers have loaded is all there is to read.
        if (e instanceof NoResolverError) {
          const load = await readLoadedAccounts(resolver, [], 500).catch((e2: Error) => {
            throw new ConfigError(
              `${url}: no resolver answers, and the servers' loaded accounts cannot be read (are these system-account creds?): ${e2.message}`,
            );
          });
          note(
            `no account resolver answers $SYS.REQ.CLAIMS.* (a memory or URL resolver): checked the ${load.jwts.size} accounts the servers have loaded${load.unseen.length > 0 ? `; not loaded by any server: ${load.unseen.join(", ")}` : ""}${load.differing.length > 0 ? `; the servers hold different JWTs for ${load.differing.join(", ")} (the newest is checked; it holds only where it is applied)` : ""}`,
          );
          loadedWithoutPush = true;
          return load.jwts;
        }
        throw new ConfigError(
          `${url}: cannot load the account JWTs through $SYS (system-account creds are needed): ${e.message}`,
        );
      });
    const connected = resolver.connectedVersion();
    return {
      origin: `live servers ${url}`,
      operatorJwts,
      accounts: [...jwts].map(([id, jwt]) => ({ filedUnder: id, jwt, file: id })),
      servers: {
        versions: facts.versions.length > 0 ? facts.versions : connected ? [connected] : [],
        jetStreamApi: facts.jetStreamApi,
        loadedWithoutPush,
      },
    };
  } finally {
    await nc.close();
  }
}

/**
 * Each server's own view (`$SYS.REQ.ACCOUNT.<id>.INFO`) of these accounts, as an audit archive
 * holds them: `check --server` asks it about the importers the JWTs leave undetermined (an import
 * cycle, where only the servers say which import they refuse) and their source accounts.
 */
export async function readServerViews(
  settings: ConnectionSettings,
  ids: string[],
): Promise<NonNullable<Deployment["serverViews"]>> {
  const nc = await connectOrFail(settings, "nats-insights-check");
  try {
    const resolver = new ResolverClient(nc, 2000);
    const count = await resolver.serverCount();
    const replies = new Map<string, AccountInfoReply[]>();
    const servers = new Set<string>();
    for (let i = 0; i < ids.length; i += 16) {
      const batch = ids.slice(i, i + 16);
      for (const [id, rs] of await Promise.all(
        batch.map(async (id) => [id, await resolver.accountInfo(id, count, 2000)] as const),
      )) {
        replies.set(id, rs);
        for (const r of rs) servers.add(r.server);
      }
    }
    return { servers: [...servers].sort(), replies };
  } finally {
    await nc.close();
  }
}

// ---- directories ------------------------------------------------------------------------------

/** One directory per deployment, with the JWTs that could not even be filed under an account. */
export function loadDirectories(
  deployments: Deployment[],
): { deployment: Deployment; dir: AccountDirectory; errors: AccountError[] }[] {
  return deployments.map((deployment) => {
    const dir = new AccountDirectory(trustOf(deployment));
    const errors: AccountError[] = [];
    for (const a of deployment.accounts) {
      try {
        dir.upsert(a.jwt, a.filedUnder ?? undefined);
      } catch (e) {
        errors.push({ account: a.filedUnder ?? a.file, account_name: null, error: (e as Error).message });
      }
    }
    return { deployment, dir, errors };
  });
}

function trustOf(d: Deployment): OperatorTrust {
  const trust = new OperatorTrust();
  for (const jwt of d.operatorJwts) {
    try {
      trust.addOperator(jwt);
    } catch (e) {
      throw new ConfigError(`${d.origin}: ${(e as Error).message}`);
    }
  }
  const servers = serversJudged(d.servers?.versions ?? [], d.servers?.jetStreamApi ?? false);
  // JWTs the servers loaded without a push were never put to the push's own checks.
  trust.judgeFor(d.servers?.loadedWithoutPush ? judgedAsLoaded(servers) : servers);
  return trust;
}
