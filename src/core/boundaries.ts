/**
 * Each account's next time boundary (the instant, unix s, at which time alone may change one of its
 * verdicts), and the soonest of them. The soonest is asked after every change (the live service
 * re-arms its wake-up after each push), so it is kept rather than found by a pass over every
 * account (~0.75 ms at 100,000 accounts): a boundary that comes sooner replaces it; only moving or
 * removing the account that holds it makes the next ask look through them all.
 */
export class TimeBoundaries {
  private readonly byAccount = new Map<string, number>();
  /** The soonest boundary; undefined when it must be looked for again. */
  private soonest: number | null | undefined = null;

  /** Set (or, with null, remove) an account's next boundary. */
  set(id: string, at: number | null): void {
    const before = this.byAccount.get(id);
    if (at === null) this.byAccount.delete(id);
    else this.byAccount.set(id, at);
    if (this.soonest === undefined) return;
    if (before !== undefined && before === this.soonest && (at === null || at > before)) this.soonest = undefined;
    else if (at !== null && (this.soonest === null || at < this.soonest)) this.soonest = at;
  }

  clear(): void {
    this.byAccount.clear();
    this.soonest = null;
  }

  /** The soonest boundary of any account, or null. */
  next(): number | null {
    if (this.soonest === undefined) {
      let next: number | null = null;
      for (const t of this.byAccount.values()) if (next === null || t < next) next = t;
      this.soonest = next;
    }
    return this.soonest;
  }

  /** The accounts whose boundary is at or before `now`. */
  due(now: number): string[] {
    const ids: string[] = [];
    if ((this.next() ?? Infinity) > now) return ids;
    for (const [id, t] of this.byAccount) if (t <= now) ids.push(id);
    return ids;
  }
}
