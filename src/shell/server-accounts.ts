/**
 * Account JWTs from the servers themselves, for deployments where no resolver answers
 * `$SYS.REQ.CLAIMS.*`: a memory resolver (`resolver: MEMORY` with `resolver_preload`, what
 * `nsc generate config --mem-resolver` writes) or a URL resolver. Each server lists the accounts it
 * has loaded (`$SYS.REQ.SERVER.PING.ACCOUNTZ`) and gives each one's JWT (`ACCOUNT.<id>.INFO`).
 *
 * Such a server loads an account only when something needs it: a client of it connects, or an
 * account being loaded imports from it (measured on every supported line: at start only the system
 * account is loaded; `test/integration/memory-resolver.test.ts`). An account no server has loaded
 * cannot be seen over NATS, and asking never loads one; the ones the service knows of (an import
 * names them, or it saw them before) are reported as unseen.
 */
import { importSources } from "../core/directory.js";
import { peekClaims } from "../core/jwt/decode.js";
import { isPublicKey } from "../core/jwt/nkey.js";
import { MAX_ACCOUNTS, type ResolverClient } from "./resolver.js";

const CONCURRENCY = 16;
/** Rounds of following import sources no server listed (a chain of them ends within a few). */
const SOURCE_ROUNDS = 8;

/** Where the service's JWTs came from, as the check reply says it. */
export interface JwtSource {
  /** "resolver": CLAIMS.PACK/LIST/LOOKUP; "servers": what the servers have loaded (ACCOUNTZ + INFO). */
  from: "resolver" | "servers";
  /** Accounts named by an import or seen before that no server has loaded (always empty for "resolver"). */
  unseen_accounts: string[];
  /**
   * Accounts the servers that have them loaded hold different JWTs for (always empty for
   * "resolver"): the verdicts, made from the newest, hold only where that one is applied. A push
   * to a memory resolver does this: only the servers with the account loaded apply it, and one
   * that loads it later, or reloads, takes the preload's (see the README).
   */
  differing_accounts: string[];
}

export interface ServerLoad {
  jwts: Map<string, string>;
  unseen: string[];
  /** Accounts for which the servers that have them loaded hold different JWTs. */
  differing: string[];
}

/**
 * Every account JWT some server has loaded. Servers may hold different JWTs for a while (a config
 * reload reaches them one by one): the newest (`iat`) is taken. `known`: accounts to look for even
 * if no server lists them (those seen before); they and every import source no server has loaded
 * are `unseen`.
 */
export async function readLoadedAccounts(
  client: ResolverClient,
  known: Iterable<string>,
  infoWaitMs: number,
): Promise<ServerLoad> {
  const listing = await client.accountz();
  const jwts = new Map<string, string>();
  const asked = new Set<string>();
  const unseen = new Set<string>();
  const differing = new Set<string>();
  let candidates = [...new Set([...listing.accounts, ...known])].filter((id) => isPublicKey(id, "account"));
  for (let round = 0; round <= SOURCE_ROUNDS && candidates.length > 0; round++) {
    for (const id of candidates) asked.add(id);
    const found = await newestJwts(client, candidates, listing.servers, infoWaitMs, differing);
    for (const id of candidates) {
      const jwt = found.get(id);
      if (jwt && jwts.size < MAX_ACCOUNTS) jwts.set(id, jwt);
      else unseen.add(id);
    }
    // importSources names only well-formed account keys.
    candidates = [...new Set([...found.values()].flatMap(importSources))].filter((id) => !asked.has(id));
  }
  return { jwts, unseen: [...unseen].sort(), differing: [...differing].filter((id) => jwts.has(id)).sort() };
}

/**
 * Each account's JWT from the servers that have it loaded, the newest where they differ (those
 * accounts are added to `differing`).
 */
async function newestJwts(
  client: ResolverClient,
  ids: string[],
  servers: number,
  waitMs: number,
  differing: Set<string>,
): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (let i = 0; i < ids.length; i += CONCURRENCY) {
    const batch = ids.slice(i, i + CONCURRENCY);
    const answers = await Promise.all(
      batch.map(async (id) => [id, await client.accountInfo(id, servers, waitMs)] as const),
    );
    for (const [id, replies] of answers) {
      const loaded = replies.flatMap((r) => (r.jwt !== null && peekClaims(r.jwt)?.["sub"] === id ? [r.jwt] : []));
      const newest = loaded.sort((a, b) => issuedAt(b) - issuedAt(a))[0];
      if (newest) out.set(id, newest);
      if (new Set(loaded).size > 1) differing.add(id);
    }
  }
  return out;
}

function issuedAt(jwt: string): number {
  const iat = peekClaims(jwt)?.["iat"];
  return typeof iat === "number" ? iat : 0;
}
