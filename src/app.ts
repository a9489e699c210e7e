/**
 * The live service: the imperative shell around the core. Data flows one way: the resolver
 * ($SYS) → the monitor's directory → diagnoses → replies and events. Timers: the epoch (full
 * resync and server cross-check) and the next instant at which time alone changes a verdict.
 */
import { readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import type { NatsConnection, Subscription } from "@nats-io/nats-core";
import { NoRespondersError, RequestError } from "@nats-io/nats-core";
import { ServiceError, type Service } from "@nats-io/services";
import type { Config } from "./config.js";
import { ConfigError } from "./config.js";
import { importSources, OperatorTrust } from "./core/directory.js";
import type { ImportDiagnosis } from "./core/diagnosis.js";
import { importOfKey } from "./core/import-key.js";
import { ParallelVerifier } from "./shell/verify-threads.js";
import { ImportMonitor, type ImportChange } from "./core/monitor.js";
import { check, fitToPayload, type CheckRequest } from "./service/check.js";
import { registerService, type EndpointSpec } from "./service/service.js";
import { expiringEndpoint } from "./service/expiring.js";
import { orphanedEndpoint } from "./service/orphaned.js";
import { preflightEndpoint } from "./service/preflight.js";
import { rotationEndpoint } from "./service/rotation.js";
import { EventPublisher, type RemovalReason } from "./shell/events.js";
import { RateLimitedLog, type Logger } from "./shell/log.js";
import { refusalOnPush } from "./core/push-refusal.js";
import { exporterSubject, rulesFor } from "./core/validate.js";
import { serverViewCanChange } from "./core/server-observation.js";
import { readPush } from "./shell/push-messages.js";
import { readDelete } from "./shell/deletes.js";
import { ResolverClient, SUBJECTS, type LookupAnswer } from "./shell/resolver.js";
import { Metrics } from "./shell/metrics.js";
import { KvGate, LocalGate, type PublishGate } from "./shell/publish-gate.js";
import { CONFIRM_MS, ServerViews, type VerdictBasis } from "./shell/server-views.js";
import { connectWithRetry } from "./shell/connection.js";
import { HttpEndpoint, type Readiness } from "./shell/http.js";

const nowSeconds = () => Math.floor(Date.now() / 1000);
/**
 * Delays between LOOKUPs confirming a push: we often hear a push before the server has stored it
 * (measured: the first LOOKUP returned the previous JWT 251 times in 400), so look again soon.
 */
export const CONFIRM_DELAYS_MS = [0, 5, 25, 100, 300, 700];
/**
 * After a change, the servers' view of the accounts it touched is asked for again before their
 * verdicts are published; while a server still shows other JWTs than the resolver's, it is asked
 * again after these delays, within FRESH_VIEW_BOUND_MS in all (then its view is left out).
 */
const FRESH_VIEW_DELAYS_MS = [25, 75, 150, 300, 450];
const FRESH_VIEW_BOUND_MS = 1000;
/** Node timers overflow past ~24.8 days; wake up at least daily and re-arm. */
const MAX_TIMER_MS = 24 * 3600 * 1000;

/** The service was told to stop while it waited for a server. */
export class StartAbandoned extends Error {
  constructor() {
    super("stopped while waiting for a server");
  }
}

export class InsightsApp {
  readonly monitor: ImportMonitor;
  private readonly resolver: ResolverClient;
  private readonly badInput: RateLimitedLog;
  private readonly views = new ServerViews();
  /** What the servers' view is compared with: the directory's JWTs and time boundaries. */
  private readonly basis: VerdictBasis = {
    token: (id) => this.monitor.directory.get(id)?.token ?? null,
    instants: (d) => {
      const account = (id: string) => this.monitor.directory.get(id)?.claims;
      const times = [d.token?.not_before, d.token?.expires_at].map((t) => (t ? Date.parse(t) / 1000 : 0));
      for (const c of [account(d.account), account(d.source_account)]) if (c) times.push(c.notBefore, c.expires);
      return times.filter((t) => t > 0);
    },
    sources: (id) => new Set((this.monitor.directory.get(id)?.claims?.imports ?? []).map((i) => i.account)),
    exporterSubject: (d) => {
      if (d.type !== "service" || d.local_subject !== null) return d.subject;
      const declared = this.monitor.directory.get(d.account)?.claims?.imports?.find((i) => i.type === "service" && i.account === d.source_account && i.subject === d.subject && i.localSubject === null);
      return declared ? exporterSubject(declared) : d.subject;
    },
  };
  /** Imports whose verdicts wait for a fresh server view before they are published (count of waits). */
  private readonly held = new Map<string, number>();
  private readonly viewWork = new Set<Promise<void>>();
  /** The start-up's removal of imports that disappeared while no instance ran. */
  private startRemovals: Promise<void> = Promise.resolve();
  readonly metrics: Metrics;
  /** The HTTP port (/healthz, /readyz, /metrics), when configured. */
  private http: HttpEndpoint | null = null;
  private readonly events: EventPublisher;
  private readonly subs: Subscription[] = [];
  private readonly perAccount = new Map<string, Promise<void>>();
  private service: Service | null = null;
  private epochTimer: NodeJS.Timeout | null = null;
  private boundaryTimer: NodeJS.Timeout | null = null;
  private started = false;
  private stopping = false;
  private resyncing: Promise<void> | null = null;
  private resyncAgain: string | null = null;
  private abandonLoad: (() => void) | null = null;
  /** Servers in the deployment, counted each epoch. */
  private servers = 1;
  /** False from a disconnect until the reconnect. */
  private connectionUp = true;

  private constructor(
    readonly nc: NatsConnection,
    trust: OperatorTrust,
    private readonly config: Config,
    private readonly log: Logger,
    gate: PublishGate,
    private readonly stateNc: NatsConnection | null,
  ) {
    this.monitor = new ImportMonitor(trust, config.expiryWarningDays * 86400, (jwts) => ParallelVerifier.start(jwts));
    this.resolver = new ResolverClient(nc, config.requestTimeoutMs);
    this.badInput = new RateLimitedLog(log);
    this.events = new EventPublisher(nc, gate, log);
    const imports = () => this.monitor.keyed().map(([key, d]): [string, ImportDiagnosis] => [key, this.views.apply(key, d, this.basis)]);
    this.metrics = new Metrics({ imports, connected: () => this.connectionUp && !nc.isClosed() }, { importSeries: config.metricsImports });
  }

  /**
   * Connect (waiting for servers that are not up yet), load, register and start watching.
   * Configuration problems throw ConfigError; `stopped` resolving while it waits throws StartAbandoned.
   */
  static async start(config: Config, log: Logger, stopped: Promise<void> = new Promise(() => {})): Promise<InsightsApp> {
    // The HTTP port answers /healthz and /readyz while we wait for a server, too.
    const http = config.metricsPort !== null ? await HttpEndpoint.listen(config.metricsPort, config.metricsHost) : null;
    let phase = "waiting for a NATS server";
    http?.setReadiness(() => ({ ready: false, reason: phase }));
    const retry = { initialDelayMs: 1000, maxDelayMs: 30_000, log, stopped };
    let nc: NatsConnection | null = null;
    let stateNc: NatsConnection | null = null;
    try {
      nc = await connectWithRetry(config.connection, "nats-insights", retry);
      if (!nc) throw new StartAbandoned();
      phase = "loading account JWTs";
      const trust = await loadTrust(config, new ResolverClient(nc, config.requestTimeoutMs));
      // Validation differs between server lines; judge by the rules of the server we talk to.
      trust.rules = rulesFor(nc.info?.version);
      // And the system account exports the JetStream API only where the servers run it (or a cluster).
      trust.jetStreamApi = await new ResolverClient(nc, config.requestTimeoutMs).jetStreamApiExported().catch(() => false);
      stateNc = config.stateConnection ? await connectWithRetry(config.stateConnection, "nats-insights-state", retry) : null;
      if (config.stateConnection && !stateNc) throw new StartAbandoned();
      const gate = stateNc ? await openKvGate(stateNc, config) : new LocalGate();
      const app = new InsightsApp(nc, trust, config, log, gate, stateNc);
      app.http = http;
      await app.run().catch(async (e: unknown) => {
        await app.stop();
        throw noResolverIsConfigError(e);
      });
      return app;
    } catch (e) {
      http?.close();
      await nc?.close().catch(() => {});
      await stateNc?.close().catch(() => {});
      throw e;
    }
  }

  /** Ready: started, not stopping, and connected (not between a disconnect and a reconnect). */
  private readiness(): Readiness {
    if (this.stopping) return { ready: false, reason: "stopping" };
    if (!this.started) return { ready: false, reason: "loading account JWTs" };
    if (!this.connectionUp || this.nc.isClosed()) return { ready: false, reason: "disconnected from NATS; reconnecting" };
    return { ready: true };
  }

  private async run(): Promise<void> {
    this.watchConnection();
    // Subscribe first: a push during the initial load is then queued, not missed.
    for (const subject of SUBJECTS.updates) this.subs.push(this.nc.subscribe(subject, { callback: (_e, msg) => this.onPush(msg) }));
    this.subs.push(this.nc.subscribe(SUBJECTS.deletes, { callback: (_e, msg) => this.onDelete(msg) }));
    await this.doResync("start"); // errors here end the start-up
    // Imports that disappeared while no instance ran (the shared record outlives instances).
    this.startRemovals = this.events
      .removeUndeclared((key) => this.monitor.has(key), (id) => this.removalReason(id), (key) => this.describeGone(key))
      .catch((e: Error) => this.log.warn({ err: e.message }, "could not read the record of published imports"));
    this.service = await registerService(this.nc, this.endpoints(), () => this.metrics.snapshot(), () => this.metrics.rejectedInput("request"));
    this.http?.serveMetrics(this.metrics);
    this.http?.setReadiness(() => this.readiness());
    // Once start() resolves the endpoints must answer: the server has to have our subscriptions.
    await this.nc.flush();
    this.started = true;
    this.armEpoch();
    this.log.info({ accounts: this.monitor.directory.size, imports: this.monitor.diagnosisCount(), server: this.nc.getServer() }, "insights service started");
  }

  /** Stop timers, the service and the subscriptions, then drain the connection. */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    if (this.epochTimer) clearInterval(this.epochTimer);
    if (this.boundaryTimer) clearTimeout(this.boundaryTimer);
    // The service says goodbye over the connection; a broken one must not hold the stop.
    await Promise.race([this.service?.stop().catch(() => {}), sleep(1000)]);
    this.http?.close();
    await Promise.allSettled([...this.perAccount.values()]);
    await this.resyncing;
    await Promise.allSettled([...this.viewWork]);
    await this.events.drained();
    await drainOrClose(this.nc);
    if (this.stateNc) await drainOrClose(this.stateNc);
  }

  /** Requests this instance served (from its micro STATS). */
  async statsSnapshot(): Promise<{ requests: number }> {
    const stats = await this.service!.stats();
    return { requests: (stats.endpoints ?? []).reduce((n, e) => n + e.num_requests, 0) };
  }

  /**
   * Resolves once every push heard so far has been confirmed or found rejected, the servers' view
   * asked for after each change has come back, no resync runs, and every event this instance
   * decided on (the start-up's removals too) has been published on its connection or found
   * published by another instance. A test that flushes `nc` after this has seen all it will say.
   */
  async settled(): Promise<void> {
    while (this.perAccount.size > 0 || this.viewWork.size > 0 || this.resyncing) {
      await Promise.allSettled([...this.perAccount.values(), ...this.viewWork, this.resyncing]);
    }
    await this.startRemovals;
    await this.events.drained();
  }

  /** Every diagnosis with the servers' own view filled in. */
  diagnoses(): ImportDiagnosis[] {
    return this.monitor.keyed().map(([key, d]) => this.views.apply(key, d, this.basis));
  }

  private endpoints(): EndpointSpec[] {
    const dir = () => this.monitor.directory;
    const opts = () => ({ now: nowSeconds(), expiryWarningSeconds: this.config.expiryWarningDays * 86400 });
    const maxPayload = () => this.nc.info?.max_payload ?? 1024 * 1024;
    return [
      this.checkEndpoint(),
      preflightEndpoint(dir, opts, maxPayload),
      rotationEndpoint(dir, opts, maxPayload),
      expiringEndpoint(dir, opts, maxPayload),
      orphanedEndpoint(dir, opts, maxPayload),
    ];
  }

  private checkEndpoint(): EndpointSpec {
    return {
      name: "check",
      subject: "insights.imports.check",
      request: "check-request" as const,
      response: "check-reply" as const,
      description: "Every import of every account (or of one), with status, cause, message and remediation",
      handle: (body: unknown) => {
        const diagnosesOf = (id: string | null) => (id === null ? this.diagnoses() : this.monitor.keyed([id]).map(([key, d]) => this.views.apply(key, d, this.basis)));
        const outcome = check(this.monitor.directory, diagnosesOf, body as CheckRequest, new Date());
        if (!outcome.ok) throw new ServiceError(outcome.code, outcome.message);
        return fitToPayload(outcome.reply, this.nc.info?.max_payload ?? 1024 * 1024);
      },
    };
  }

  // ---- loading -------------------------------------------------------------------------------

  /**
   * Load every JWT the resolver stores and re-evaluate what changed; cross-check the servers.
   * One at a time: asked while one runs, another runs right after it (once, whatever the number of
   * asks), so a reconnect never just waits on a resync that started before the connection broke.
   * Failures are logged here; the next epoch tries again.
   */
  resync(reason: string): void {
    if (this.resyncing) {
      this.resyncAgain ??= reason;
      return;
    }
    this.resyncing = this.doResync(reason)
      .catch((e: Error) => {
        this.metrics.resyncFailed();
        this.log.warn({ reason, err: e.message }, "resync failed");
      })
      .finally(() => {
        this.resyncing = null;
        const again = this.resyncAgain;
        this.resyncAgain = null;
        if (again && !this.stopping) this.resync(again);
      });
  }

  private async doResync(reason: string): Promise<void> {
    const started = Date.now();
    await this.refreshTrust();
    // A reconnect abandons the load: replies to requests sent before it may never come.
    const known = this.monitor.directory.accounts().map((e) => e.id);
    const jwts = await new Promise<Map<string, string>>((resolve, reject) => {
      this.abandonLoad = () => reject(new Error("the connection was re-established during the load"));
      this.loadStored(known).then(resolve, reject);
    }).finally(() => (this.abandonLoad = null));
    const changes = this.metrics.timed("resync", () => this.monitor.replaceAll(jwts, nowSeconds()));
    // Before the first cross-check no server was asked anything: nothing to discount.
    if (this.started) this.views.judged(changes.map((c) => c.key));
    await this.crossCheck().catch((e: Error) => this.log.warn({ err: e.message }, "server cross-check failed"));
    // A full pass: every import is compared with what was last published.
    this.publishChanged(this.monitor.keyed());
    this.forgetRemoved();
    this.armBoundary();
    this.metrics.resynced();
    this.log.info({ reason, accounts: jwts.size, imports: this.monitor.diagnosisCount(), ms: Date.now() - started }, "resync done");
  }

  /**
   * Every JWT the resolver stores: what it lists, plus those it stores but leaves out of its lists
   * because they expired (docs/servers.md): the accounts known before, and the source accounts the
   * JWTs name, looked up by key, until no new one turns up.
   */
  private async loadStored(known: string[]): Promise<Map<string, string>> {
    const jwts = await this.resolver.loadAll((n) => this.log.info({ loaded: n }, "loading account JWTs"));
    const asked = new Set<string>(jwts.keys());
    const unasked = (ids: Iterable<string>) => [...new Set(ids)].filter((id) => !asked.has(id));
    let candidates = unasked([...known, ...[...jwts.values()].flatMap(importSources)]);
    // An account found this way may name further sources; a chain of them ends within a few rounds.
    for (let round = 0; round < 8 && candidates.length > 0; round++) {
      for (const id of candidates) asked.add(id);
      const found = await this.resolver.addUnlisted(jwts, candidates);
      if (found.length > 0) this.log.info({ accounts: found.length }, "found stored JWTs the resolver does not list (expired)");
      candidates = unasked(found.flatMap((id) => importSources(jwts.get(id)!)));
    }
    this.keepExpired(jwts, known);
    return jwts;
  }

  /**
   * The full resolver's store deletes a JWT within a minute of its `exp` (its expiry sweep), after
   * which no request finds it. An account seen to expire stays reported as expired (it is still
   * declared, and still broken) until a push or a delete says otherwise.
   */
  private keepExpired(jwts: Map<string, string>, known: string[]): void {
    const now = nowSeconds();
    for (const id of known) {
      const entry = this.monitor.directory.get(id);
      const expired = entry?.claims && entry.claims.expires > 0 && entry.claims.expires <= now;
      if (!jwts.has(id) && expired) jwts.set(id, entry.token);
    }
  }

  /**
   * The operators the servers trust change only with a restart (a reload refuses it), which the
   * service sees as a reconnect; read them again on every resync. No answer is no verdict: the
   * current trust stays.
   */
  private async refreshTrust(): Promise<void> {
    const path = this.config.operatorJwtPath;
    const jwts = await (path ? readFile(path, "utf8").then((jwt) => [jwt]) : this.resolver.operatorJwts()).catch(() => [] as string[]);
    if (jwts.length === 0) return;
    try {
      const changes = this.monitor.retrust(jwts, nowSeconds());
      if (changes) this.log.warn({ operators: this.monitor.directory.trust.operators.map((o) => o.subject), changed: changes.length }, "the trusted operators changed; every account checked again");
    } catch (e) {
      this.log.warn({ err: (e as Error).message }, "the servers' operator JWT is not usable; keeping the current trust");
    }
  }

  private async crossCheck(): Promise<void> {
    this.servers = Math.max(1, await this.resolver.serverCount());
    const importers = [...new Set(this.monitor.diagnoses().map((d) => d.account))];
    await this.views.refresh(importers, (id: string) => this.accountInfo(id), this.basis);
    await this.confirmExposures(importers);
  }

  /** Where a server honours an import the JWTs say is dead, look once more: a late server timer is no exposure. */
  private async confirmExposures(accounts: string[]): Promise<void> {
    const pending = this.views.unconfirmed(this.monitor.keyed(accounts), this.basis);
    if (pending.length === 0 || this.stopping) return;
    await sleep(CONFIRM_MS + 20);
    await this.views.refresh(pending, (id: string) => this.accountInfo(id), this.basis, false);
  }

  /**
   * Ask the servers about these accounts until each shows the resolver's JWTs, within a bound. At a
   * time instant (an exp or nbf), first let the servers' own timers fire.
   */
  private async freshViews(accounts: string[]): Promise<void> {
    const quiet = this.views.quietAfter(this.monitor.keyed(accounts), this.basis) - Date.now();
    if (quiet > 0) await sleep(quiet);
    const deadline = Date.now() + FRESH_VIEW_BOUND_MS;
    await this.views.refresh(accounts, (id: string) => this.accountInfo(id), this.basis, false);
    for (const delay of FRESH_VIEW_DELAYS_MS) {
      const behind = this.views.behind(accounts, this.basis);
      if (behind.length === 0 || this.stopping || Date.now() + delay > deadline) return;
      await sleep(delay);
      await this.views.refresh(behind, (id: string) => this.accountInfo(id), this.basis, false);
    }
  }

  private accountInfo(id: string) {
    return this.resolver.accountInfo(id, this.servers, Math.min(this.config.requestTimeoutMs, 500));
  }

  // ---- pushes --------------------------------------------------------------------------------

  private onPush(msg: Parameters<typeof readPush>[0]): void {
    const hint = readPush(msg);
    if (!hint.ok) {
      this.metrics.rejectedInput("push");
      this.badInput.warn(hint.reason, { subject: msg.subject });
      return;
    }
    this.confirmInTurn(hint.claims.subject, () => this.confirmPush(hint.claims, hint.jwt));
  }

  /** One confirmation (push or delete) at a time per account, in arrival order. */
  private confirmInTurn(id: string, confirm: () => Promise<void>): void {
    const next = (this.perAccount.get(id) ?? Promise.resolve())
      .then(confirm)
      .catch((e: Error) => this.log.warn({ account: id, err: e.message }, "could not confirm a change"));
    this.perAccount.set(id, next);
    void next.finally(() => {
      if (this.perAccount.get(id) === next) this.perAccount.delete(id);
    });
  }

  /** An operator's delete request: each account we know is confirmed gone with the resolver. */
  private onDelete(msg: Parameters<typeof readDelete>[0]): void {
    const hint = readDelete(msg, this.monitor.directory.trust);
    if (!hint.ok) {
      this.metrics.rejectedInput("delete");
      this.badInput.warn(hint.reason, { subject: msg.subject });
      return;
    }
    for (const id of hint.accounts) if (this.monitor.directory.get(id)) this.confirmInTurn(id, () => this.confirmDelete(id));
  }

  private async confirmDelete(id: string): Promise<void> {
    let answer: LookupAnswer = { kind: "silent" };
    for (const delay of CONFIRM_DELAYS_MS) {
      if (delay) await sleep(delay);
      if (this.stopping) return;
      answer = await this.resolver.ask(id, Math.min(this.config.requestTimeoutMs, 500));
      if (answer.kind === "silent" && this.resolver.silentMeansNone()) answer = { kind: "none" };
      if (answer.kind === "none") break;
    }
    if (!this.started) return; // the initial load reads the resolver anyway
    if (answer.kind === "silent") {
      this.log.warn({ account: id }, "could not confirm a delete: the resolver did not answer; resyncing");
      this.resync("unconfirmed delete");
    } else if (answer.kind === "jwt") {
      this.log.info({ account: id }, "delete not carried out: the resolver still stores the account (is allow_delete set?)");
    } else {
      this.log.info({ account: id, name: this.monitor.directory.nameOf(id) }, "account deleted");
      this.emit(this.metrics.timed("account_deleted", () => this.monitor.applyAccount(id, null, nowSeconds())));
    }
  }

  private async confirmPush(claims: Parameters<ImportMonitor["recordRejectedPush"]>[0], jwt: string): Promise<void> {
    const id = claims.subject;
    const silentMeansNone = this.resolver.silentMeansNone();
    let answer: LookupAnswer = { kind: "silent" };
    let heard = false;
    for (const delay of CONFIRM_DELAYS_MS) {
      if (delay) await sleep(delay);
      if (this.stopping) return;
      answer = await this.resolver.ask(id, Math.min(this.config.requestTimeoutMs, 500));
      if (answer.kind === "silent" && silentMeansNone) answer = { kind: "none" };
      heard ||= answer.kind !== "silent";
      if (answer.kind === "jwt" && answer.jwt === jwt) break;
    }
    if (!this.started) return; // the initial load reads the resolver anyway
    if (!heard) {
      // No answer is no verdict: replies were lost or the resolver is slow. Read everything again.
      this.log.warn({ account: id, name: claims.name }, "could not confirm a push: the resolver did not answer; resyncing");
      this.resync("unconfirmed push");
      return;
    }
    if (answer.kind === "jwt" && answer.jwt === jwt) {
      this.log.info({ account: id, name: claims.name }, "push stored");
      const changes = this.metrics.timed("push_stored", () => this.monitor.applyAccount(id, jwt, nowSeconds()));
      this.emit(changes, [id, ...this.monitor.directory.importersOf(id)]);
      return;
    }
    const reason = refusalOnPush(claims, this.monitor.directory.trust) ?? "the server did not store it";
    this.log.warn({ account: id, name: claims.name, reason }, "push rejected by the server");
    // What the resolver holds instead (a JWT, or none for an account it never had) is the truth;
    // a known account is never dropped on the strength of one answer.
    const stored = answer.kind === "jwt" ? answer.jwt : this.monitor.directory.get(id) ? undefined : null;
    this.emit(
      this.metrics.timed("push_rejected", () => [
        ...(stored === undefined ? [] : this.monitor.applyAccount(id, stored, nowSeconds())),
        ...this.monitor.recordRejectedPush(claims, reason, nowSeconds()),
      ]),
    );
  }

  // ---- events and timers -----------------------------------------------------------------------

  /**
   * Publish what changed. The monitor says which imports were re-evaluated; an event goes out when
   * the final (status, cause), the servers' view applied, differs from the last one published.
   * A verdict is never combined with a server view older than it. A verdict no server view can
   * change (an inactive one, but for a cycle: a server can only add an exposure to its message)
   * goes out at once. The other
   * imports of the accounts touched (those with a changed verdict, and `touched`, whose JWTs
   * changed) are held back until their servers have been asked again (bounded by
   * FRESH_VIEW_BOUND_MS), then published once.
   */
  private emit(changes: ImportChange[], touched: string[] = []): void {
    this.views.judged(changes.map((c) => c.key));
    const accounts = [...new Set([...changes.map((c) => c.diagnosis.account), ...touched])];
    if (!this.started || accounts.length === 0) this.publishChanged(changes.map((c) => [c.key, c.diagnosis]));
    else {
      const entries = this.monitor.keyed(accounts);
      const waiting = entries.filter(([, d]) => serverViewCanChange(d)).map(([key]) => key);
      if (waiting.length > 0) this.holdFor(waiting, accounts, () => this.freshViews(accounts));
      this.publishChanged(entries);
    }
    this.forgetRemoved();
    this.armBoundary();
  }

  /** Hold back these imports' verdicts while `work` runs; then publish the accounts' verdicts, and confirm any exposure. */
  private holdFor(keys: string[], accounts: string[], work: () => Promise<void>): void {
    for (const key of keys) this.held.set(key, (this.held.get(key) ?? 0) + 1);
    const done = work()
      .catch((e: Error) => this.log.warn({ err: e.message }, "could not ask the servers for their view"))
      .then(() => {
        for (const key of keys) {
          const n = (this.held.get(key) ?? 1) - 1;
          if (n > 0) this.held.set(key, n);
          else this.held.delete(key);
        }
        this.publishChanged(this.monitor.keyed(accounts));
        return this.confirmExposures(accounts);
      })
      .catch((e: Error) => this.log.warn({ err: e.message }, "could not confirm a server's view"))
      .finally(() => this.viewWork.delete(done));
    this.viewWork.add(done);
  }

  /** Offer the final verdicts, the servers' view applied, to the event publisher; held imports wait. */
  private publishChanged(entries: [string, ImportDiagnosis][]): void {
    const free = this.held.size === 0 ? entries : entries.filter(([key]) => !this.held.has(key));
    this.events.offer(
      free.map(([key, d]) => [key, this.views.apply(key, d, this.basis)]),
      !this.started,
    );
  }

  /**
   * Imports no JWT declares any more (or whose account is gone): the monitor names them, or (after
   * very many) everything is compared. Each gets a removal event, so no consumer keeps it.
   */
  private forgetRemoved(): void {
    const removed = this.monitor.takeRemovedKeys();
    const why = (id: string): RemovalReason => this.removalReason(id);
    if (removed) {
      this.events.removed(removed, why);
      this.views.forgetKeys(removed);
    } else {
      this.events.prune((key) => this.monitor.has(key), why);
      this.views.prune((key) => this.monitor.has(key));
    }
  }

  private removalReason(accountId: string): RemovalReason {
    return this.monitor.directory.get(accountId) ? "import_removed" : "account_deleted";
  }

  /** An import known only by its key (it disappeared while no instance ran), for its removal event. */
  private describeGone(key: string): ImportDiagnosis | null {
    const imp = importOfKey(key);
    if (!imp) return null;
    const names = this.monitor.directory;
    return { ...imp, account_name: names.nameOf(imp.account), name: null, source_account_name: names.nameOf(imp.source_account), status: "inactive", cause: null, message: "", remediation: [], token: null, server: null };
  }

  private armEpoch(): void {
    this.epochTimer = setInterval(() => {
      this.resync("epoch");
    }, this.config.epochSeconds * 1000);
    this.epochTimer.unref?.();
  }

  /** Wake up at the next exp/nbf (or warning) instant, so expiry is reported when it happens. */
  private armBoundary(): void {
    if (this.boundaryTimer) clearTimeout(this.boundaryTimer);
    const next = this.monitor.nextBoundary();
    if (next === null || this.stopping) return;
    const delay = Math.min(Math.max(0, next * 1000 - Date.now() + 5), MAX_TIMER_MS);
    this.boundaryTimer = setTimeout(() => this.emit(this.metrics.timed("time", () => this.monitor.tick(nowSeconds()))), delay);
  }

  private watchConnection(): void {
    void (async () => {
      for await (const s of this.nc.status()) {
        if (s.type === "disconnect") {
          this.connectionUp = false;
          this.log.warn({ server: s.server }, "disconnected from NATS; reconnecting");
        }
        if (s.type === "reconnect") {
          this.connectionUp = true;
          this.log.info({ server: s.server }, "reconnected; resyncing");
          this.abandonLoad?.();
          this.resync("reconnect");
        }
      }
    })();
  }
}

async function loadTrust(config: Config, resolver: ResolverClient): Promise<OperatorTrust> {
  const trust = new OperatorTrust();
  const jwts = config.operatorJwtPath ? [readFileSync(config.operatorJwtPath, "utf8")] : await resolver.operatorJwts().catch(() => []);
  if (jwts.length === 0) {
    throw new ConfigError("no operator JWT: the servers' VARZ lists none (are they in operator mode, and are these system-account creds?); give --operator-jwt");
  }
  for (const jwt of jwts) {
    try {
      trust.addOperator(jwt);
    } catch (e) {
      throw new ConfigError((e as Error).message);
    }
  }
  return trust;
}

async function openKvGate(nc: NatsConnection, config: Config): Promise<PublishGate> {
  try {
    return await KvGate.open(nc, config.stateBucket, config.stateReplicas);
  } catch (e) {
    throw new ConfigError(`shared state: cannot open KV bucket "${config.stateBucket}" (is JetStream enabled for that account?): ${(e as Error).message}`);
  }
}

/** Nobody answering $SYS.REQ.CLAIMS.* at start means wrong creds or no resolver: a configuration problem. */
function noResolverIsConfigError(e: unknown): unknown {
  const noResponders = e instanceof NoRespondersError || (e instanceof RequestError && e.isNoResponders());
  if (!noResponders) return e;
  return new ConfigError("no account resolver answers $SYS.REQ.CLAIMS.*: the creds must be a system-account user's, and the servers need a full or cache resolver");
}

/** Drain, but never wait on a connection that cannot drain (reconnecting to a server that is gone). */
async function drainOrClose(nc: NatsConnection, limitMs = 3000): Promise<void> {
  if (nc.isClosed()) return;
  await Promise.race([nc.drain().catch(() => {}), sleep(limitMs)]);
  if (!nc.isClosed()) await nc.close().catch(() => {});
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
