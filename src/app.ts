/**
 * The live service: the imperative shell around the core, wired from the parts in src/live. Data
 * flows one way: the resolver ($SYS) → the monitor's directory → diagnoses → replies and events.
 *
 * - ConnectionWatch: whether the connection is up; a reconnect asks for a resync.
 * - ResyncLoop: the epoch (full resync and server cross-check) and the next instant at which time
 *   alone changes a verdict.
 * - PushConfirmer: pushes and deletes heard on $SYS, confirmed with the resolver one at a time per
 *   account.
 * - VerdictPublisher: verdicts with the servers' own view applied, published as events.
 * - Endpoints: the micro service.
 */
import type { NatsConnection } from "@nats-io/nats-core";
import { NoRespondersError, RequestError } from "@nats-io/nats-core";
import type { Config } from "./config.js";
import { ConfigError } from "./config.js";
import type { ImportDiagnosis } from "./core/diagnosis.js";
import { importGraph } from "./core/graph.js";
import type { OperatorTrust } from "./core/directory.js";
import { ed25519Verifier } from "./core/jwt/ed25519.js";
import { ImportMonitor, type ImportChange } from "./core/monitor.js";
import { precompileSchemas } from "./service/schemas.js";
import { AccountLoader, initialTrust } from "./live/account-loader.js";
import { nowSeconds } from "./live/clock.js";
import { ConnectionWatch, drainOrClose } from "./live/connection.js";
import { Endpoints, type LiveState } from "./live/endpoints.js";
import { Lifecycle } from "./live/lifecycle.js";
import { PushConfirmer } from "./live/push-confirmer.js";
import { ResyncLoop } from "./live/resync-loop.js";
import { VerdictPublisher } from "./live/verdict-publisher.js";
import { connectWithRetry } from "./shell/connection.js";
import { EventPublisher } from "./shell/events.js";
import { collectGarbage } from "./shell/gc.js";
import { HttpEndpoint } from "./shell/http.js";
import { startLoadVerifier } from "./shell/verify-threads.js";
import { withStreamed } from "./shell/stream-verifier.js";
import type { Logger } from "./shell/log.js";
import { Metrics } from "./shell/metrics.js";
import { KvGate, LocalGate, type PublishGate } from "./shell/publish-gate.js";
import { MemoryHistory, StreamHistory, type HistoryStore } from "./shell/history.js";
import type { Trigger } from "./core/history.js";
import { ResolverClient } from "./shell/resolver.js";

/** The service was told to stop while it waited for a server. */
export class StartAbandoned extends Error {
  constructor() {
    super("stopped while waiting for a server");
  }
}

export class InsightsApp {
  readonly monitor: ImportMonitor;
  readonly metrics: Metrics;
  private readonly life = new Lifecycle();
  private readonly connection: ConnectionWatch;
  private readonly verdicts: VerdictPublisher;
  private readonly loop: ResyncLoop;
  private readonly pushes: PushConfirmer;
  private readonly endpoints: Endpoints;
  private readonly loader: AccountLoader;

  private constructor(
    readonly nc: NatsConnection,
    trust: OperatorTrust,
    private readonly config: Config,
    private readonly log: Logger,
    gate: PublishGate,
    /** The history of verdict changes this instance answers from. */
    readonly history: HistoryStore,
    private readonly stateNc: NatsConnection | null,
    /** The HTTP port (/healthz, /readyz, /metrics), when configured. */
    private readonly http: HttpEndpoint | null,
  ) {
    // A load verifies on the other cores; what was verified while the pack streamed in is not verified again.
    this.monitor = new ImportMonitor(trust, config.expiryWarningDays * 86400, (jwts, deferrable) =>
      withStreamed(this.loader.takeStreamed(), jwts, startLoadVerifier(jwts, deferrable)),
    );
    // The pack is read on a connection and thread of its own (shell/pack-reader.ts).
    const resolver = new ResolverClient(nc, config.requestTimeoutMs, config.connection);
    this.connection = new ConnectionWatch(nc, log);
    this.verdicts = new VerdictPublisher(
      this.monitor,
      new EventPublisher(nc, gate, log, history),
      resolver,
      this.life,
      log,
      config.requestTimeoutMs,
    );
    this.metrics = new Metrics(
      { imports: () => this.verdicts.keyed(), connected: () => this.connection.connected },
      { importSeries: config.metricsImports },
    );
    const loader = new AccountLoader(this.monitor, resolver, config.operatorJwtPath, log);
    this.loader = loader;
    this.loop = new ResyncLoop(this.monitor, loader, this.verdicts, this.metrics, this.life, log);
    const confirmed = {
      changed: (changes: ImportChange[], touched: string[], by: Trigger) => {
        this.verdicts.emit(changes, touched, by);
        this.loop.armBoundary();
      },
      resync: (reason: string) => this.loop.resync(reason),
      readsServers: () => loader.source.from === "servers",
    };
    this.pushes = new PushConfirmer(
      nc,
      this.monitor,
      resolver,
      this.metrics,
      this.life,
      log,
      config.requestTimeoutMs,
      confirmed,
    );
    this.endpoints = new Endpoints(nc, this.metrics);
  }

  /**
   * Connect (waiting for servers that are not up yet), load, register and start watching.
   * Configuration problems throw ConfigError; `stopped` resolving while it waits throws StartAbandoned.
   */
  static async start(
    config: Config,
    log: Logger,
    stopped: Promise<void> = new Promise(() => {}),
  ): Promise<InsightsApp> {
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
      const trust = await initialTrust(config.operatorJwtPath, new ResolverClient(nc, config.requestTimeoutMs), log);
      stateNc = config.stateConnection
        ? await connectWithRetry(config.stateConnection, "nats-insights-state", retry)
        : null;
      if (config.stateConnection && !stateNc) throw new StartAbandoned();
      const gate = stateNc ? await openKvGate(stateNc, config) : new LocalGate();
      const history = stateNc ? await openHistoryStream(stateNc, config, log) : new MemoryHistory(config.historyLimits);
      const app = new InsightsApp(nc, trust, config, log, gate, history, stateNc, http);
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

  private async run(): Promise<void> {
    this.connection.watch(() => this.loop.reconnected());
    this.pushes.listen(); // first: a push during the initial load is then queued, not missed
    setImmediate(precompileSchemas); // while the load waits for the servers' answers
    await this.loop.first(); // errors here end the start-up
    this.verdicts.forgetUndeclared();
    await this.endpoints.register(this.endpointSource());
    this.http?.serveMetrics(this.metrics);
    this.http?.serveGraph(() => importGraph(this.diagnoses(), new Date()));
    this.http?.setReadiness(() => this.life.readiness(this.connection.connected));
    // Once start() resolves the endpoints must answer: the server has to have our subscriptions.
    await this.nc.flush();
    this.life.markStarted();
    // The load's garbage, and that of publishing every verdict, is collected once the start-up's
    // events are out, off the path to the first reply: a compacting collection gives back the
    // pages the load's peak took (shell/gc.ts). The endpoints answer before it.
    // (Optional work: if settling fails, the failure is reported where it happens.)
    void this.settled().then(
      () => collectGarbage(true),
      () => {},
    );
    this.loop.armEpoch(this.config.epochSeconds);
    this.log.info(
      {
        accounts: this.monitor.directory.size,
        imports: this.monitor.diagnosisCount(),
        server: this.nc.getServer(),
        ed25519: ed25519Verifier(),
      },
      "insights service started",
    );
  }

  /** Stop timers, the service and the subscriptions, then drain the connection. */
  async stop(): Promise<void> {
    if (!this.life.beginStop()) return;
    this.loop.stopTimers();
    await this.endpoints.stop();
    this.http?.close();
    await Promise.allSettled(this.pushes.pending());
    await this.loop.pending();
    await Promise.allSettled(this.verdicts.pending());
    await this.verdicts.drained();
    await this.history.close().catch(() => {});
    await drainOrClose(this.nc);
    if (this.stateNc) await drainOrClose(this.stateNc);
  }

  /** Requests this instance served (from its micro STATS). */
  async statsSnapshot(): Promise<{ requests: number }> {
    return { requests: await this.endpoints.requests() };
  }

  /**
   * Resolves once every push heard so far has been confirmed or found rejected, the servers' view
   * asked for after each change has come back, no resync runs, and every event this instance
   * decided on (the start-up's removals too) has been published on its connection or found
   * published by another instance. A test that flushes `nc` after this has seen all it will say.
   */
  async settled(): Promise<void> {
    for (;;) {
      const work = [...this.pushes.pending(), ...this.verdicts.pending(), this.loop.pending()].filter(
        (p) => p !== null,
      );
      if (work.length === 0) break;
      await Promise.allSettled(work);
    }
    await this.verdicts.published();
  }

  /** Every diagnosis with the servers' own view filled in. */
  diagnoses(): ImportDiagnosis[] {
    return this.verdicts.keyed().map(([, d]) => d);
  }

  /** Load everything again now (coalesced with a resync under way). */
  resync(reason: string): void {
    this.loop.resync(reason);
  }

  private endpointSource(): LiveState {
    return {
      directory: () => this.monitor.directory,
      diagnosesOf: (id: string | null) =>
        id === null ? this.diagnoses() : this.verdicts.keyed([id]).map(([, d]) => d),
      options: () => ({ now: nowSeconds(), expiryWarningSeconds: this.config.expiryWarningDays * 86400 }),
      jwtSource: () => this.loader.source,
      history: () => this.history,
    };
  }
}

async function openHistoryStream(nc: NatsConnection, config: Config, log: Logger): Promise<HistoryStore> {
  try {
    return await StreamHistory.open(nc, config.historyStream, config.historyLimits, config.stateReplicas, log);
  } catch (e) {
    throw new ConfigError(
      `shared state: cannot open the history stream "${config.historyStream}" (is JetStream enabled for that account, with room for it?): ${(e as Error).message}`,
    );
  }
}

async function openKvGate(nc: NatsConnection, config: Config): Promise<PublishGate> {
  try {
    return await KvGate.open(nc, config.stateBucket, config.stateReplicas);
  } catch (e) {
    throw new ConfigError(
      `shared state: cannot open KV bucket "${config.stateBucket}" (is JetStream enabled for that account?): ${(e as Error).message}`,
    );
  }
}

/** Nobody answering the $SYS requests at start means the creds are not a system-account user's: a configuration problem. */
function noResolverIsConfigError(e: unknown): unknown {
  const noResponders = e instanceof NoRespondersError || (e instanceof RequestError && e.isNoResponders());
  if (!noResponders) return e;
  return new ConfigError(
    "no server answers the $SYS requests (CLAIMS.*, SERVER.PING.ACCOUNTZ): the creds must be a system-account user's",
  );
}
