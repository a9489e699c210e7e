/**
 * The clock of the live service: a full resync every epoch (and on demand), and a wake-up at the
 * next instant at which time alone changes a verdict (an exp or nbf, or the start of a warning).
 */
import { TimeoutError } from "@nats-io/nats-core";
import { trigger } from "../core/history.js";
import { UnconfirmedLoad, type ImportChange, type ImportMonitor } from "../core/monitor.js";
import { iso } from "../core/time.js";
import { LOAD_HEAP_GROWTH_PERCENT, limitHeapGrowth } from "../shell/gc.js";
import type { Logger } from "../shell/log.js";
import type { Metrics } from "../shell/metrics.js";
import type { AccountLoader } from "./account-loader.js";
import { nowSeconds, sleep } from "./clock.js";
import type { Lifecycle } from "./lifecycle.js";
import type { VerdictPublisher } from "./verdict-publisher.js";

/**
 * A first load that got no answer in time (after the resolver client's own retries: a server or
 * machine busy for longer) is done again after these pauses before the start-up gives up.
 */
const FIRST_LOAD_RETRY_MS = [2_000, 10_000, 30_000, 60_000];

/** A load whose requests went out on a connection since re-established: their replies may never come. */
class LoadAbandoned extends Error {
  constructor() {
    super("the connection was re-established during the load");
  }
}

/** Node timers overflow past ~24.8 days; wake up at least daily and re-arm. */
const MAX_TIMER_MS = 24 * 3600 * 1000;

export class ResyncLoop {
  private running: Promise<void> | null = null;
  /** Why another resync was asked for while one ran (the first reason; it runs once). */
  private again: string | null = null;
  /** Set while a load runs: a reconnect rejects it, since replies to requests sent before may never come. */
  private abandonLoad: (() => void) | null = null;
  /** Set while the first load runs (it loads again itself after a reconnect). */
  private loadingFirst = false;
  private epochTimer: NodeJS.Timeout | null = null;
  private boundaryTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly monitor: ImportMonitor,
    private readonly loader: AccountLoader,
    private readonly verdicts: VerdictPublisher,
    private readonly metrics: Metrics,
    private readonly life: Lifecycle,
    private readonly log: Logger,
  ) {}

  /**
   * The first load, at start; its errors end the start-up, but for a request nobody answered in
   * time and a load abandoned because the connection was re-established (a server too busy to
   * write to this client drops it as a slow consumer): the load is done again, after the pauses of
   * FIRST_LOAD_RETRY_MS for the first, at once for the second, each logged, unless the service is
   * stopping. A reconnect meanwhile starts no resync of its own: this is the load it would be.
   */
  async first(): Promise<void> {
    this.loadingFirst = true;
    try {
      for (let attempt = 0; ; attempt++) {
        try {
          return await this.load("start");
        } catch (e) {
          const delay = e instanceof LoadAbandoned ? 0 : FIRST_LOAD_RETRY_MS[attempt];
          const again = e instanceof TimeoutError || e instanceof LoadAbandoned;
          if (!again || delay === undefined || attempt >= FIRST_LOAD_RETRY_MS.length || this.life.stopping) throw e;
          this.log.warn(
            { err: e.message, attempt: attempt + 1, retry_in_ms: delay },
            "the first load did not finish; loading again",
          );
          await sleep(delay);
        }
      }
    } finally {
      this.loadingFirst = false;
    }
  }

  /**
   * Load every JWT the resolver stores and re-evaluate what changed; cross-check the servers.
   * One at a time: asked while one runs, another runs right after it (once, whatever the number of
   * asks), so a reconnect never just waits on a resync that started before the connection broke.
   * Failures are logged here; the next epoch tries again.
   */
  resync(reason: string): void {
    if (this.running) {
      this.again ??= reason;
      return;
    }
    this.running = this.load(reason)
      .catch((e: Error) => {
        this.metrics.resyncFailed();
        this.log.warn({ reason, err: e.message }, "resync failed");
      })
      .finally(() => {
        this.running = null;
        const again = this.again;
        this.again = null;
        if (again && !this.life.stopping) this.resync(again);
      });
  }

  /** The connection was re-established: abandon a load under way and load again. */
  reconnected(): void {
    this.abandonLoad?.();
    if (!this.loadingFirst) this.resync("reconnect");
  }

  /** The resync under way, if any. */
  pending(): Promise<void> | null {
    return this.running;
  }

  armEpoch(epochSeconds: number): void {
    this.epochTimer = setInterval(() => {
      this.resync("epoch");
    }, epochSeconds * 1000);
    this.epochTimer.unref?.();
  }

  /** Wake up at the next exp/nbf (or warning) instant, so expiry is reported when it happens. */
  armBoundary(): void {
    if (this.boundaryTimer) clearTimeout(this.boundaryTimer);
    const next = this.monitor.nextBoundary();
    if (next === null || this.life.stopping) return;
    const delay = Math.min(Math.max(0, next * 1000 - Date.now() + 5), MAX_TIMER_MS);
    this.boundaryTimer = setTimeout(() => {
      this.verdicts.emit(
        this.metrics.timed("time", () => this.monitor.tick(nowSeconds())),
        [],
        trigger("time", { instant: iso(next) }),
      );
      this.armBoundary();
    }, delay);
  }

  stopTimers(): void {
    if (this.epochTimer) clearInterval(this.epochTimer);
    if (this.boundaryTimer) clearTimeout(this.boundaryTimer);
  }

  private async load(reason: string): Promise<void> {
    const started = Date.now();
    const { accounts, changes } = await this.readAndApply(reason, started);
    // The load's garbage is behind us: from here the heap grows by a bounded share between full
    // collections (the start-up's events, then pushes and checks; shell/gc.ts).
    limitHeapGrowth();
    await this.verdicts.publishAll(changes, reason);
    this.armBoundary();
    this.metrics.resynced();
    this.log.info(
      { reason, accounts, imports: this.monitor.diagnosisCount(), ms: Date.now() - started },
      "resync done",
    );
  }

  /**
   * Reads every stored JWT and applies them to the monitor. A function of its own so that the JWT
   * texts (hundreds of MB at 100,000 accounts) are garbage once it returns: an async function keeps
   * its locals alive across its later awaits (publishAll's), read again or not. The monitor takes
   * the texts out of the map as it files them; a first load whose deferred signature checks found
   * a forgery after that (UnconfirmedLoad) is read and loaded again, verifying as it goes.
   */
  private async readAndApply(
    reason: string,
    started: number,
    again = false,
  ): Promise<{ accounts: number; changes: ImportChange[] }> {
    await this.loader.refreshTrust();
    // The first load's heap grows by a bounded share too (a milder one), from its pack on (shell/gc.ts).
    if (this.loadingFirst) limitHeapGrowth(LOAD_HEAP_GROWTH_PERCENT);
    const jwts = await new Promise<Map<string, string>>((resolve, reject) => {
      // Abandoned, the load stops too (its pack or lookups), rather than read on beside the next one.
      const abandoned = new AbortController();
      this.abandonLoad = () => {
        abandoned.abort();
        reject(new LoadAbandoned());
      };
      this.loader.loadStored(abandoned.signal).then(resolve, reject);
    }).finally(() => (this.abandonLoad = null));
    const accounts = jwts.size;
    this.log.debug({ reason, accounts, ms: Date.now() - started }, "resync: JWTs read");
    let changes: ImportChange[];
    try {
      // The load takes each JWT's text out of the map as it files it: the texts are garbage as it goes.
      changes = this.metrics.timed("resync", () => this.monitor.replaceAll(jwts, nowSeconds(), { consume: true }));
    } catch (e) {
      if (!(e instanceof UnconfirmedLoad) || again) throw e;
      this.log.warn({ reason }, "a signature failed among the first load's deferred checks; reading the JWTs again");
      return this.readAndApply(reason, started, true);
    }
    this.log.debug({ reason, changes: changes.length, ms: Date.now() - started }, "resync: loaded and evaluated");
    return { accounts, changes };
  }
}
