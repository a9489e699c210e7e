/**
 * Reading what the servers store: the operators they trust, and every account JWT the resolver
 * holds (listed or not). Used at start and by each resync.
 */
import { readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { ConfigError } from "../config.js";
import { importSources, OperatorTrust, serversJudged, type ServersJudged } from "../core/directory.js";
import type { ImportMonitor } from "../core/monitor.js";
import { judgedAsLoaded } from "../core/push-refusal.js";
import type { Logger } from "../shell/log.js";
import { NoResolverError, noAnswer, type ResolverClient, type ServerFacts } from "../shell/resolver.js";
import { readLoadedAccounts, type JwtSource } from "../shell/server-accounts.js";
import { StreamVerifier } from "../shell/stream-verifier.js";
import { fileVerdicts } from "../shell/verify-threads.js";
import { nowSeconds } from "./clock.js";

/**
 * The operators to trust at start (the configured operator JWT, else the servers'), judged for
 * the servers VARZ describes.
 */
export async function initialTrust(
  operatorJwtPath: string | null,
  resolver: ResolverClient,
  log: Logger,
): Promise<OperatorTrust> {
  const facts = await readServerFacts(resolver, log);
  const jwts = operatorJwtPath ? [readFileSync(operatorJwtPath, "utf8")] : (facts?.operatorJwts ?? []);
  if (jwts.length === 0) {
    throw new ConfigError(
      "no operator JWT: the servers' VARZ lists none (are they in operator mode, and are these system-account creds?); give --operator-jwt",
    );
  }
  const trust = new OperatorTrust();
  for (const jwt of jwts) {
    try {
      trust.addOperator(jwt);
    } catch (e) {
      throw new ConfigError((e as Error).message);
    }
  }
  trust.judgeFor(judgedFrom(facts, resolver));
  return trust;
}

/** Each server's INFO about an account is waited for at most this long. */
const INFO_WAIT_MS = 500;

/** What the servers' VARZ says; null when nobody answers (no answer is no verdict). */
async function readServerFacts(resolver: ResolverClient, log: Logger): Promise<ServerFacts | null> {
  try {
    return await resolver.serverFacts();
  } catch (e) {
    if (!noAnswer(e)) log.warn({ err: (e as Error).message }, "could not read the servers' VARZ");
    return null;
  }
}

/**
 * Judged by the rules of the oldest version VARZ reports (the connected server's when none does),
 * and with the JetStream API only where VARZ shows JetStream or a cluster.
 */
function judgedFrom(facts: ServerFacts | null, resolver: ResolverClient): ServersJudged {
  const connected = resolver.connectedVersion();
  const versions = facts?.versions.length ? facts.versions : connected ? [connected] : [];
  return serversJudged(versions, facts?.jetStreamApi ?? false);
}

export class AccountLoader {
  /** Where the last load read the JWTs: the resolver, or (none answering) the servers' loaded accounts. */
  source: JwtSource = { from: "resolver", unseen_accounts: [], differing_accounts: [] };
  /**
   * Whether a load has read the store to its end before: until then (the first load, and each
   * retry of it after a dropped pack or a time-out) the JWTs are staged as the pack streams in, as
   * nothing answers yet. What a dropped pack staged stays filed; the retry stages the rest.
   */
  private loadedBefore = false;
  /** Signature verdicts of the last load's new JWTs, found while the pack streamed in (StreamVerifier). */
  private streamed: Map<string, Uint8Array> | null = null;

  constructor(
    private readonly monitor: ImportMonitor,
    private readonly resolver: ResolverClient,
    private readonly operatorJwtPath: string | null,
    private readonly log: Logger,
  ) {}

  /**
   * The operators the servers trust, and what the servers are, change only with a restart (a
   * reload refuses an operator change; a rolling upgrade restarts each server), which the service
   * sees as a reconnect; read them again on every resync. No answer is no verdict: the current
   * trust stays.
   */
  async refreshTrust(): Promise<void> {
    const path = this.operatorJwtPath;
    const facts = await readServerFacts(this.resolver, this.log);
    const jwts = path
      ? await readFile(path, "utf8").then(
          (jwt) => [jwt],
          (e: Error) => this.unreadable(e),
        )
      : (facts?.operatorJwts ?? []);
    if (jwts.length === 0) return;
    const trust = this.monitor.directory.trust;
    const judged = facts ? judgedFrom(facts, this.resolver) : trust;
    // JWTs read from the servers' loaded accounts keep the rules of JWTs loaded without a push.
    const servers = this.source.from === "servers" ? judgedAsLoaded(judged) : judged;
    try {
      const changes = this.monitor.retrust(jwts, nowSeconds(), servers);
      if (changes)
        this.log.warn(
          {
            operators: trust.operators.map((o) => o.subject),
            server_versions: facts?.versions ?? null,
            jetstream_api: trust.jetStreamApi,
            changed: changes.length,
          },
          "the trusted operators or the servers changed; every account checked again",
        );
    } catch (e) {
      this.log.warn(
        { err: (e as Error).message },
        "the servers' operator JWT is not usable; keeping the current trust",
      );
    }
  }

  /** The verdicts found while the last pack streamed in, for the load that follows it (once). */
  takeStreamed(): Map<string, Uint8Array> | null {
    const verdicts = this.streamed;
    this.streamed = null;
    return verdicts;
  }

  private unreadable(e: Error): string[] {
    this.log.warn({ err: e.message }, "could not read the operator JWT file; keeping the current trust");
    return [];
  }

  /**
   * Every JWT the resolver stores: what it lists, plus those it stores but leaves out of its lists
   * because they expired (docs/servers.md): the accounts known before, and the source accounts the
   * JWTs name, looked up by key, until no new one turns up. `signal`: the load was abandoned (a
   * reconnect): its requests stop.
   */
  async loadStored(signal?: AbortSignal): Promise<Map<string, string>> {
    const known = this.monitor.directory.accounts().map((e) => e.id);
    let jwts: Map<string, string>;
    // While the pack streams in (this thread mostly waits for the server): the JWTs the load will
    // decode anew are verified on another core, and the source accounts every JWT names are read.
    // At the first load, each JWT is also decoded and filed here as soon as its verdicts are back
    // (no evaluation: the load does that), so that less is left for after the pack.
    const staging: { error: Error | null } = { error: null };
    let staged = 0;
    const stage = (id: string, jwt: string, verdicts: Uint8Array) => {
      if (staging.error) return;
      try {
        fileVerdicts(jwt, verdicts);
        this.monitor.stage(id, jwt);
        staged++;
      } catch (e) {
        staging.error = e as Error; // what the load itself would have thrown: the start fails with it below
      }
    };
    const ahead = StreamVerifier.create(this.loadedBefore ? null : stage);
    let named: Set<string> | null = new Set<string>();
    let packed = 0;
    try {
      jwts = await this.resolver.loadAll(
        (n) => this.log.info({ loaded: n }, "loading account JWTs"),
        (why) => {
          named = null;
          this.log.debug({ why }, "CLAIMS.PACK is not served; loading with CLAIMS.LIST and LOOKUP");
        },
        (id, jwt) => {
          packed++;
          if (named) for (const source of importSources(jwt)) named.add(source);
          if (!this.monitor.holds(id, jwt)) ahead?.add(id, jwt);
        },
        (why, delayMs) =>
          this.log.warn({ why, retry_in_ms: delayMs }, "the resolver did not answer in time; asking again"),
        signal,
      );
    } catch (e) {
      if (!(e instanceof NoResolverError)) throw e;
      this.loadedBefore = true;
      return this.loadLoaded(known);
    } finally {
      const verified = ahead?.verified ?? 0;
      this.streamed = ahead?.stop() ?? null;
      if (verified > 0) this.log.debug({ jwts: verified, staged }, "verified while the pack streamed in");
    }
    if (staging.error) throw staging.error;
    this.log.debug({ accounts: jwts.size }, "the resolver's pack is in");
    this.source = { from: "resolver", unseen_accounts: [], differing_accounts: [] };
    const asked = new Set<string>(jwts.keys());
    const unasked = (ids: Iterable<string>) => [...new Set(ids)].filter((id) => !asked.has(id));
    // Read from the pack as it came, unless it did not bring exactly the JWTs loaded (a fallback, a repeated account).
    const sources = named !== null && packed === jwts.size ? named : [...jwts.values()].flatMap(importSources);
    let candidates = unasked([...known, ...sources]);
    // An account found this way may name further sources; a chain of them ends within a few rounds.
    for (let round = 0; round < 8 && candidates.length > 0; round++) {
      signal?.throwIfAborted();
      for (const id of candidates) asked.add(id);
      const found = await this.resolver.addUnlisted(jwts, candidates);
      if (found.length > 0)
        this.log.info({ accounts: found.length }, "found stored JWTs the resolver does not list (expired)");
      candidates = unasked(found.flatMap((id) => importSources(jwts.get(id)!)));
    }
    this.loadedBefore = true;
    return jwts;
  }

  /**
   * No resolver answers (a memory or URL resolver): the JWTs of the accounts the servers have
   * loaded. There is no store that pushes change: a config reload changes them, which the next
   * resync (the epoch) reads; a push or delete heard makes one at once.
   */
  private async loadLoaded(known: string[]): Promise<Map<string, string>> {
    // An account once seen stays looked for (and reported unseen) until a server has it again.
    const load = await readLoadedAccounts(this.resolver, [...known, ...this.source.unseen_accounts], INFO_WAIT_MS);
    if (this.source.from !== "servers")
      this.log.warn(
        { accounts: load.jwts.size, unseen: load.unseen.length },
        "no account resolver answers $SYS.REQ.CLAIMS.*: reading the accounts the servers have loaded",
      );
    const newlyDiffering = load.differing.filter((id) => !this.source.differing_accounts.includes(id));
    if (newlyDiffering.length > 0)
      this.log.warn(
        { accounts: newlyDiffering },
        "servers hold different JWTs for these accounts (a push reaches only the servers that have an account loaded): verdicts follow the newest",
      );
    this.source = { from: "servers", unseen_accounts: load.unseen, differing_accounts: load.differing };
    // The servers loaded these JWTs without a push: the push's own checks do not apply to them.
    const trust = this.monitor.directory.trust;
    const loaded = judgedAsLoaded(trust);
    if (JSON.stringify([loaded.rules, ...loaded.otherLines]) !== JSON.stringify(trust.lines)) {
      trust.judgeFor(loaded);
      this.monitor.directory.recheckTrust();
    }
    return load.jwts;
  }
}
