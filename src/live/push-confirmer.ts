/**
 * Pushes and deletes heard on $SYS. A payload is only a hint: the resolver is asked what it really
 * stored (several times, soon after: we often hear a push before the server has stored it), and
 * only its answer changes the directory. A push it did not store is recorded as rejected.
 */
import type { NatsConnection } from "@nats-io/nats-core";
import type { AccountClaims } from "../core/jwt/claims.js";
import { trigger, type Trigger } from "../core/history.js";
import type { ImportChange, ImportMonitor } from "../core/monitor.js";
import { refusalOnPush } from "../core/push-refusal.js";
import { readDelete } from "../shell/deletes.js";
import { RateLimitedLog, type Logger } from "../shell/log.js";
import type { Metrics } from "../shell/metrics.js";
import { readPush } from "../shell/push-messages.js";
import { SUBJECTS, type LookupAnswer, type ResolverClient } from "../shell/resolver.js";
import { nowSeconds, sleep } from "./clock.js";
import type { Lifecycle } from "./lifecycle.js";

/**
 * Delays between LOOKUPs confirming a push: we often hear a push before the server has stored it
 * (measured: the first LOOKUP returned the previous JWT 251 times in 400), so look again soon.
 */
export const CONFIRM_DELAYS_MS = [0, 5, 25, 100, 300, 700];
/** One LOOKUP is waited for at most this long (or the request time-out, if shorter). */
const LOOKUP_WAIT_MS = 500;

/** Where the confirmer's findings go. */
export interface ConfirmedChanges {
  /** Verdicts changed; `touched`: accounts whose JWTs changed; `by`: the push or delete that changed them. */
  changed(changes: ImportChange[], touched: string[], by: Trigger): void;
  /** A change could not be confirmed: read everything again. */
  resync(reason: string): void;
  /**
   * No resolver stores JWTs (a memory or URL resolver: the last load read the servers' loaded
   * accounts), so there is nothing to confirm with: a heard push or delete asks for a resync.
   */
  readsServers(): boolean;
}

export class PushConfirmer {
  /** The confirmation under way per account (the last of a chain, in arrival order). */
  private readonly perAccount = new Map<string, Promise<void>>();
  private readonly badInput: RateLimitedLog;

  constructor(
    private readonly nc: NatsConnection,
    private readonly monitor: ImportMonitor,
    private readonly resolver: ResolverClient,
    private readonly metrics: Metrics,
    private readonly life: Lifecycle,
    private readonly log: Logger,
    private readonly requestTimeoutMs: number,
    private readonly out: ConfirmedChanges,
  ) {
    this.badInput = new RateLimitedLog(log);
  }

  /** Subscribe to pushes and deletes (before the first load: one heard during it is then queued, not missed). */
  listen(): void {
    for (const subject of SUBJECTS.updates) this.nc.subscribe(subject, { callback: (_e, msg) => this.onPush(msg) });
    this.nc.subscribe(SUBJECTS.deletes, { callback: (_e, msg) => this.onDelete(msg) });
  }

  /** Confirmations under way. */
  pending(): Promise<void>[] {
    return [...this.perAccount.values()];
  }

  private onPush(msg: Parameters<typeof readPush>[0]): void {
    const hint = readPush(msg);
    if (!hint.ok) {
      this.metrics.rejectedInput("push");
      this.badInput.warn(hint.error, { subject: msg.subject });
      return;
    }
    if (this.out.readsServers()) return this.out.resync("push");
    this.confirmInTurn(hint.claims.subject, () => this.confirmPush(hint.claims, hint.jwt));
  }

  /** An operator's delete request: each account we know is confirmed gone with the resolver. */
  private onDelete(msg: Parameters<typeof readDelete>[0]): void {
    const hint = readDelete(msg, this.monitor.directory.trust);
    if (!hint.ok) {
      this.metrics.rejectedInput("delete");
      this.badInput.warn(hint.error, { subject: msg.subject });
      return;
    }
    if (this.out.readsServers()) return this.out.resync("delete");
    for (const id of hint.accounts)
      if (this.monitor.directory.get(id)) this.confirmInTurn(id, () => this.confirmDelete(id));
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

  private ask(id: string): Promise<LookupAnswer> {
    return this.resolver.ask(id, Math.min(this.requestTimeoutMs, LOOKUP_WAIT_MS));
  }

  private async confirmDelete(id: string): Promise<void> {
    let answer: LookupAnswer = { kind: "silent" };
    for (const delay of CONFIRM_DELAYS_MS) {
      if (delay) await sleep(delay);
      if (this.life.stopping) return;
      answer = await this.ask(id);
      if (answer.kind === "silent" && this.resolver.silentMeansNone()) answer = { kind: "none" };
      if (answer.kind === "none") break;
    }
    if (!this.life.started) return; // the initial load reads the resolver anyway
    if (answer.kind === "silent") {
      this.log.warn({ account: id }, "could not confirm a delete: the resolver did not answer; resyncing");
      this.out.resync("unconfirmed delete");
    } else if (answer.kind === "jwt") {
      this.log.info(
        { account: id },
        "delete not carried out: the resolver still stores the account (is allow_delete set?)",
      );
    } else {
      const name = this.monitor.directory.nameOf(id);
      this.log.info({ account: id, name }, "account deleted");
      this.out.changed(
        this.metrics.timed("account_deleted", () => this.monitor.applyAccount(id, null, nowSeconds())),
        [],
        trigger("delete", { account: id, account_name: name }),
      );
    }
  }

  private async confirmPush(claims: AccountClaims, jwt: string): Promise<void> {
    const id = claims.subject;
    const silentMeansNone = this.resolver.silentMeansNone();
    let answer: LookupAnswer = { kind: "silent" };
    let heard = false;
    for (const delay of CONFIRM_DELAYS_MS) {
      if (delay) await sleep(delay);
      if (this.life.stopping) return;
      answer = await this.ask(id);
      if (answer.kind === "silent" && silentMeansNone) answer = { kind: "none" };
      heard ||= answer.kind !== "silent";
      if (answer.kind === "jwt" && answer.jwt === jwt) break;
    }
    if (!this.life.started) return; // the initial load reads the resolver anyway
    if (!heard) {
      // No answer is no verdict: replies were lost or the resolver is slow. Read everything again.
      this.log.warn(
        { account: id, name: claims.name },
        "could not confirm a push: the resolver did not answer; resyncing",
      );
      this.out.resync("unconfirmed push");
      return;
    }
    if (answer.kind === "jwt" && answer.jwt === jwt) {
      this.log.info({ account: id, name: claims.name }, "push stored");
      const changes = this.metrics.timed("push_stored", () => this.monitor.applyAccount(id, jwt, nowSeconds()));
      this.out.changed(
        changes,
        [id, ...this.monitor.directory.importersOf(id)],
        trigger("push", { account: id, account_name: claims.name ?? null }),
      );
      return;
    }
    const reason = refusalOnPush(claims, this.monitor.directory.trust) ?? "the server did not store it";
    this.log.warn({ account: id, name: claims.name, reason }, "push rejected by the server");
    // What the resolver holds instead (a JWT, or none for an account it never had) is the truth;
    // a known account is never dropped on the strength of one answer.
    const stored = answer.kind === "jwt" ? answer.jwt : this.monitor.directory.get(id) ? undefined : null;
    this.out.changed(
      this.metrics.timed("push_rejected", () => [
        ...(stored === undefined ? [] : this.monitor.applyAccount(id, stored, nowSeconds())),
        ...this.monitor.recordRejectedPush(claims, reason, nowSeconds()),
      ]),
      [],
      trigger("push_rejected", { account: id, account_name: claims.name ?? null }),
    );
  }
}
