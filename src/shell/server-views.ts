/**
 * The servers' own view of each import (ACCOUNT.<id>.INFO from every server that has the account
 * loaded), kept beside the computed diagnoses and applied to them by core/server-view.ts.
 */
import type { ImportDiagnosis } from "../core/diagnosis.js";
import { applyServerView } from "../core/server-view.js";
import type { AccountInfoReply } from "./resolver.js";

const CONCURRENCY = 16;

export class ServerViews {
  private readonly byAccount = new Map<string, AccountInfoReply[]>();

  /** Ask about each account; an account no server has loaded has no view. `all`: forget the rest. */
  async refresh(ids: string[], fetch: (id: string) => Promise<AccountInfoReply[]>, all = true): Promise<void> {
    const fresh = new Map<string, AccountInfoReply[]>();
    for (let i = 0; i < ids.length; i += CONCURRENCY) {
      const batch = ids.slice(i, i + CONCURRENCY);
      const replies = await Promise.all(batch.map(async (id) => [id, await fetch(id).catch(() => [])] as const));
      for (const [id, views] of replies) fresh.set(id, views);
    }
    if (all) this.byAccount.clear();
    for (const [id, v] of fresh) {
      if (v.length > 0) this.byAccount.set(id, v);
      else this.byAccount.delete(id);
    }
  }

  /** Drop what is known of these accounts: after a change it may be stale, and a stale view lies. */
  forget(ids: Iterable<string>): void {
    for (const id of ids) this.byAccount.delete(id);
  }

  /** The diagnosis with `server` filled in, where a server has the account loaded. */
  apply(d: ImportDiagnosis): ImportDiagnosis {
    const views = this.byAccount.get(d.account);
    if (!views) return d;
    // Servers since 2.9.17 report the exporter-side subject; older ones a service's local subject.
    const wanted = new Set([d.type === "service" && d.local_subject ? d.local_subject : d.subject, d.subject]);
    const matching = (v: AccountInfoReply) => v.imports.filter((i) => i.account === d.source_account && i.type === d.type && wanted.has(i.subject));
    return applyServerView(d, {
      servers: views.length,
      registered: views.filter((v) => matching(v).length > 0).length,
      honouring: views.filter((v) => matching(v).some((i) => !i.invalid)).length,
    });
  }
}
