/**
 * From verdicts to events. The monitor's verdicts are made from the JWTs; the servers' own view
 * (ACCOUNT.<id>.INFO, asked at each cross-check and after each change) is applied to them before
 * they are published, and a verdict is never combined with a server view older than it. The event
 * publisher then decides, across instances, who publishes a change.
 */
import type { ImportDiagnosis } from "../core/diagnosis.js";
import { trigger, type Trigger } from "../core/history.js";
import { idleFrom, interestQuestion, type IdleReason, type InterestQuestion } from "../core/idle.js";
import { importOfKey } from "../core/import-key.js";
import { amended } from "../core/report.js";
import type { ImportChange, ImportMonitor } from "../core/monitor.js";
import { serverViewCanChange } from "../core/server-observation.js";
import type { EventPublisher, RemovalReason, TriggerOf } from "../shell/events.js";
import type { Logger } from "../shell/log.js";
import { MAX_ACCOUNTS, noAnswer, type ResolverClient } from "../shell/resolver.js";
import { CONFIRM_MS, directoryBasis, ServerViews, type VerdictBasis } from "../shell/server-views.js";
import { sleep } from "./clock.js";
import type { Lifecycle } from "./lifecycle.js";

/**
 * After a change, the servers' view of the accounts it touched is asked for again before their
 * verdicts are published; while a server still shows other JWTs than the resolver's, or has not
 * answered, it is asked again after these delays, within boundMs in all (then the held verdicts go
 * out without its view, and CATCH_UP takes over).
 */
const FRESH_VIEW = { delaysMs: [25, 75, 150, 300, 450], boundMs: 1000, waitMs: 500 };
/**
 * A view still not fresh once the held verdicts are out (a server behind, or one that did not
 * answer in time: on a busy machine an INFO answer can take longer than FRESH_VIEW.waitMs) is asked
 * for again at these delays, each answer waited for as long as any request, within boundMs in
 * all; the verdicts are then offered again, the view applied. settled() waits for this too.
 */
const CATCH_UP = { delaysMs: [250, 500, 1000, 2000, 4000], boundMs: 10_000, waitMs: Infinity };
/** How often and how long the servers are asked again, and how long one INFO answer is waited for. */
interface Pace {
  delaysMs: number[];
  boundMs: number;
  /** At most the request time-out. */
  waitMs: number;
}
/** Subscription questions (ACCOUNT.<id>.SUBSZ to every server) in flight at once. */
const IDLE_CONCURRENCY = 16;

export class VerdictPublisher {
  private readonly views = new ServerViews();
  private readonly basis: VerdictBasis;
  /** Imports whose verdicts wait for a fresh server view before they are published (count of waits). */
  private readonly held = new Map<string, number>();
  /** Server views asked for after a change, not back yet. */
  private readonly viewWork = new Set<Promise<void>>();
  /**
   * Accounts whose last INFO fewer servers answered than there are: a missing answer is no view
   * (refresh leaves the account without one), yet it is not a fresh one either.
   */
  private readonly unanswered = new Set<string>();
  /** The start-up's removal of imports that disappeared while no instance ran. */
  private startRemovals: Promise<void> = Promise.resolve();
  /** Active imports found idle at the last cross-check, by key. */
  private idle = new Map<string, IdleReason>();
  /** Servers in the deployment, counted at each cross-check. */
  private servers = 1;

  constructor(
    private readonly monitor: ImportMonitor,
    private readonly events: EventPublisher,
    private readonly resolver: ResolverClient,
    private readonly life: Lifecycle,
    private readonly log: Logger,
    private readonly requestTimeoutMs: number,
  ) {
    // The servers' view is compared with the directory's JWTs and time boundaries.
    this.basis = directoryBasis(monitor.directory);
  }

  /** The diagnoses (of these accounts, or of all) by import key, the servers' own view filled in. */
  keyed(accounts?: Iterable<string>): [string, ImportDiagnosis][] {
    return this.monitor
      .keyed(accounts)
      .map(([key, d]): [string, ImportDiagnosis] => [key, this.withIdle(key, this.views.apply(key, d, this.basis))]);
  }

  /** An active import's idle reason from the last epoch's look at the servers' subscriptions. */
  private withIdle(key: string, d: ImportDiagnosis): ImportDiagnosis {
    const idle = d.status === "active" ? (this.idle.get(key) ?? null) : null;
    return idle === d.idle ? d : amended(d, { idle });
  }

  /** A stream import renamed by the deprecated `to` (a prefix): where it lands is not judged here, so its idleness is not either. */
  private prefixedStream(d: ImportDiagnosis): boolean {
    if (d.type !== "stream" || d.local_subject !== null) return false;
    const declared = this.monitor.directory.get(d.account)?.claims?.imports ?? [];
    return declared.some(
      (i) =>
        i.type === "stream" &&
        i.account === d.source_account &&
        i.subject === d.subject &&
        i.localSubject === null &&
        i.to !== null,
    );
  }

  /**
   * Ask every server about the subscriptions behind each active import (one question per account
   * and subject, however many imports share it). Run at each cross-check: idle changes no status,
   * so no event is published for it; replies and metrics show it.
   */
  private async refreshIdle(): Promise<void> {
    // An account no server has loaded has no subscription: every server would answer SUBSZ with a
    // total of 0 (it filters the accounts it has loaded), which is what is recorded without asking.
    // (At start no server has loaded most accounts: at 100,000 accounts that is ~350,000 imports.)
    const loaded = await this.loadedAccounts();
    const none = new Array<boolean>(this.servers).fill(false);
    const fresh = new Map<string, IdleReason>();
    const questions = new Map<string, { q: InterestQuestion; keys: string[] }>();
    // The servers' view applied (it can change a status); the idle reasons of the last look are not needed.
    for (const [key, judged] of this.monitor.keyed()) {
      const d = this.views.apply(key, judged, this.basis);
      const q = interestQuestion(d, this.basis.exporterSubject(d, key));
      if (!q || this.prefixedStream(d)) continue;
      if (loaded && !loaded.has(q.account)) {
        const idle = idleFrom(q, none, this.servers);
        if (idle) fresh.set(key, idle);
        continue;
      }
      const id = `${q.account} ${q.subject}`;
      const known = questions.get(id);
      if (known) known.keys.push(key);
      else questions.set(id, { q, keys: [key] });
    }
    const all = [...questions.values()];
    for (let i = 0; i < all.length; i += IDLE_CONCURRENCY) {
      await Promise.all(
        all.slice(i, i + IDLE_CONCURRENCY).map(async ({ q, keys }) => {
          const answers = await this.resolver
            .subscriptionInterest(
              q.account,
              q.subject,
              this.servers,
              Math.min(this.requestTimeoutMs, FRESH_VIEW.waitMs),
            )
            .catch(() => []);
          const idle = idleFrom(q, answers, this.servers);
          if (idle) for (const key of keys) fresh.set(key, idle);
        }),
      );
    }
    this.idle = fresh;
  }

  /** Server views asked for after a change that are not back yet. */
  pending(): Promise<void>[] {
    return [...this.viewWork];
  }

  /** Resolves once every event queued so far has been published (or given up). */
  drained(): Promise<void> {
    return this.events.drained();
  }

  /**
   * Resolves once every event decided on so far (the start-up's removals too) has been published
   * on the connection or found published by another instance.
   */
  async published(): Promise<void> {
    await this.startRemovals;
    await this.events.drained();
  }

  /**
   * Publish what changed. The monitor says which imports were re-evaluated; an event goes out when
   * the final (status, cause), the servers' view applied, differs from the last one published.
   * A verdict no server view can change (an inactive one, but for a cycle: a server can only add
   * an exposure to its message) goes out at once. The other imports of the accounts touched (those
   * with a changed verdict, and `touched`, whose JWTs changed) are held back until their servers
   * have been asked again (bounded by FRESH_VIEW.boundMs; CATCH_UP after), then published once.
   */
  emit(changes: ImportChange[], touched: string[], by: Trigger): void {
    this.views.judged(changes.map((c) => c.key));
    const accounts = [...new Set([...changes.map((c) => c.diagnosis.account), ...touched])];
    const why = () => by;
    if (!this.life.started || accounts.length === 0)
      this.publishChanged(
        changes.map((c) => [c.key, c.diagnosis]),
        why,
      );
    else {
      const entries = this.monitor.keyed(accounts);
      const waiting = entries.filter(([, d]) => serverViewCanChange(d)).map(([key]) => key);
      if (waiting.length > 0) this.holdFor(waiting, accounts, why);
      this.publishChanged(entries, why);
    }
    this.forgetRemoved(by);
  }

  /**
   * After a resync's `changes`: cross-check every importer with the servers, then compare every
   * import with what was last published (a full pass).
   */
  async publishAll(changes: ImportChange[], reason: string): Promise<void> {
    // Before the first cross-check no server was asked anything: nothing to discount.
    if (this.life.started) this.views.judged(changes.map((c) => c.key));
    await this.crossCheck().catch((e: Error) => this.log.warn({ err: e.message }, "server cross-check failed"));
    this.log.debug({ reason }, "resync: servers cross-checked");
    // What the JWTs changed, the resync found; any other change is the servers' view's.
    const reloaded = new Set(changes.map((c) => c.key));
    const resync = this.life.started ? trigger("resync", { reason }) : trigger("start");
    const crossCheck = this.life.started ? trigger("cross_check") : resync;
    this.publishChanged(this.monitor.keyed(), (key) => (reloaded.has(key) ? resync : crossCheck));
    this.forgetRemoved(resync);
    this.log.debug({ reason }, "resync: verdicts offered to the event queue");
  }

  /** Imports that disappeared while no instance ran (the shared record outlives instances). */
  forgetUndeclared(): void {
    this.startRemovals = this.events
      .removeUndeclared(
        (key) => this.monitor.has(key),
        (id) => this.removalReason(id),
        (key) => this.describeGone(key),
        trigger("start"),
      )
      .catch((e: Error) => this.log.warn({ err: e.message }, "could not read the record of published imports"));
  }

  private async crossCheck(): Promise<void> {
    this.servers = Math.max(1, await this.resolver.serverCount());
    const { importers, listed } = await this.loadedImporters();
    this.unanswered.clear(); // every importer is asked again now
    // Importers ACCOUNTZ listed as loaded need no first question (ServerViews.refresh's probe).
    await this.views.refresh(importers, (id: string) => this.accountInfo(id), this.basis, true, !listed);
    await this.confirmExposures(importers);
    this.log.debug(
      { importers: importers.length, servers: this.servers },
      "cross-check: the loaded importers' views read",
    );
    await this.refreshIdle().catch((e: Error) =>
      this.log.warn({ err: e.message }, "could not ask the servers for their subscriptions"),
    );
  }

  /**
   * The importers some server has loaded (ACCOUNTZ; `listed`), or every importer when not every
   * server listed its accounts. An account no server has loaded has no view: asking each server for its
   * INFO anyway made the start-up cross-check of 100,000 accounts, none loaded, ask 100,000 times
   * for nothing (a third of the start-up time in a CPU profile).
   */
  private async loadedImporters(): Promise<{ importers: string[]; listed: boolean }> {
    const importers = [...new Set(this.monitor.diagnoses().map((d) => d.account))];
    const loaded = await this.loadedAccounts();
    return loaded
      ? { importers: importers.filter((id) => loaded.has(id)), listed: true }
      : { importers, listed: false };
  }

  /** The accounts some server has loaded; null when not every server listed its accounts (ACCOUNTZ). */
  private async loadedAccounts(): Promise<Set<string> | null> {
    const listing = await this.resolver.accountz().catch(() => null);
    if (!listing || listing.servers < this.servers || listing.accounts.size >= MAX_ACCOUNTS) return null;
    return listing.accounts;
  }

  /**
   * Hold back these imports' verdicts while the servers are asked for a fresh view; then publish
   * the accounts' verdicts, and confirm any exposure. A view still not fresh is caught up after.
   */
  private holdFor(keys: string[], accounts: string[], why: TriggerOf): void {
    for (const key of keys) this.held.set(key, (this.held.get(key) ?? 0) + 1);
    const done = this.freshViews(accounts, FRESH_VIEW)
      .catch((e: Error) => this.log.warn({ err: e.message }, "could not ask the servers for their view"))
      .then(() => {
        for (const key of keys) {
          const n = (this.held.get(key) ?? 1) - 1;
          if (n > 0) this.held.set(key, n);
          else this.held.delete(key);
        }
        this.publishChanged(this.monitor.keyed(accounts), why);
        return this.confirmExposures(accounts);
      })
      .then(() => this.catchUp(accounts, why))
      .catch((e: Error) => this.log.warn({ err: e.message }, "could not confirm a server's view"))
      .finally(() => this.viewWork.delete(done));
    this.viewWork.add(done);
  }

  /** The held verdicts went out without a fresh view of some account: ask again, longer, then offer them again. */
  private async catchUp(accounts: string[], why: TriggerOf): Promise<void> {
    if (this.stale(accounts).length === 0 || this.life.stopping) return;
    await this.freshViews(accounts, CATCH_UP, false);
    this.publishChanged(this.monitor.keyed(accounts), why);
    await this.confirmExposures(accounts);
  }

  /** Of these accounts, those some server shows with other JWTs than the directory's, or did not answer about. */
  private stale(accounts: string[]): string[] {
    return [
      ...new Set([...this.views.behind(accounts, this.basis), ...accounts.filter((id) => this.unanswered.has(id))]),
    ];
  }

  /** Offer the final verdicts, the servers' view applied, to the event publisher; held imports wait. */
  private publishChanged(entries: [string, ImportDiagnosis][], why: TriggerOf): void {
    const free = this.held.size === 0 ? entries : entries.filter(([key]) => !this.held.has(key));
    this.events.offer(
      free.map(([key, d]) => [key, this.views.apply(key, d, this.basis)]),
      !this.life.started,
      why,
    );
  }

  /** Where a server honours an import the JWTs say is dead, look once more: a late server timer is no exposure. */
  private async confirmExposures(accounts: string[]): Promise<void> {
    const pending = this.views.unconfirmed(this.monitor.keyed(accounts), this.basis);
    if (pending.length === 0 || this.life.stopping) return;
    await sleep(CONFIRM_MS + 20);
    await this.views.refresh(pending, (id: string) => this.accountInfo(id), this.basis, false);
  }

  /**
   * Ask the servers about these accounts until each shows the resolver's JWTs, at `pace`. At a
   * time instant (an exp or nbf), first let the servers' own timers fire. `first`: ask all of them
   * once before asking only the stale ones.
   */
  private async freshViews(accounts: string[], pace: Pace, first = true): Promise<void> {
    const quiet = this.views.quietAfter(this.monitor.keyed(accounts), this.basis) - Date.now();
    if (quiet > 0) await sleep(quiet);
    const deadline = Date.now() + pace.boundMs;
    const info = (id: string) => this.accountInfo(id, pace.waitMs);
    if (first) await this.views.refresh(accounts, info, this.basis, false);
    for (const delay of pace.delaysMs) {
      const stale = this.stale(accounts);
      if (stale.length === 0 || this.life.stopping || Date.now() + delay > deadline) return;
      await sleep(delay);
      await this.views.refresh(stale, info, this.basis, false);
    }
  }

  /**
   * Each server's view of the account; the account is noted unanswered while fewer servers answer
   * than there are. A server that does not answer has no view; any other failure is logged (and
   * the view left out too).
   */
  private accountInfo(id: string, waitMs = FRESH_VIEW.waitMs) {
    return this.resolver.accountInfo(id, this.servers, Math.min(this.requestTimeoutMs, waitMs)).then(
      (replies) => {
        if (replies.length < this.servers) this.unanswered.add(id);
        else this.unanswered.delete(id);
        return replies;
      },
      (e: unknown) => {
        this.unanswered.add(id);
        if (!noAnswer(e))
          this.log.warn(
            { account: id, err: (e as Error).message },
            "could not ask the servers for their view of an account",
          );
        throw e;
      },
    );
  }

  /**
   * Imports no JWT declares any more (or whose account is gone): the monitor names them, or (after
   * very many) everything is compared. Each gets a removal event, so no consumer keeps it.
   */
  private forgetRemoved(by: Trigger): void {
    const removed = this.monitor.takeRemovedKeys();
    const why = (id: string): RemovalReason => this.removalReason(id);
    if (removed) {
      this.events.removed(removed, why, by);
      this.views.forgetKeys(removed);
    } else {
      this.events.prune((key) => this.monitor.has(key), why, by);
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
    return {
      ...imp,
      account_name: names.nameOf(imp.account),
      name: null,
      source_account_name: names.nameOf(imp.source_account),
      status: "inactive",
      cause: null,
      message: "",
      remediation: [],
      token: null,
      server: null,
      idle: null,
    };
  }
}
