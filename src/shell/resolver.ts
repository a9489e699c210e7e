/**
 * The account resolver's $SYS API, as the service uses it: bulk load (CLAIMS.PACK, falling back to
 * CLAIMS.LIST + LOOKUP), single lookups, the operator JWT from VARZ, and each server's own view of
 * an account (ACCOUNT.<id>.INFO). Every reply is bounded and checked before use.
 */
import {
  createInbox,
  NoRespondersError,
  RequestError,
  TimeoutError,
  type Msg,
  type NatsConnection,
} from "@nats-io/nats-core";
import { isPublicKey } from "../core/jwt/nkey.js";
import { MAX_TOKEN_BYTES } from "../core/jwt/decode.js";
import { hasWildcard, subjectsCollide } from "../core/subject.js";
import { SYSTEM_IMPORT_SUBJECTS } from "../core/system-account.js";
import type { ConnectionSettings } from "./connection.js";
import { packThreadAvailable, readPackOnThread } from "./pack-reader.js";

export const SUBJECTS = {
  pack: "$SYS.REQ.CLAIMS.PACK",
  list: "$SYS.REQ.CLAIMS.LIST",
  lookup: (id: string) => `$SYS.REQ.ACCOUNT.${id}.CLAIMS.LOOKUP`,
  info: (id: string) => `$SYS.REQ.ACCOUNT.${id}.INFO`,
  subsz: (id: string) => `$SYS.REQ.ACCOUNT.${id}.SUBSZ`,
  varz: "$SYS.REQ.SERVER.PING.VARZ",
  accountz: "$SYS.REQ.SERVER.PING.ACCOUNTZ",
  ping: "$SYS.REQ.SERVER.PING",
  /** What `nsc push` and older tools send; the server publishes none of them itself. */
  updates: ["$SYS.REQ.CLAIMS.UPDATE", "$SYS.REQ.ACCOUNT.*.CLAIMS.UPDATE", "$SYS.ACCOUNT.*.CLAIMS.UPDATE"],
  /** What `nsc push --prune` sends: an operator-signed list of accounts to delete. */
  deletes: "$SYS.REQ.CLAIMS.DELETE",
} as const;

/** Subscriptions listed per server when a wildcard subject's interest is asked (more: unknown). */
export const SUBSZ_LIST_LIMIT = 10_000;
/**
 * Once CLAIMS.PACK flows, the silence (at least the request time-out) after which the rest is taken
 * as lost: a full collection or a loaded machine pauses the server's stream, or this thread, for
 * seconds (docs/decisions.md 38).
 */
export const PACK_SILENCE_MS = 10_000;
/** A pack that flowed and stopped short is asked for again after these pauses, then LIST + LOOKUP. */
const PACK_RETRY_MS = [1_000, 4_000];
/** A LIST or LOOKUP nobody answered in time (a busy server) is asked again after these pauses. */
const LOOKUP_RETRY_MS = [250, 1_000, 4_000];

/** More accounts than this in one deployment is treated as hostile input. */
export const MAX_ACCOUNTS = 1_000_000;

/** What the servers' VARZ says that the import decisions depend on. */
export interface ServerFacts {
  /** The operator JWTs the servers trust. */
  operatorJwts: string[];
  /** Each answering server's version as it reports it ("2.10.29"); the rules differ between lines. */
  versions: string[];
  /**
   * Some server runs JetStream, or belongs to a cluster or super-cluster: the system account then
   * exports `$JS.API.>` (nats-server's checkJetStreamExports).
   */
  jetStreamApi: boolean;
}

/** A version string is at most this long; anything longer is not a version. */
const MAX_VERSION_LENGTH = 64;

/** The facts of VARZ replies' `data` objects (gathered live, or from an audit archive). */
export function serverFactsOf(varz: readonly unknown[]): ServerFacts {
  const jwts = new Set<string>();
  const versions = new Set<string>();
  let jetStreamApi = false;
  for (const data of varz) {
    if (typeof data !== "object" || data === null) continue;
    const v = data as {
      trusted_operators_jwt?: unknown;
      version?: unknown;
      jetstream?: { config?: unknown };
      cluster?: { name?: unknown; addr?: unknown };
      gateway?: { name?: unknown };
    };
    for (const jwt of Array.isArray(v.trusted_operators_jwt) ? v.trusted_operators_jwt : [])
      if (typeof jwt === "string" && jwt.length <= MAX_TOKEN_BYTES) jwts.add(jwt.trim());
    if (typeof v.version === "string" && v.version.length <= MAX_VERSION_LENGTH) versions.add(v.version);
    if (v.jetstream?.config || v.cluster?.name || v.cluster?.addr || v.gateway?.name) jetStreamApi = true;
  }
  return { operatorJwts: [...jwts], versions: [...versions].sort(), jetStreamApi };
}

/**
 * Nobody answers `$SYS.REQ.CLAIMS.*`: the servers run a memory or URL resolver (neither serves
 * that API), or a cache resolver alone (it answers LIST, never LOOKUP or PACK).
 */
export class NoResolverError extends Error {
  constructor(what: string) {
    super(`no account resolver answers ${what}`);
  }
}

export function isNoResponders(e: unknown): boolean {
  return e instanceof NoRespondersError || (e instanceof RequestError && e.isNoResponders());
}

export type LookupAnswer = { kind: "jwt"; jwt: string } | { kind: "none" } | { kind: "silent" };

function versionBelow(version: string, [major, minor, patch]: [number, number, number]): boolean {
  const [a = 0, b = 0, c = 0] = version.split(/[.-]/).map(Number);
  return a !== major ? a < major : b !== minor ? b < minor : c < patch;
}

export interface ServerImportView {
  /** Service: the subject the importer publishes to; stream: the exporter-side subject. */
  subject: string;
  /**
   * Where the importer's clients publish (service) or receive (stream), wildcard references as `*`;
   * null where the reply does not say. Two stream imports of one subject from one account differ
   * only here (a prefix), and the server adds the first only.
   */
  local: string | null;
  account: string;
  type: "stream" | "service";
  invalid: boolean;
}

export interface AccountInfoReply {
  server: string;
  /** The account JWT this server has applied (set only once an update is complete); null: not loaded. */
  jwt: string | null;
  /** Imports the server registered (system imports excluded). */
  imports: ServerImportView[];
}

export class ResolverClient {
  /**
   * `packConnection`: how to connect for CLAIMS.PACK on a thread of its own (pack-reader.ts), so
   * that a busy service thread cannot make the server drop a slow consumer mid-pack; null: the
   * pack is read on `nc`.
   */
  constructor(
    private readonly nc: NatsConnection,
    private readonly timeoutMs: number,
    private readonly packConnection: ConnectionSettings | null = null,
  ) {}

  /** The JWT the resolver stores for `id`, or null when it has none (or an old server stays silent). */
  async lookup(id: string): Promise<string | null> {
    const answer = await this.ask(id, this.timeoutMs);
    if (answer.kind === "silent") throw new TimeoutError();
    return answer.kind === "jwt" ? answer.jwt : null;
  }

  /**
   * What the resolver says of `id` within `timeoutMs`: its JWT, that it has none (servers since
   * 2.9.17 answer an unknown account with an empty reply), or nothing at all. Silence is not
   * "none": replies get lost, and a server may be slow; `silentMeansNone` says if it can be.
   */
  async ask(id: string, timeoutMs: number): Promise<LookupAnswer> {
    try {
      const msg = await this.nc.request(SUBJECTS.lookup(id), undefined, { timeout: timeoutMs });
      const jwt = msg.string().trim();
      return jwt === "" ? { kind: "none" } : { kind: "jwt", jwt };
    } catch (e) {
      if (e instanceof TimeoutError) return { kind: "silent" };
      throw e;
    }
  }

  /** Before 2.9.17 a server does not answer a LOOKUP of an account it lacks. */
  silentMeansNone(): boolean {
    return versionBelow(this.nc.info?.version ?? "0.0.0", [2, 9, 17]);
  }

  /**
   * Every stored account JWT, by account id. PACK first; LIST + LOOKUP where PACK is not served
   * (nobody answers it, or its stream stops short even when asked again), after `onFallback` is
   * told why. `onPacked` hears each JWT as the pack brings it (to verify it while the rest streams
   * in), once per JWT however often the pack is asked. A request nobody answered in time is asked
   * again (PACK_RETRY_MS, LOOKUP_RETRY_MS; `onRetry` hears each), so a busy server or machine does
   * not end the load. Throws NoResolverError when nobody answers LIST or LOOKUP either (see
   * readLoadedAccounts for what then); any other error is the caller's.
   */
  async loadAll(
    onProgress: (loaded: number) => void = () => {},
    onFallback: (why: string) => void = () => {},
    onPacked: (id: string, jwt: string) => void = () => {},
    onRetry: (why: string, delayMs: number) => void = () => {},
    signal?: AbortSignal,
  ): Promise<Map<string, string>> {
    const delivered = new Map<string, string>();
    const once = (id: string, jwt: string) => {
      signal?.throwIfAborted(); // ends the stream: nothing reads an abandoned load
      if (delivered.get(id) === jwt) return;
      delivered.set(id, jwt);
      onPacked(id, jwt);
    };
    try {
      return await this.retried(() => this.pack(onProgress, once), PACK_RETRY_MS, onRetry, flowedThenStopped, signal);
    } catch (e) {
      if (!packNotServed(e)) throw e;
      onFallback(e.message);
      try {
        return await this.listAndLookup(onProgress, onRetry, signal);
      } catch (e) {
        if (isNoResponders(e)) throw new NoResolverError("$SYS.REQ.CLAIMS.LIST and LOOKUP");
        throw e;
      }
    }
  }

  /**
   * `ask`, asked again after each of `delaysMs` while it fails as `again` says (a time-out, by
   * default), unless `signal` says the caller no longer wants the answer.
   */
  private async retried<T>(
    ask: () => Promise<T>,
    delaysMs: readonly number[],
    onRetry: (why: string, delayMs: number) => void,
    again: (e: unknown) => e is Error = isTimeout,
    signal?: AbortSignal,
  ): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      signal?.throwIfAborted();
      try {
        return await ask();
      } catch (e) {
        const delay = delaysMs[attempt];
        if (delay === undefined || !again(e) || signal?.aborted) throw e;
        onRetry(e.message, delay);
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  }

  /** CLAIMS.PACK: one `pubkey|jwt` message each, an empty message ends the stream. */
  async pack(
    onProgress: (loaded: number) => void,
    onPacked: (id: string, jwt: string) => void = () => {},
  ): Promise<Map<string, string>> {
    const jwts = new Map<string, string>();
    let reported = 0;
    const onText = (text: string) => {
      addPackLines(jwts, text, onPacked);
      if (Math.floor(jwts.size / 1000) > reported) onProgress((reported = Math.floor(jwts.size / 1000)) * 1000);
    };
    // A hash that matches no store makes the server send everything.
    const request = { subject: SUBJECTS.pack, payload: "nats-insights" };
    let ended =
      this.packConnection && packThreadAvailable()
        ? await readPackOnThread(
            { ...request, settings: this.packConnection, timeoutMs: this.timeoutMs, silenceMs: PACK_SILENCE_MS },
            onText,
          )
        : null;
    ended ??= await this.stream(request.subject, request.payload, (msg) => onText(msg.string()));
    if (ended === "no-responders") throw new NoRespondersError(SUBJECTS.pack);
    if (ended === "silent") throw new PackIncomplete("nobody answered CLAIMS.PACK in time", false);
    if (ended === "stopped")
      throw new PackIncomplete(`CLAIMS.PACK stopped after ${jwts.size} JWTs, without its closing empty message`, true);
    return jwts;
  }

  /**
   * A request answered by a stream of messages that an empty one ends: "ended" once it came;
   * "silent" when nothing came for twice the request time-out; "stopped" when the stream stopped
   * for PACK_SILENCE_MS (at least the time-out) after it had flowed. A pause in a flowing stream is
   * the server's or this machine's (a collection, a loaded core), not a lost responder: the
   * request time-out alone cut a 100,000-account pack short on a loaded machine. A stall is judged
   * only after this thread has read its socket: a timer that comes due while the thread is busy
   * runs before the messages that arrived meanwhile are read, and nats.js's own stall strategy then
   * ended a 100,000-account pack that was still flowing.
   */
  private stream(
    subject: string,
    payload: string,
    onMessage: (msg: Msg) => void,
  ): Promise<"ended" | "silent" | "stopped"> {
    return new Promise((resolve, reject) => {
      let heard = -1;
      let timer: NodeJS.Timeout | undefined;
      let done = false;
      const finish = (outcome: "ended" | "silent" | "stopped" | Error) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        sub.unsubscribe();
        if (outcome instanceof Error) reject(outcome);
        else resolve(outcome);
      };
      const limit = () => (heard < 0 ? 2 * this.timeoutMs : Math.max(this.timeoutMs, PACK_SILENCE_MS));
      const since = () => limit() - (performance.now() - Math.max(heard, started));
      const watch = () => {
        timer = setTimeout(
          () => setImmediate(() => (since() > 0 ? watch() : finish(heard < 0 ? "silent" : "stopped"))),
          since(),
        );
      };
      const sub = this.nc.subscribe(createInbox(), {
        callback: (err, msg) => {
          if (err) return finish(err);
          heard = performance.now();
          if (msg.data.length === 0) {
            if (msg.headers?.code === 503) return finish(new NoRespondersError(subject));
            return finish("ended");
          }
          try {
            onMessage(msg);
          } catch (e) {
            finish(e as Error);
          }
        },
      });
      const started = performance.now();
      try {
        this.nc.publish(subject, payload, { reply: sub.getSubject() });
      } catch (e) {
        finish(e as Error);
        return;
      }
      watch();
    });
  }

  /**
   * JWTs the resolver stores but does not list. The full resolver leaves a JWT that has expired out
   * of CLAIMS.LIST and CLAIMS.PACK, yet still answers its LOOKUP (every supported line, see
   * docs/servers.md), so the only way to see it is to ask for it by key. Adds what it finds to
   * `jwts`; returns the ids found.
   */
  async addUnlisted(jwts: Map<string, string>, candidates: Iterable<string>): Promise<string[]> {
    const ids = [...new Set(candidates)].filter((id) => !jwts.has(id) && isPublicKey(id, "account"));
    const found: string[] = [];
    const CONCURRENCY = 16;
    for (let i = 0; i < ids.length; i += CONCURRENCY) {
      const batch = ids.slice(i, i + CONCURRENCY);
      const answers = await Promise.all(batch.map(async (id) => [id, await this.ask(id, this.timeoutMs)] as const));
      for (const [id, answer] of answers) {
        if (answer.kind === "jwt" && answer.jwt.length <= MAX_TOKEN_BYTES && jwts.size < MAX_ACCOUNTS) {
          jwts.set(id, answer.jwt);
          found.push(id);
        }
      }
    }
    return found;
  }

  async list(onRetry: (why: string, delayMs: number) => void = () => {}, signal?: AbortSignal): Promise<string[]> {
    return this.retried(() => this.listOnce(), LOOKUP_RETRY_MS, onRetry, isTimeout, signal);
  }

  private async listOnce(): Promise<string[]> {
    const msg = await this.nc.request(SUBJECTS.list, undefined, { timeout: this.timeoutMs });
    const body = msg.json<{ data?: unknown }>();
    const ids = Array.isArray(body.data) ? body.data : [];
    if (ids.length > MAX_ACCOUNTS)
      throw new Error(`CLAIMS.LIST returned ${ids.length} accounts, more than ${MAX_ACCOUNTS}`);
    return ids.filter((id): id is string => isPublicKey(id, "account"));
  }

  private async listAndLookup(
    onProgress: (loaded: number) => void,
    onRetry: (why: string, delayMs: number) => void,
    signal?: AbortSignal,
  ): Promise<Map<string, string>> {
    const ids = await this.list(onRetry, signal);
    const lookup = (id: string) => this.retried(() => this.lookup(id), LOOKUP_RETRY_MS, onRetry, isTimeout, signal);
    const jwts = new Map<string, string>();
    const CONCURRENCY = 16;
    for (let i = 0; i < ids.length; i += CONCURRENCY) {
      signal?.throwIfAborted();
      const batch = ids.slice(i, i + CONCURRENCY);
      const found = await Promise.all(batch.map(async (id) => [id, await lookup(id)] as const));
      for (const [id, jwt] of found) if (jwt) jwts.set(id, jwt);
      onProgress(jwts.size);
    }
    return jwts;
  }

  /** The version of the server this connection is on now (it changes with a reconnect). */
  connectedVersion(): string | undefined {
    return this.nc.info?.version;
  }

  /** What the servers say of themselves in VARZ (every server that answers in time). */
  async serverFacts(): Promise<ServerFacts> {
    // Replies of a cluster come together; a 200 ms lull after the first ends the wait.
    const replies = await this.nc.requestMany(SUBJECTS.varz, undefined, {
      strategy: "stall",
      stall: 200,
      maxWait: this.timeoutMs,
    });
    const varz: unknown[] = [];
    for await (const msg of replies) varz.push(msg.json<{ data?: unknown }>().data);
    return serverFactsOf(varz);
  }

  /** The accounts each server has loaded (ACCOUNTZ), together, and how many servers answered. */
  async accountz(): Promise<{ servers: number; accounts: Set<string> }> {
    const replies = await this.nc.requestMany(SUBJECTS.accountz, undefined, {
      strategy: "stall",
      stall: 200,
      maxWait: this.timeoutMs,
    });
    const accounts = new Set<string>();
    let servers = 0;
    for await (const msg of replies) {
      servers++;
      let list: unknown;
      try {
        list = msg.json<{ data?: { accounts?: unknown } }>().data?.accounts;
      } catch {
        continue;
      }
      for (const id of Array.isArray(list) ? list : [])
        if (typeof id === "string" && isPublicKey(id, "account") && accounts.size < MAX_ACCOUNTS) accounts.add(id);
    }
    if (servers === 0) throw new Error(`no server answered ${SUBJECTS.accountz}`);
    return { servers, accounts };
  }

  /**
   * Has the account a local subscription that a message on `subject` would reach, on each server
   * (ACCOUNT.<id>.SUBSZ counts only a server's own clients, so every server is asked)? A literal
   * subject is asked with SUBSZ's `test`; a wildcard one by listing up to SUBSZ_LIST_LIMIT
   * subscriptions and looking for one that collides with it (more than that: null, unknown).
   */
  async subscriptionInterest(
    account: string,
    subject: string,
    servers: number,
    maxWaitMs: number,
  ): Promise<(boolean | null)[]> {
    const wildcard = hasWildcard(subject);
    const options = wildcard ? { limit: SUBSZ_LIST_LIMIT } : { test: subject, limit: 1 };
    const replies = await this.nc.requestMany(SUBJECTS.subsz(account), JSON.stringify(options), {
      strategy: "count",
      maxMessages: Math.max(1, servers),
      maxWait: maxWaitMs,
    });
    const answers: (boolean | null)[] = [];
    for await (const msg of replies) {
      let data: { total?: unknown; subscriptions_list?: unknown } | undefined;
      try {
        data = msg.json<{ data?: typeof data }>().data;
      } catch {
        answers.push(null);
        continue;
      }
      const total = typeof data?.total === "number" ? data.total : null;
      if (total === null) answers.push(null);
      else if (!wildcard) answers.push(total > 0);
      else {
        const subs = Array.isArray(data?.subscriptions_list)
          ? (data.subscriptions_list as { subject?: unknown }[])
          : [];
        const hit = subs.some((s) => typeof s?.subject === "string" && subjectsCollide(s.subject, subject));
        answers.push(hit ? true : total > subs.length ? null : false);
      }
    }
    return answers;
  }

  /** How many servers answer a ping: each of them answers an ACCOUNT.<id>.INFO request too. */
  async serverCount(): Promise<number> {
    let n = 0;
    const replies = await this.nc.requestMany(SUBJECTS.ping, undefined, {
      strategy: "stall",
      stall: 200,
      maxWait: this.timeoutMs,
    });
    for await (const _ of replies) n++;
    return n;
  }

  /**
   * Each server's view of the account (see parseAccountInfo). Every server answers (with an error
   * when it has not loaded the account), so the wait ends after `servers` replies, or at `maxWaitMs`.
   */
  async accountInfo(id: string, servers: number, maxWaitMs: number): Promise<AccountInfoReply[]> {
    const replies = await this.nc.requestMany(SUBJECTS.info(id), undefined, {
      strategy: "count",
      maxMessages: Math.max(1, servers),
      maxWait: maxWaitMs,
    });
    const out: AccountInfoReply[] = [];
    for await (const msg of replies) {
      const view = parseAccountInfo(msg);
      if (view) out.push(view);
    }
    return out;
  }
}

/**
 * CLAIMS.PACK stopped before its closing empty message: nothing came for twice the request time-out
 * (`flowed` false), or the stream stopped for PACK_SILENCE_MS after it had flowed.
 */
class PackIncomplete extends Error {
  constructor(
    message: string,
    readonly flowed: boolean,
  ) {
    super(message);
  }
}

/** A pack that flowed, then stopped: asked again (one that never answered is not served here). */
function flowedThenStopped(e: unknown): e is PackIncomplete {
  return e instanceof PackIncomplete && e.flowed;
}

function isTimeout(e: unknown): e is Error {
  return e instanceof TimeoutError;
}

/**
 * A request nobody answered (in time): no verdict, and nothing to log. Any other error (a closed
 * connection, a reply that does not parse) is worth a line.
 */
export function noAnswer(e: unknown): e is Error {
  return e instanceof TimeoutError || isNoResponders(e);
}

/** PACK is not served here: nobody answers it, or its stream stops short. */
function packNotServed(e: unknown): e is Error {
  return noAnswer(e) || e instanceof PackIncomplete;
}

/** The `pubkey|jwt` lines of one or more pack messages. */
function addPackLines(jwts: Map<string, string>, text: string, onPacked: (id: string, jwt: string) => void): void {
  for (const line of text.split("\n")) {
    const bar = line.indexOf("|");
    const id = line.slice(0, bar);
    const jwt = line.slice(bar + 1).trim();
    if (
      bar > 0 &&
      isPublicKey(id, "account") &&
      jwt.length > 0 &&
      jwt.length <= MAX_TOKEN_BYTES &&
      jwts.size < MAX_ACCOUNTS
    ) {
      jwts.set(id, jwt);
      onPacked(id, jwt);
    }
  }
}

/**
 * One server's answer: the account's JWT and `imports` if it has the account loaded, else `jwt`
 * null and no imports; null when the reply is not an INFO reply at all. Not loaded are: an account
 * the server does not know ("does not exist"; INFO never loads one), the stand-in a route creates
 * for an unknown account it sees interest in (expired, incomplete, no JWT, no imports: the first
 * client of that account makes the server fetch and load it, so it never carries a message through
 * an import), and an expired account (it serves no client).
 */
export function parseAccountInfo(msg: Msg): AccountInfoReply | null {
  try {
    return parseAccountInfoBody(msg.json());
  } catch {
    return null;
  }
}

/** The same from the reply's decoded JSON (as an audit archive keeps it). */
export function parseAccountInfoBody(json: unknown): AccountInfoReply | null {
  const body = json as {
    server?: { name?: unknown; id?: unknown };
    data?: { imports?: unknown; jwt?: unknown; expired?: unknown };
    error?: unknown;
  };
  if (!body || typeof body !== "object" || (!body.error && !body.data)) return null;
  const server = textOf(body.server?.name ?? body.server?.id ?? "?");
  const jwt = typeof body.data?.jwt === "string" ? body.data.jwt.trim() : "";
  if (body.error || jwt === "" || jwt.length > MAX_TOKEN_BYTES || body.data?.expired === true)
    return { server, jwt: null, imports: [] };
  const raw = Array.isArray(body.data!.imports) ? body.data!.imports : [];
  const imports = raw
    .filter((i): i is Record<string, unknown> => i !== null && typeof i === "object")
    // The server's own imports from the system account: old servers name them by their local
    // subject, new ones by the account's own request subject (with the local one beside it).
    .filter(
      (i) =>
        !SYSTEM_IMPORT_SUBJECTS.has(textOf(i["local_subject"] ?? i["to"] ?? i["subject"] ?? "")) &&
        !SYSTEM_IMPORT_SUBJECTS.has(textOf(i["subject"] ?? "")),
    )
    .map((i) => ({
      subject: textOf(i["subject"] ?? ""),
      local: typeof i["local_subject"] === "string" && i["local_subject"] !== "" ? i["local_subject"] : null,
      account: textOf(i["account"] ?? ""),
      type: i["type"] === "service" ? ("service" as const) : ("stream" as const),
      invalid: i["invalid"] === true,
    }));
  return { server, jwt, imports };
}

/** A field of a server's JSON as text: a string as it is, anything else as JSON (never "[object Object]"). */
function textOf(value: unknown): string {
  return typeof value === "string" ? value : JSON.stringify(value);
}
