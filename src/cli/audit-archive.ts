/**
 * An archive `nats audit gather` wrote (natscli 0.5: a ZIP with a manifest of tagged entries): the
 * operator JWTs the servers trust (each server's VARZ), every account JWT a server had loaded and
 * each server's own view of that account's imports (each server's ACCOUNT.<id>.INFO), all as of
 * the capture. Entries are found by their tags in the manifest, as the format asks, not by path.
 * Only the entries needed are inflated, each bounded; profiles and the rest are never read.
 *
 * Gather asks only about the accounts some server had loaded (ACCOUNTZ): an account no server
 * loaded is not in the archive, and an import from it reads as from an unknown account, which is
 * what those servers made of it too (a server loads an importer's sources with it).
 */
import { ConfigError } from "../config.js";
import { isPublicKey } from "../core/jwt/nkey.js";
import { parseAccountInfoBody, serverFactsOf, type AccountInfoReply } from "../shell/resolver.js";
import { peekClaims } from "../core/jwt/decode.js";
import type { Deployment } from "./deployment.js";
import { ZipArchive } from "./zip.js";

export const ARCHIVE_LIMITS = {
  /** Largest archive read: gather's profiles make archives big, but they are never inflated. */
  maxFileBytes: 2 * 1024 ** 3,
  /** Most ZIP entries (accounts × 7 endpoints × servers, plus server endpoints). */
  maxEntries: 500_000,
  /** Largest manifest (about 200 bytes an entry). */
  maxManifestBytes: 128 * 1024 * 1024,
  /** Largest VARZ or INFO reply inflated (a JWT is at most 1 MiB; the reply is pretty-printed). */
  maxReplyBytes: 8 * 1024 * 1024,
  /** Most bytes inflated in all (a bomb of many entries just under the per-entry bound). */
  maxTotalBytes: 1024 ** 3,
  /** Most accounts read. */
  maxAccounts: 100_000,
};

const MANIFEST = "capture/misc/manifest.json";
const METADATA_TAG = "audit_gather_metadata";

type Tags = Map<string, string>;

export interface ArchivedDeployment extends Deployment {
  serverViews: NonNullable<Deployment["serverViews"]>;
}

export async function readAuditArchive(path: string, limits = ARCHIVE_LIMITS): Promise<ArchivedDeployment> {
  const zip = await ZipArchive.open(path, limits);
  try {
    let inflated = 0;
    const json = async (name: string, max: number): Promise<unknown> => {
      const data = await zip.read(name, max);
      inflated += data.length;
      if (inflated > limits.maxTotalBytes)
        throw new ConfigError(`${path}: more than ${limits.maxTotalBytes} bytes to inflate`);
      try {
        return JSON.parse(data.toString("utf8"));
      } catch {
        throw new ConfigError(`${path}: ${name} is not JSON`);
      }
    };
    if (!zip.entries.has(MANIFEST))
      throw new ConfigError(`${path} is no audit archive (no ${MANIFEST}); it is what \`nats audit gather\` writes`);
    const manifest = parseManifest(await json(MANIFEST, limits.maxManifestBytes), path);
    const ofType = (type: string) =>
      [...manifest].filter(([, tags]) => tags.get("artifact_type") === type).sort(([a], [b]) => a.localeCompare(b));

    const servers = new Set<string>();
    const varz: unknown[] = [];
    for (const [name, tags] of ofType("variables")) {
      servers.add(tags.get("server") ?? name);
      varz.push(((await json(name, limits.maxReplyBytes)) as { data?: unknown } | null)?.data);
    }
    const facts = serverFactsOf(varz);
    if (facts.operatorJwts.length === 0)
      throw new ConfigError(
        `${path}: no server's VARZ names a trusted operator JWT (gathered with --no-server-endpoints, or not in operator mode?)`,
      );

    const replies = new Map<string, AccountInfoReply[]>();
    for (const [name, tags] of ofType("account_info")) {
      const account = tags.get("account") ?? "";
      // Paged entries: one reply a server, so the first page is the reply.
      if (!isPublicKey(account, "account") || !name.endsWith("/0001.json")) continue;
      if (!replies.has(account) && replies.size >= limits.maxAccounts)
        throw new ConfigError(`${path} has more than ${limits.maxAccounts} accounts`);
      const reply = parseAccountInfoBody(await json(name, limits.maxReplyBytes));
      if (!reply) continue;
      servers.add(reply.server);
      replies.set(account, [...(replies.get(account) ?? []), reply]);
    }

    return {
      origin: `audit archive ${path}`,
      operatorJwts: facts.operatorJwts,
      servers: { versions: facts.versions, jetStreamApi: facts.jetStreamApi },
      accounts: [...replies].flatMap(([id, rs]) => {
        const jwt = newest(rs.map((r) => r.jwt).filter((j): j is string => j !== null));
        return jwt ? [{ filedUnder: id, jwt, file: `${path}: ${id}` }] : [];
      }),
      ...optional("asOf", await capturedAt(manifest, json, limits.maxReplyBytes)),
      serverViews: { servers: [...servers].sort(), replies },
    };
  } finally {
    zip.close();
  }
}

function parseManifest(raw: unknown, path: string): Map<string, Tags> {
  if (!raw || typeof raw !== "object" || Array.isArray(raw))
    throw new ConfigError(`${path}: its manifest is not an object`);
  const out = new Map<string, Tags>();
  for (const [name, tags] of Object.entries(raw as Record<string, unknown>)) {
    if (!Array.isArray(tags)) continue;
    const map: Tags = new Map();
    for (const t of tags) {
      const { Name, Value } = (t ?? {}) as { Name?: unknown; Value?: unknown };
      if (typeof Name === "string" && typeof Value === "string") map.set(Name, Value);
    }
    out.set(name, map);
  }
  return out;
}

/** When the servers were asked: the capture metadata's timestamp. */
async function capturedAt(
  manifest: Map<string, Tags>,
  json: (name: string, max: number) => Promise<unknown>,
  max: number,
): Promise<Date | null> {
  const entry = [...manifest].find(([, tags]) => tags.get("special") === METADATA_TAG);
  if (!entry) return null;
  const stamp = ((await json(entry[0], max)) as { capture_timestamp?: unknown } | null)?.capture_timestamp;
  const at = typeof stamp === "string" ? new Date(stamp) : null;
  return at && Number.isFinite(at.getTime()) ? at : null;
}

/** A gather cut short writes no metadata: then the check is made as of now. */
function optional(key: "asOf", at: Date | null): { asOf?: Date } {
  return at ? { [key]: at } : {};
}

/** Of the JWTs servers had applied for one account, the one issued last (servers that lag hold older ones). */
function newest(jwts: string[]): string | null {
  let best: string | null = null;
  let bestIat = -Infinity;
  for (const jwt of new Set(jwts)) {
    const iat = Number(peekClaims(jwt)?.["iat"] ?? 0);
    if (best === null || iat > bestIat) [best, bestIat] = [jwt, iat];
  }
  return best;
}
