/**
 * The state the live service keeps: the directory, the current diagnosis of every import, pushes
 * the server rejected, and the next instant at which time alone changes a verdict. Still pure: the
 * caller passes the clock in and acts on what comes back (events to publish, when to wake up).
 */
import { diagnose } from "./report.js";
import { sameVerdict, type ImportDiagnosis } from "./diagnosis.js";
import { AccountDirectory, AccountRejected, OperatorTrust, standInEntry, type ServersJudged } from "./directory.js";
import { evaluateImport, type EvaluationOptions } from "./evaluate.js";
import { TimeBoundaries } from "./boundaries.js";
import { importKey, keyedImports } from "./import-key.js";
import type { AccountClaims, ImportClaim } from "./jwt/claims.js";
import { activationOf, sameToken } from "./jwt/claims.js";
import { deferSignatureChecks, forgetDecoded, jwtDigest, type StartAheadVerifier } from "./jwt/decode.js";

/** A change of an import's (status, cause), or its first appearance. */
export interface ImportChange {
  key: string;
  diagnosis: ImportDiagnosis;
  previous: ImportDiagnosis | null;
}

export interface RejectedPush {
  claims: AccountClaims;
  reason: string;
}

/**
 * A first load that consumed its JWTs (replaceAll's `consume`) found a forged signature among its
 * deferred checks after it had filed them: it forgot everything it filed; read the JWTs again and
 * load them (that load verifies each signature as it goes).
 */
export class UnconfirmedLoad extends Error {
  constructor() {
    super("a signature the first load deferred did not hold; the JWTs must be read and loaded again");
  }
}

/** Removed keys kept for takeRemovedKeys() before it gives up and says "compare everything". */
export const MAX_REMOVED_KEYS = 100_000;

export class ImportMonitor {
  readonly directory: AccountDirectory;
  private readonly current = new Map<string, ImportDiagnosis>();
  /** account id → the keys of its imports currently diagnosed. */
  private readonly keysByAccount = new Map<string, string[]>();
  private readonly rejected = new Map<string, RejectedPush>();
  /** account id → the next instant (unix s) at which one of its verdicts may change by time alone. */
  private readonly boundaries = new TimeBoundaries();
  private evaluations = 0;
  /** A first load consumed its JWTs and one of its deferred signature checks failed: the next load verifies as it goes. */
  private deferralFailed = false;
  /** Accounts touched by JWTs staged ahead of the first load (stage()), for it to evaluate. */
  private staged = new Set<string>();
  /** Keys of imports no JWT declares any more, since the last takeRemovedKeys(); null once too many piled up. */
  private removed: Set<string> | null = new Set();

  /**
   * `startVerifier`: how a large load may verify signatures ahead on other threads (the shell's
   * ParallelVerifier.start); without it, this thread verifies everything.
   */
  constructor(
    trust: OperatorTrust,
    private readonly expiryWarningSeconds: number,
    private readonly startVerifier: StartAheadVerifier = () => null,
  ) {
    this.directory = new AccountDirectory(trust);
  }

  /** Every current diagnosis, in a stable order. */
  diagnoses(): ImportDiagnosis[] {
    return [...this.current.values()];
  }

  has(key: string): boolean {
    return this.current.has(key);
  }

  /** The current diagnoses of these accounts (or of all), with their keys. */
  keyed(accountIds?: Iterable<string>): [string, ImportDiagnosis][] {
    if (!accountIds) return [...this.current];
    return [...new Set(accountIds)].flatMap((id) =>
      (this.keysByAccount.get(id) ?? []).map((k) => [k, this.current.get(k)!] as [string, ImportDiagnosis]),
    );
  }

  diagnosisCount(): number {
    return this.current.size;
  }

  /**
   * The keys of imports that disappeared (their account's JWT no longer declares them, or the
   * account is gone) since the last call: what a caller keeping per-import state should forget,
   * without scanning everything it keeps. Null when more than MAX_REMOVED_KEYS piled up untaken:
   * then compare everything with has().
   */
  takeRemovedKeys(): string[] | null {
    const keys = this.removed ? [...this.removed] : null;
    this.removed = new Set();
    return keys;
  }

  /** How many import evaluations the monitor has made so far (a work counter, for metrics and benchmarks). */
  get importsEvaluated(): number {
    return this.evaluations;
  }

  /**
   * Replace the whole set of account JWTs (an epoch resync); returns what changed. An account the
   * set lacks whose JWT has expired stays: the full resolver's store deletes a JWT within a minute
   * of its `exp` (its expiry sweep), after which no request finds it, yet the account is still
   * declared, and still broken, until a push or a delete says otherwise.
   */
  replaceAll(jwts: ReadonlyMap<string, string>, now: number): ImportChange[];
  /**
   * `consume`: the load takes the JWTs out of `jwts` as it files them, so that each text is garbage
   * once decoded (at 100,000 accounts the texts are ~330 MB, the load's largest live part). A first
   * load that deferred its signature checks then cannot be redone from them: if one failed, it
   * forgets everything and throws UnconfirmedLoad, and the next load (read the JWTs again) verifies
   * as it goes.
   */
  replaceAll(jwts: Map<string, string>, now: number, opts: { consume: true }): ImportChange[];
  replaceAll(jwts: ReadonlyMap<string, string>, now: number, opts?: { consume: true }): ImportChange[] {
    // A first load (nothing held yet but the JWTs staged for it) can be redone from nothing: it may defer its signature checks.
    const first =
      !this.deferralFailed && this.current.size === 0 && (this.directory.size === 0 || this.staged.size > 0);
    const staged = this.staged;
    this.staged = new Set();
    return this.load(jwts, now, first, staged, opts?.consume === true ? (jwts as Map<string, string>) : null);
  }

  /**
   * replaceAll's work. With `deferrable`, the verifier may take the signature checks to another
   * core: the load then decodes as if every signature held and evaluates meanwhile, and is believed
   * only once every check is confirmed. If one failed, everything it filed is forgotten and the load
   * is done again, verifying as usual: a forged signature is never believed. `staged`: accounts the
   * JWTs staged ahead of it touched (they were verified as they were filed).
   */
  private load(
    jwts: ReadonlyMap<string, string>,
    now: number,
    deferrable: boolean,
    staged = new Set<string>(),
    consumed: Map<string, string> | null = null,
  ): ImportChange[] {
    const touched = staged;
    for (const entry of this.directory.accounts()) {
      const expired = entry.claims && entry.claims.expires > 0 && entry.claims.expires <= now;
      if (!jwts.has(entry.id) && !expired) for (const id of this.directory.remove(entry.id)) touched.add(id);
    }
    const ids: string[] = [];
    const texts: string[] = [];
    for (const [id, text] of jwts) {
      const jwt = text.trim();
      if (this.holds(id, jwt)) continue;
      ids.push(id);
      texts.push(jwt);
    }
    // From here the load's own list holds the texts, and lets go of each once it is filed.
    consumed?.clear();
    // A large load (the first one) may verify signatures on the other cores too.
    const verifier = this.startVerifier(texts, deferrable);
    const deferred = deferrable ? (verifier?.deferred ?? null) : null;
    const removedBefore = deferred && this.removed ? new Set(this.removed) : null;
    let confirmed = deferred === null;
    try {
      deferSignatureChecks(deferred?.check ?? null);
      for (let i = 0; i < texts.length; i++) {
        verifier?.settle(i);
        for (const a of this.upsertSafely(texts[i]!, ids[i]!)) touched.add(a);
        texts[i] = "";
      }
      const changes = this.reevaluate(touched, now);
      deferSignatureChecks(null);
      confirmed ||= deferred!.allHeld();
      if (confirmed) return changes;
    } finally {
      deferSignatureChecks(null);
      verifier?.stop();
      if (!confirmed) {
        forgetDecoded();
        this.forgetEverything();
        if (removedBefore) this.removed = removedBefore;
      }
    }
    if (consumed) {
      this.deferralFailed = true;
      throw new UnconfirmedLoad();
    }
    return this.load(jwts, now, false);
  }

  /** Back to an empty monitor (a first load that must be redone), rejected pushes apart. */
  private forgetEverything(): void {
    for (const entry of this.directory.accounts()) this.directory.remove(entry.id);
    this.current.clear();
    this.keysByAccount.clear();
    this.boundaries.clear();
  }

  /**
   * Decode and file one account JWT ahead of the first load (while the resolver's pack streams in),
   * without evaluating anything: the replaceAll that follows evaluates it with the rest (and, like
   * any JWT, replaces or removes it if the load brings another or none). Only before the first
   * load: nothing reads the directory then, and no verdict is built on a half-filed one.
   */
  stage(id: string, jwt: string): void {
    for (const a of this.upsertSafely(jwt.trim(), id)) this.staged.add(a);
  }

  /** Is this JWT the one the directory holds for `id`? (It keeps a digest, not the text.) */
  holds(id: string, jwt: string): boolean {
    const entry = this.directory.get(id);
    return entry !== undefined && entry.digest === jwtDigest(jwt.trim());
  }

  /**
   * The operators the servers trust now, and what the servers are (their rules, the JetStream API).
   * Null when nothing changed; else every account is checked again (an account signed by a key no
   * operator has any more no longer loads; another server line validates differently) and every
   * import re-evaluated: the changes come back.
   */
  retrust(operatorJwts: string[], now: number, servers: ServersJudged = this.directory.trust): ImportChange[] | null {
    const next = new OperatorTrust();
    for (const jwt of operatorJwts) next.addOperator(jwt);
    next.judgeFor(servers);
    if (this.directory.trust.sameAs(next)) return null;
    this.directory.trust.replaceWith(next);
    this.directory.recheckTrust();
    return this.reevaluate(
      this.directory.accounts().map((e) => e.id),
      now,
    );
  }

  /** A JWT the server confirmed it stores for `id` (or null: it has none). */
  applyAccount(id: string, jwt: string | null, now: number): ImportChange[] {
    // A confirmed JWT is the latest word on the account: an earlier rejected push no longer counts.
    const hadRejected = this.rejected.delete(id);
    if (jwt !== null && this.holds(id, jwt)) return hadRejected ? this.reevaluate([id], now) : [];
    const affected = jwt === null ? this.directory.remove(id) : this.upsertSafely(jwt, id);
    // Only this account's JWT changed: its importers' other imports cannot change verdict.
    return this.reevaluate(affected, now, id);
  }

  /** The server did not store a pushed (verified) JWT: its imports are reported `push_rejected`. */
  recordRejectedPush(claims: AccountClaims, reason: string, now: number): ImportChange[] {
    this.rejected.set(claims.subject, { claims, reason });
    return this.reevaluate([claims.subject], now);
  }

  /** The earliest instant after `now` at which time alone may change a verdict, or null. */
  nextBoundary(): number | null {
    return this.boundaries.next();
  }

  /** Re-evaluate every account whose time boundary has come. */
  tick(now: number): ImportChange[] {
    return this.reevaluate(this.boundaries.due(now), now);
  }

  /**
   * Re-evaluate the given accounts' imports; returns the changes of (status, cause). With
   * `changedSource` (the one account whose JWT changed), the other accounts re-evaluate only their
   * imports from it: the work is proportional to the imports the change can affect.
   */
  reevaluate(ids: Iterable<string>, now: number, changedSource?: string): ImportChange[] {
    const opts: EvaluationOptions = { now, expiryWarningSeconds: this.expiryWarningSeconds };
    const changes: ImportChange[] = [];
    for (const id of new Set(ids)) {
      if (changedSource !== undefined && id !== changedSource && this.reevaluateFrom(id, changedSource, opts, changes))
        continue;
      const fresh = this.diagnoseAccount(id, opts);
      const freshKeys = new Set(fresh.keys());
      for (const old of this.keysByAccount.get(id) ?? []) {
        if (freshKeys.has(old)) continue;
        this.current.delete(old);
        if (this.removed && this.removed.add(old).size > MAX_REMOVED_KEYS) this.removed = null;
      }
      for (const [key, diagnosis] of fresh) {
        this.removed?.delete(key);
        const previous = this.current.get(key) ?? null;
        this.current.set(key, diagnosis);
        if (!sameVerdict(previous, diagnosis)) {
          changes.push({ key, diagnosis, previous });
        }
      }
      if (fresh.size > 0) this.keysByAccount.set(id, [...freshKeys]);
      else this.keysByAccount.delete(id);
      this.updateBoundary(id, now);
    }
    return changes;
  }

  /**
   * Re-evaluate only the imports `id` declares from `source`, the account `id` itself unchanged.
   * Its keys are then those of its last evaluation, in import order. False when that does not hold
   * (a rejected push's imports are mixed in, or the account was never evaluated): evaluate it all.
   */
  private reevaluateFrom(id: string, source: string, opts: EvaluationOptions, changes: ImportChange[]): boolean {
    const entry = this.directory.get(id);
    const imports = entry?.claims?.imports;
    const keys = this.keysByAccount.get(id);
    if (!entry || !imports || !keys || keys.length !== imports.length || this.rejected.has(id)) return false;
    for (let j = 0; j < imports.length; j++) {
      const imp = imports[j]!;
      if (imp.account !== source) continue;
      const key = keys[j]!;
      this.evaluations++;
      const diagnosis = diagnose(this.directory, evaluateImport(this.directory, entry, imp, opts), opts.now);
      const previous = this.current.get(key) ?? null;
      this.current.set(key, diagnosis);
      if (!sameVerdict(previous, diagnosis)) changes.push({ key, diagnosis, previous });
    }
    // The source's validity window is part of this account's next time boundary.
    this.updateBoundary(id, opts.now);
    return true;
  }

  private diagnoseAccount(id: string, opts: EvaluationOptions): Map<string, ImportDiagnosis> {
    const out = new Map<string, ImportDiagnosis>();
    const entry = this.directory.get(id);
    for (const [key, imp] of keyedImports(id, entry?.claims?.imports ?? [])) {
      this.evaluations++;
      out.set(key, diagnose(this.directory, evaluateImport(this.directory, entry!, imp, opts), opts.now));
    }
    const rejected = this.rejected.get(id);
    if (!rejected) return out;
    // Keyed again only for an account with a rejected push (one import key is a ~160-character join).
    const storedImports = new Map((entry?.claims?.imports ?? []).map((imp) => [importKey(id, imp), imp]));
    for (const imp of rejected.claims.imports) {
      const key = importKey(id, imp);
      const stored = out.get(key);
      if (!stored) {
        out.set(key, this.pushRejectedDiagnosis(rejected, imp, opts.now));
      } else if (!sameDeclaration(storedImports.get(key)!, imp)) {
        // The server serves the stored version: its verdict stands, with a word on the lost change.
        const note = ` A changed version of this import was pushed, but the server rejected that JWT (${rejected.reason}).`;
        out.set(key, { ...stored, message: stored.message + note });
      }
    }
    return out;
  }

  /** An import only the rejected JWT declares: it never became active. */
  private pushRejectedDiagnosis(rejected: RejectedPush, imp: ImportClaim, now: number): ImportDiagnosis {
    const activation = activationOf(imp);
    const importer = standInEntry(rejected.claims);
    const finding = {
      importer,
      imp,
      cause: "push_rejected" as const,
      detail: rejected.reason,
      exportClaim: null,
      activation,
    };
    return diagnose(this.directory, finding, now);
  }

  private upsertSafely(jwt: string, id: string): Set<string> {
    try {
      return this.directory.upsert(jwt, id).affected;
    } catch (e) {
      // Not even attributable to the key it was filed under: treat as absent.
      if (e instanceof AccountRejected) return this.directory.remove(id);
      throw e;
    }
  }

  private updateBoundary(id: string, now: number): void {
    const entry = this.directory.get(id);
    const times: number[] = [];
    const addWindow = (c: { expires: number; notBefore: number } | null | undefined) => {
      if (!c) return;
      times.push(c.notBefore, c.expires);
    };
    addWindow(entry?.claims);
    for (const imp of entry?.claims?.imports ?? []) {
      addWindow(this.directory.get(imp.account)?.claims);
      const act = activationOf(imp);
      if (act) {
        addWindow(act);
        if (act.expires > 0) times.push(act.expires - this.expiryWarningSeconds);
      }
    }
    const next = times.filter((t) => t > now).reduce<number | null>((m, t) => (m === null || t < m ? t : m), null);
    this.boundaries.set(id, next);
  }
}

function sameDeclaration(a: ImportClaim, b: ImportClaim): boolean {
  return sameToken(a, b) && a.name === b.name && a.share === b.share && a.allowTrace === b.allowTrace;
}
