/**
 * natscli contexts, read from the files `nats context save` writes, so a deployment's connection
 * settings are given once: `$XDG_CONFIG_HOME/nats/context/<name>.json` (else `~/.config/nats/...`),
 * or a `.json` file named directly (as natscli accepts for `--context`). Only what a connection
 * needs is read; settings this program cannot honour (a SOCKS proxy, nsc lookups, 1Password
 * references, a Windows certificate store) are refused with a ConfigError rather than ignored.
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { ConfigError } from "../config-error.js";

/** A credential given by reference: a file, or bytes embedded in the context or taken from the environment. */
export type Secret = { path: string } | { bytes: Uint8Array; label: string };

export interface NatsContext {
  name: string;
  file: string;
  url: string | null;
  user: string | null;
  password: string | null;
  token: string | null;
  creds: Secret | null;
  nkey: Secret | null;
  cert: string | null;
  key: string | null;
  ca: string | null;
  tlsFirst: boolean;
}

/** A context file is tiny; anything larger is not one. */
const MAX_CONTEXT_FILE = 64 * 1024;

/** Where natscli keeps a context of that name, or the file itself when a `.json` path is given. */
export function contextFile(nameOrFile: string, env: NodeJS.ProcessEnv): string {
  if (nameOrFile.endsWith(".json") && existsSync(nameOrFile)) return nameOrFile;
  if (nameOrFile === "" || nameOrFile.includes("..") || /[/\\]/.test(nameOrFile)) {
    throw new ConfigError(`NATS_CONTEXT: "${nameOrFile}" is neither a context name nor an existing .json file`);
  }
  const root = env["XDG_CONFIG_HOME"] || join(env["HOME"] || homedir(), ".config");
  return join(root, "nats", "context", `${nameOrFile}.json`);
}

export function readContext(nameOrFile: string, env: NodeJS.ProcessEnv): NatsContext {
  const file = contextFile(nameOrFile, env);
  if (!existsSync(file))
    throw new ConfigError(`NATS_CONTEXT: no context "${nameOrFile}" (looked for ${file}; see \`nats context ls\`)`);
  if (statSync(file).size > MAX_CONTEXT_FILE)
    throw new ConfigError(`NATS_CONTEXT: ${file} is too large to be a context`);
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(readFileSync(file, "utf8")) as Record<string, unknown>;
  } catch (e) {
    throw new ConfigError(`NATS_CONTEXT: ${file} is not JSON: ${(e as Error).message}`);
  }
  if (raw === null || typeof raw !== "object" || Array.isArray(raw))
    throw new ConfigError(`NATS_CONTEXT: ${file} is not a context`);
  const text = (field: string): string | null => {
    const v = raw[field];
    if (v === undefined || v === null || v === "") return null;
    if (typeof v !== "string") throw new ConfigError(`NATS_CONTEXT: ${file}: "${field}" must be a string`);
    return v;
  };
  for (const field of ["socks_proxy", "nsc", "user_jwt", "user_seed", "windows_cert_store"]) {
    if (text(field) !== null)
      throw new ConfigError(
        `NATS_CONTEXT: ${file}: "${field}" is not supported here; use creds, nkey, user/password or token`,
      );
  }
  const where = `context ${file}`;
  const literal = (field: string) => {
    const v = text(field);
    return v === null ? null : resolveLiteral(v, `${where}: ${field}`, env);
  };
  const path = (field: string) => {
    const v = text(field);
    return v === null ? null : expandPath(v, env);
  };
  const secret = (field: string) => {
    const v = text(field);
    return v === null ? null : resolveSecret(v, `${where}: ${field}`, env);
  };
  return {
    name: nameOrFile,
    file,
    url: text("url"),
    user: literal("user"),
    password: literal("password"),
    token: literal("token"),
    creds: secret("creds"),
    nkey: secret("nkey"),
    cert: path("cert"),
    key: path("key"),
    ca: path("ca"),
    tlsFirst: raw["tls_first"] === true,
  };
}

/** natscli expands `$VAR` and a leading `~` in paths. */
export function expandPath(path: string, env: NodeJS.ProcessEnv): string {
  const expanded = path.replace(
    /\$\{(\w+)\}|\$(\w+)/g,
    (_m, a: string | undefined, b: string | undefined) => env[(a ?? b)!] ?? "",
  );
  return expanded.startsWith("~") ? (env["HOME"] || homedir()) + expanded.slice(1) : expanded;
}

/** A creds or nkey reference: a path, `file://path`, `env://NAME` (the contents), or `data:;base64,…` (`--embed`). */
export function resolveSecret(value: string, what: string, env: NodeJS.ProcessEnv): Secret {
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(value)?.[1]?.toLowerCase();
  if (scheme === undefined) return { path: expandPath(value, env) };
  if (scheme === "file") return { path: expandPath(value.replace(/^file:\/\//i, ""), env) };
  if (scheme === "env") return { bytes: new TextEncoder().encode(fromEnv(value, what, env)), label: value };
  if (scheme === "data") return { bytes: decodeDataUri(value, what), label: `${what} (embedded)` };
  throw new ConfigError(`${what}: ${scheme}:// references are not supported here; give a file`);
}

/** A user, password or token: itself, or `env://NAME`. */
function resolveLiteral(value: string, what: string, env: NodeJS.ProcessEnv): string {
  return /^env:\/\//i.test(value) ? fromEnv(value, what, env) : value;
}

function fromEnv(value: string, what: string, env: NodeJS.ProcessEnv): string {
  const name = value.replace(/^env:\/\//i, "");
  const v = env[name];
  if (!v) throw new ConfigError(`${what}: the environment variable ${name} is not set`);
  return v;
}

function decodeDataUri(value: string, what: string): Uint8Array {
  const m = /^data:([^,]*),(.*)$/s.exec(value);
  if (!m) throw new ConfigError(`${what}: not a data: URI`);
  return m[1]!.endsWith(";base64")
    ? new Uint8Array(Buffer.from(m[2]!, "base64"))
    : new TextEncoder().encode(decodeURIComponent(m[2]!));
}
