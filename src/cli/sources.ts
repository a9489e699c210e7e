/**
 * Where the offline audit reads JWTs from: an nsc store, a directory of account JWTs (a full
 * resolver's directory, say), or a live deployment through $SYS. Each yields the operator JWTs to
 * trust and the account JWTs by the key they were filed under.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { homedir } from "node:os";
import { basename, join } from "node:path";
import { ConfigError } from "../config.js";
import { peekClaims } from "../core/jwt/decode.js";
import { isPublicKey } from "../core/jwt/nkey.js";
import type { AccountInfoReply } from "../shell/resolver.js";

export interface Deployment {
  /** What it was read from, for messages. */
  origin: string;
  operatorJwts: string[];
  /** Account JWTs by the key they were filed under (null: only the JWT itself names it). */
  accounts: { filedUnder: string | null; jwt: string; file: string }[];
  /** The instant the JWTs were read as of (an audit archive's capture), else now. */
  asOf?: Date;
  /** The servers' own views of the accounts taken with the JWTs (an audit archive's). */
  serverViews?: { servers: string[]; replies: ReadonlyMap<string, AccountInfoReply[]> };
}

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
  const configDir = env["NSC_HOME"] || (!existsSync(join(xdgConfig, "nsc.json")) && existsSync(join(legacy, "nsc.json")) ? legacy : xdgConfig);
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
  const operatorDirs = isOperatorDir(dir) ? [dir] : readdirSync(dir).map((n) => join(dir, n)).filter(isOperatorDir);
  if (operatorDirs.length === 0) throw new ConfigError(`no operator found in nsc store ${dir}`);
  return operatorDirs.map((opDir) => {
    const accountsDir = join(opDir, "accounts");
    const accounts = isDir(accountsDir)
      ? readdirSync(accountsDir)
          .map((name) => join(accountsDir, name, `${name}.jwt`))
          .filter((file) => existsSync(file))
          .map((file) => ({ filedUnder: null, jwt: readJwtFile(file), file }))
      : [];
    return { origin: `nsc store ${opDir}`, operatorJwts: [readJwtFile(join(opDir, `${basename(opDir)}.jwt`))], accounts };
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
