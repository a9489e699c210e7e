/**
 * The servers' own view of each import (ACCOUNT.<id>.INFO from every server that has the account
 * loaded), kept beside the computed diagnoses and applied to them by core/server-observation.ts.
 *
 * A server's view is only compared with a verdict made from the same JWTs: each look records the
 * importer's JWT the server has applied and, asked just before, the JWT of each account it imports
 * from (the server sets an account's JWT only once the update, importers re-checked, is complete).
 * A look from another JWT version, or older than the verdict, is left out; so is a look taken
 * within a second of an instant at which time changes the import (the server's own timers may fire
 * before ours, or after). A server that honours an import the JWTs say is dead must say so on two looks at least
 * CONFIRM_MS apart, so a server timer that fires a little late is no exposure.
 */
import type { ImportDiagnosis } from "../core/diagnosis.js";
import { applyServerView } from "../core/server-observation.js";
import { installedImport, type AccountDirectory } from "../core/directory.js";
import { jwtDigest } from "../core/jwt/decode.js";
import { SYSTEM_IMPORT_SUBJECTS } from "../core/system-account.js";
import { exporterSubject } from "../core/validate.js";
import { importKey } from "../core/import-key.js";
import type { ImportClaim } from "../core/jwt/claims.js";
import type { AccountInfoReply, ServerImportView } from "./resolver.js";

const CONCURRENCY = 16;
/** An exposure is reported only when a server shows it on looks at least this far apart. */
export const CONFIRM_MS = 500;
/** Looks this close to an instant at which the import changes by time may see the server's timers before ours, or after. */
export const BOUNDARY_MARGIN_MS = 300;
/** Look times kept per server and run of identical looks. */
const TIMES_KEPT = 8;

/** What the app knows of each account: the JWT its verdicts are made from, and the clock's part. */
export interface VerdictBasis {
  /** The identity (jwtDigest) of the account JWT the directory holds, or null. */
  digest(id: string): string | null;
  /** The instants (unix s) at which time alone changes this import: its token's and accounts' nbf and exp. */
  instants(d: ImportDiagnosis): number[];
  /** The accounts an importer imports from. */
  sources(id: string): Iterable<string>;
  /**
   * The subject the exporter sees (a service import's deprecated `to`, else its subject), as the
   * server installs the import under `key` where it is given (account-scoped functions expanded).
   */
  exporterSubject(d: ImportDiagnosis, key?: string): string;
  /** The local subject a server lists for the import under `key` (serverLocalSubject), null if not known. */
  localSubject(key: string, d: ImportDiagnosis): string | null;
}

export type InfoFetch = (id: string) => Promise<AccountInfoReply[]>;

interface ServerLook {
  /** Times (ms) of the looks in the current run of identical answers, oldest first (bounded). */
  times: number[];
  /** The identity (jwtDigest) of the importer's JWT on this server. */
  importerJwt: string;
  /** Source account → the identity of the JWT this server had applied for it just before (null: not loaded). */
  sourceJwts: ReadonlyMap<string, string | null>;
  imports: ServerImportView[];
  fingerprint: string;
}

export class ServerViews {
  /** importer id → server name → its latest look. */
  private readonly byAccount = new Map<string, Map<string, ServerLook>>();
  /** import key → when its verdict from the JWTs last changed (ms): older looks do not count. */
  private readonly judgedFrom = new Map<string, number>();

  /**
   * Ask every server about each account (its sources first, then the account); an account no
   * server has loaded has no view. `all`: forget every account not asked about.
   *
   * `probe`: ask each account once first (unless the caller knows some server has loaded each).
   * One that no server has loaded has no look, and its sources are then not asked about: a push of
   * an exporter with 100 importers, none of them loaded, asked ~535 questions for nothing
   * (docs/decisions.md 41). One some server has loaded is asked again after its sources; one that
   * imports from nobody has its look from the first answer.
   */
  async refresh(ids: string[], fetch: InfoFetch, basis: VerdictBasis, all = true, probe = true): Promise<void> {
    const fresh = new Map<string, Map<string, ServerLook>>();
    for (let i = 0; i < ids.length; i += CONCURRENCY) {
      const asked = ids.slice(i, i + CONCURRENCY);
      const batch = probe ? await this.probe(asked, fetch, basis, fresh) : asked;
      const sources = [...new Set(batch.flatMap((id) => [...basis.sources(id)]))];
      const sourceJwts = new Map<string, Map<string, string | null>>();
      for (let j = 0; j < sources.length; j += CONCURRENCY) {
        const some = sources.slice(j, j + CONCURRENCY);
        for (const [id, replies] of await Promise.all(
          some.map(async (id) => [id, await fetch(id).catch(() => null)] as const),
        )) {
          if (replies) sourceJwts.set(id, new Map(replies.map((r) => [r.server, digestOrNull(r.jwt)])));
        }
      }
      const at = Date.now();
      const replies = await Promise.all(batch.map(async (id) => [id, await fetch(id).catch(() => [])] as const));
      for (const [id, views] of replies) fresh.set(id, this.looksOf(id, views, basis, sourceJwts, at));
    }
    if (all) this.byAccount.clear();
    for (const [id, looks] of fresh) {
      if (looks.size > 0) this.byAccount.set(id, looks);
      else this.byAccount.delete(id);
    }
  }

  /**
   * Ask each account once: record the look of one that imports from nobody, and no look for one
   * no server has loaded. The rest (loaded, with sources) are returned, to be asked again.
   */
  private async probe(
    ids: string[],
    fetch: InfoFetch,
    basis: VerdictBasis,
    fresh: Map<string, Map<string, ServerLook>>,
  ): Promise<string[]> {
    const at = Date.now();
    const answers = await Promise.all(ids.map((id) => fetch(id).catch(() => [])));
    return ids.filter((id, k) => {
      const replies = answers[k]!;
      const imports = [...basis.sources(id)].length > 0;
      if (imports && replies.some((r) => r.jwt !== null)) return true;
      fresh.set(id, imports ? new Map<string, ServerLook>() : this.looksOf(id, replies, basis, new Map(), at));
      return false;
    });
  }

  /**
   * Looks all taken at one instant `at` (ms), as an audit archive holds them: each account's
   * replies from `servers`. A server missing from an account's replies had not loaded it.
   */
  record(
    replies: ReadonlyMap<string, AccountInfoReply[]>,
    servers: Iterable<string>,
    basis: VerdictBasis,
    at: number,
  ): void {
    const names = [...servers];
    const sourceJwts = new Map(
      [...replies].map(([id, rs]) => [
        id,
        new Map(names.map((s) => [s, digestOrNull(rs.find((r) => r.server === s)?.jwt ?? null)])),
      ]),
    );
    for (const [id, rs] of replies) {
      const looks = this.looksOf(id, rs, basis, sourceJwts, at);
      if (looks.size > 0) this.byAccount.set(id, looks);
    }
  }

  /** These imports' verdicts changed now: what servers said before does not speak to them. */
  judged(keys: Iterable<string>, at = Date.now()): void {
    for (const key of keys) this.judgedFrom.set(key, at);
  }

  /** Forget these imports: no JWT declares them any more. */
  forgetKeys(keys: Iterable<string>): void {
    for (const key of keys) this.judgedFrom.delete(key);
  }

  /** Forget every import no JWT declares any more. */
  prune(stillDeclared: (key: string) => boolean): void {
    for (const key of [...this.judgedFrom.keys()]) if (!stillDeclared(key)) this.judgedFrom.delete(key);
  }

  /** Accounts some server has loaded with other JWTs than the directory's: ask again soon. */
  behind(ids: Iterable<string>, basis: VerdictBasis): string[] {
    return [...ids].filter((id) =>
      [...(this.byAccount.get(id)?.values() ?? [])].some((look) => !sameJwts(look, id, basis)),
    );
  }

  /** When a look at these imports can count again: past the margin of any time instant around now. */
  quietAfter(entries: Iterable<[string, ImportDiagnosis]>, basis: VerdictBasis, now = Date.now()): number {
    let at = now;
    for (const [, d] of entries) {
      for (const t of basis.instants(d))
        if (Math.abs(now - t * 1000) < BOUNDARY_MARGIN_MS) at = Math.max(at, t * 1000 + BOUNDARY_MARGIN_MS);
    }
    return at;
  }

  /** Of these imports, the accounts where a server shows an exposure not yet confirmed by a later look. */
  unconfirmed(entries: Iterable<[string, ImportDiagnosis]>, basis: VerdictBasis): string[] {
    const out = new Set<string>();
    for (const [key, d] of entries) if (this.observe(key, d, basis)?.unconfirmed) out.add(d.account);
    return [...out];
  }

  /** The diagnosis with `server` filled in from the looks that speak to it (none: left as it is). */
  apply(key: string, d: ImportDiagnosis, basis: VerdictBasis): ImportDiagnosis {
    const obs = this.observe(key, d, basis);
    return obs ? applyServerView(d, obs) : d;
  }

  private observe(key: string, d: ImportDiagnosis, basis: VerdictBasis) {
    const looks = this.byAccount.get(d.account);
    if (!looks || importedByTheServer(d)) return null;
    const from = this.judgedFrom.get(key) ?? 0;
    const instants = basis.instants(d).map((t) => t * 1000);
    const nearInstant = (t: number) => instants.some((i) => Math.abs(t - i) < BOUNDARY_MARGIN_MS);
    const usable = [...looks.values()].filter(
      (l) => last(l) >= from && !nearInstant(last(l)) && sameJwts(l, d.account, basis, d.source_account),
    );
    if (usable.length === 0) return null;
    // Servers since 2.9.17 report the exporter-side subject; older ones a service's local subject.
    const wanted = new Set([
      d.type === "service" && d.local_subject ? d.local_subject : d.subject,
      basis.exporterSubject(d, key),
    ]);
    let local: string | null | undefined;
    // A server that names the local subject must name this import's: another import of the same
    // subject from the same account (a stream under another prefix) is not this one.
    const here = (i: ServerImportView) =>
      i.local === null || (local ??= basis.localSubject(key, d)) === null || untokenized(i.local) === local;
    const matching = (l: ServerLook) =>
      l.imports.filter((i) => i.account === d.source_account && i.type === d.type && wanted.has(i.subject) && here(i));
    const honours = (l: ServerLook) => matching(l).some((i) => !i.invalid);
    const exposing = d.status === "inactive" ? usable.filter(honours) : [];
    const confirmed = exposing.filter((l) => last(l) - (l.times.find((t) => t >= from) ?? Infinity) >= CONFIRM_MS);
    return {
      servers: usable.length,
      registered: usable.filter((l) => matching(l).length > 0).length,
      honouring: usable.filter(honours).length,
      exposing: confirmed.length,
      unconfirmed: confirmed.length < exposing.length,
    };
  }

  private looksOf(
    id: string,
    replies: AccountInfoReply[],
    basis: VerdictBasis,
    sourceJwts: Map<string, Map<string, string | null>>,
    at: number,
  ): Map<string, ServerLook> {
    const previous = this.byAccount.get(id);
    const looks = new Map<string, ServerLook>();
    for (const r of replies) {
      if (r.jwt === null) continue;
      // A source whose answer from this server is missing stays unknown: the look cannot be judged on it.
      const sources = new Map(
        [...basis.sources(id)].flatMap((s) =>
          sourceJwts.get(s)?.has(r.server) ? [[s, sourceJwts.get(s)!.get(r.server)!] as const] : [],
        ),
      );
      const imports = [...r.imports].sort((a, b) =>
        a.account + a.type + a.subject < b.account + b.type + b.subject ? -1 : 1,
      );
      const importerJwt = jwtDigest(r.jwt);
      const fingerprint = JSON.stringify([importerJwt, [...sources].sort(), imports]);
      const before = previous?.get(r.server);
      const times = before && before.fingerprint === fingerprint ? [...before.times, at].slice(-TIMES_KEPT) : [at];
      looks.set(r.server, { times, importerJwt, sourceJwts: sources, imports, fingerprint });
    }
    return looks;
  }
}

/** The basis of verdicts made from a directory alone (no pushes pending): its JWTs and their instants. */
export function directoryBasis(dir: AccountDirectory): VerdictBasis {
  const claims = (id: string) => dir.get(id)?.claims;
  /** The import declared under `key`, as the servers install it (itself where nothing is expanded). */
  const installedAt = (key: string, d: ImportDiagnosis): ImportClaim | null => {
    const entry = dir.get(d.account);
    const base = key.replace(/#\d+$/, "");
    const declared = entry?.claims?.imports.find((i) => importKey(d.account, i) === base);
    if (!entry || !declared) return null;
    const installed = installedImport(entry, declared);
    return typeof installed === "string" ? declared : installed;
  };
  return {
    digest: (id) => dir.get(id)?.digest ?? null,
    instants: (d) => {
      const times = [d.token?.not_before, d.token?.expires_at].map((t) => (t ? Date.parse(t) / 1000 : 0));
      for (const c of [claims(d.account), claims(d.source_account)]) if (c) times.push(c.notBefore, c.expires);
      return times.filter((t) => t > 0);
    },
    sources: (id) => new Set((claims(id)?.imports ?? []).map((i) => i.account)),
    exporterSubject: (d, key) => {
      const installed = key === undefined ? null : installedAt(key, d);
      if (installed) return exporterSubject(installed);
      if (d.type !== "service" || d.local_subject !== null) return d.subject;
      const declared = claims(d.account)?.imports?.find(
        (i) =>
          i.type === "service" && i.account === d.source_account && i.subject === d.subject && i.localSubject === null,
      );
      return declared ? exporterSubject(declared) : d.subject;
    },
    localSubject: (key, d) => {
      const installed = installedAt(key, d);
      return installed ? serverLocalSubject(installed) : null;
    },
  };
}

/**
 * The local subject nats-server lists for an import (INFO's `local_subject`): a stream's
 * `local_subject`, or its prefix `to` joined to the subject, or the subject; a service's
 * `local_subject` or subject. Wildcard references (`$1`, `{{wildcard(1)}}`) read as `*`, as the
 * server keeps them (transformUntokenize).
 */
function serverLocalSubject(imp: ImportClaim): string {
  if (imp.localSubject) return untokenized(imp.localSubject);
  if (imp.type === "stream" && imp.to)
    return untokenized(`${imp.to.endsWith(".") ? imp.to : `${imp.to}.`}${imp.subject}`);
  return untokenized(imp.subject);
}

const WILDCARD_REFERENCE = /^(\$[1-9]\d*|\{\{\s*[wW]ildcard\s*\(\s*\d+\s*\)\s*\}\})$/;

function untokenized(subject: string): string {
  return subject
    .split(".")
    .map((t) => (WILDCARD_REFERENCE.test(t) ? "*" : t))
    .join(".");
}

function last(l: ServerLook): number {
  return l.times[l.times.length - 1]!;
}

/**
 * Was the look made from the JWTs the directory holds? The importer's must be the same; a source's
 * too, unless the server has not loaded the source at all (then it failed to find it when it loaded
 * the importer, and nats-server never tries again: that view is current).
 */
function sameJwts(l: ServerLook, id: string, basis: VerdictBasis, source?: string): boolean {
  if (l.importerJwt !== basis.digest(id)) return false;
  const sources = source === undefined ? [...l.sourceJwts.keys()] : [source];
  return sources.every((s) => {
    if (!l.sourceJwts.has(s)) return false;
    const jwt = l.sourceJwts.get(s)!;
    return jwt === null || jwt === basis.digest(s);
  });
}

/**
 * An active service import of a subject the server imports into every account itself: the servers
 * list their own import, not the declared one, and the subject works either way.
 */
function importedByTheServer(d: ImportDiagnosis): boolean {
  return d.status === "active" && d.type === "service" && SYSTEM_IMPORT_SUBJECTS.has(d.local_subject ?? d.subject);
}

/** Looks keep JWTs by identity, not text: the directory keeps no text to compare them with. */
function digestOrNull(jwt: string | null): string | null {
  return jwt === null ? null : jwtDigest(jwt);
}
