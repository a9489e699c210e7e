/**
 * The account directory: every account JWT known, checked the way nats-server checks it before it
 * loads an account (decodes, signature, issuer trusted by the operator, non-time validation), with
 * exports indexed for matching and a reverse index exporter → importers, so that a change to one
 * account re-evaluates only the imports it can affect.
 */
import {
  exportTypeOf,
  parseAccount,
  parseOperator,
  type AccountClaims,
  type ExportClaim,
  type ImportClaim,
  type MappingClaim,
  type OperatorClaims,
} from "./jwt/claims.js";
import { isPublicKey } from "./jwt/nkey.js";
import { jwtDigest, peekClaims } from "./jwt/decode.js";
import {
  CURRENT_RULES,
  oldestVersion,
  rulesFor,
  validateOnLines,
  type AccountValidation,
  type ServerRules,
} from "./validate.js";
import { withSystemExports } from "./system-account.js";
import { installedClaims, type Installed } from "./account-hash.js";

/** Why nats-server would refuse to load an account JWT, time apart. */
export interface AccountProblem {
  kind: "undecodable" | "untrusted_issuer" | "wrong_account" | "invalid";
  message: string;
}

export interface AccountEntry {
  id: string;
  name: string | null;
  /** The JWT's identity (jwtDigest): the text is not kept (a few KB an account, the largest part of a large load). */
  digest: string;
  /** Null when the JWT does not decode. */
  claims: AccountClaims | null;
  validation: AccountValidation | null;
  problem: AccountProblem | null;
  /** The operator demands signing keys: the account's own key no longer counts as one. */
  strictSigningKeys: boolean;
  /**
   * What the servers install where it differs from the claims (account-scoped functions expanded:
   * account-hash.ts); absent or null when it does not. Read through installedImports and the like.
   */
  installed?: Installed | null;
}

/** The account's imports as the servers install them (the claims' own where nothing is expanded). */
export function installedImports(entry: AccountEntry): readonly ImportClaim[] {
  return entry.installed?.imports ?? entry.claims?.imports ?? [];
}

/** The account's mappings as the servers install them. */
export function installedMappings(entry: AccountEntry | undefined): readonly MappingClaim[] {
  return entry?.installed?.mappings ?? entry?.claims?.mappings ?? [];
}

/**
 * The import the servers install for a declared one: itself, its expanded copy, or a string saying
 * why the server leaves it out (a function it cannot expand).
 */
export function installedImport(entry: AccountEntry, imp: ImportClaim): ImportClaim | string {
  const installed = entry.installed;
  if (!installed || entry.claims?.imports[imp.index] !== imp) return imp;
  return installed.skipped.get(imp.index) ?? installed.imports.find((i) => i.index === imp.index) ?? imp;
}

/**
 * An entry for an account JWT that is not filed in any directory (a push the server rejected, a
 * proposed JWT in a what-if): enough to name the importer in diagnoses, never looked up.
 */
export function standInEntry(claims: AccountClaims): AccountEntry {
  return {
    id: claims.subject,
    name: claims.name || null,
    digest: claims.digest,
    claims,
    validation: null,
    problem: null,
    strictSigningKeys: false,
  };
}

export interface ExportIndex {
  /** Exports by type and exact subject. */
  exact: Map<string, ExportClaim>;
  all: ExportClaim[];
}

const NO_EXPORTS: Map<string, ExportClaim> = new Map();
const exportKey = (type: string, subject: string) => `${exportTypeOf(type)} ${subject}`;

/** An account JWT that cannot even be filed under an account (it does not decode, and no key names it). */
export class AccountRejected extends Error {}

/** The keys that may sign account JWTs: the operators' identities and their signing keys. */
/** What the servers are, as far as the JWTs' verdicts depend on it. */
export interface ServersJudged {
  /** The validation rules of their line: the oldest one's where they run several. */
  rules: ServerRules;
  /**
   * The rules of the other lines they run (a rolling upgrade), each different from `rules`: every
   * line judges, and an import one of them breaks is broken on its servers (the oldest line is not
   * always the strictest: a mapping function only newer lines build).
   */
  otherLines: readonly ServerRules[];
  /** They run JetStream or a cluster, so the system account exports `$JS.API.>`. */
  jetStreamApi: boolean;
}

/** Servers reporting these versions (none: the newest line) and that JetStream fact. */
export function serversJudged(versions: readonly string[], jetStreamApi: boolean): ServersJudged {
  const rules = rulesFor(oldestVersion(versions));
  return { rules, otherLines: distinctRules(versions.map(rulesFor), rules), jetStreamApi };
}

/** Each rule set once, none the same as `except`. */
export function distinctRules(all: readonly ServerRules[], except: ServerRules): ServerRules[] {
  const seen = new Set([JSON.stringify(except)]);
  return all.filter((r) => {
    const key = JSON.stringify(r);
    return !seen.has(key) && seen.add(key) !== null;
  });
}

export class OperatorTrust {
  readonly operators: OperatorClaims[] = [];
  private readonly keys = new Set<string>();

  /** Add an operator JWT; throws with a one-line reason when it is not a valid operator JWT. */
  addOperator(token: string): OperatorClaims {
    const parsed = parseOperator(token.trim());
    if (!parsed.ok) throw new Error(`operator JWT rejected: ${parsed.error}`);
    const op = parsed.claims;
    if (op.issuer !== op.subject) throw new Error("operator JWT rejected: it is not self-signed");
    this.operators.push(op);
    // Like nats-server (server/jwt.go): a strict operator's own key signs no account, only its signing keys do.
    if (!op.strictSigningKeyUsage) this.keys.add(op.subject);
    for (const k of op.signingKeys) this.keys.add(k);
    return op;
  }

  /** The validation rules of the servers the JWTs are judged for (see `rulesFor`): the newest by default. */
  rules: ServerRules = CURRENT_RULES;

  /** The rules of the other lines the servers run, judged too (ServersJudged.otherLines). */
  otherLines: readonly ServerRules[] = [];

  /** What the servers are, from now on (set before JWTs are added, or recheck them). */
  judgeFor(servers: ServersJudged): void {
    this.rules = servers.rules;
    this.otherLines = servers.otherLines;
    this.jetStreamApi = servers.jetStreamApi;
  }

  /** Every line's rules: `rules`, then `otherLines`. */
  get lines(): readonly ServerRules[] {
    return this.otherLines.length === 0 ? [this.rules] : [this.rules, ...this.otherLines];
  }

  /** The account validated as every line the servers run validates it (validateOnLines). */
  validate(claims: AccountClaims): AccountValidation {
    return validateOnLines(claims, this.lines);
  }

  /**
   * The servers run JetStream or are clustered, so the system account also exports `$JS.API.>`
   * (system-account.ts). Set before JWTs are added to a directory.
   */
  jetStreamApi = false;

  trusts(issuer: string): boolean {
    return this.keys.has(issuer);
  }

  /** Do both trust the same operator JWTs (byte for byte, in any order), for servers of the same rules? */
  sameAs(other: OperatorTrust): boolean {
    const tokens = (t: OperatorTrust) =>
      t.operators
        .map((o) => o.token)
        .sort()
        .join("\n");
    return (
      tokens(this) === tokens(other) &&
      this.jetStreamApi === other.jetStreamApi &&
      JSON.stringify(this.lines) === JSON.stringify(other.lines)
    );
  }

  /**
   * Trust exactly what `other` trusts from now on, for its servers: an operator changed, or the
   * servers did (a restart with another operator, another version, JetStream switched on).
   */
  replaceWith(other: OperatorTrust): void {
    this.operators.splice(0, this.operators.length, ...other.operators);
    this.keys.clear();
    for (const k of other.keys) this.keys.add(k);
    this.judgeFor(other);
  }

  /** Does the operator that owns this issuer key demand strict signing-key usage? */
  strictFor(issuer: string): boolean {
    return this.operators.some(
      (o) => o.strictSigningKeyUsage && (o.subject === issuer || o.signingKeys.includes(issuer)),
    );
  }

  get systemAccount(): string | null {
    return this.operators.find((o) => o.systemAccount)?.systemAccount ?? null;
  }
}

export class AccountDirectory {
  private readonly entries = new Map<string, AccountEntry>();
  private readonly exportIndexes = new Map<string, ExportIndex>();
  /** exporter id → ids of the accounts whose JWTs declare an import from it. */
  private readonly importers = new Map<string, Set<string>>();
  /** The ids in order, kept until an account is added or removed (accounts() is called per request). */
  private sortedIds: string[] | null = null;

  constructor(readonly trust: OperatorTrust) {}

  /**
   * Add or replace an account JWT. `filedUnder` is the id the source filed it under (resolver key,
   * file name); when given it must match the JWT's subject. Returns the entry and the ids of all
   * accounts whose import diagnoses may change. Throws AccountRejected for a JWT that cannot be
   * filed under any account.
   */
  upsert(token: string, filedUnder?: string): { entry: AccountEntry; affected: Set<string> } {
    const entry = this.check(token.trim(), filedUnder);
    const previous = this.entries.get(entry.id);
    if (previous) this.unindex(previous);
    else this.sortedIds = null;
    this.entries.set(entry.id, entry);
    this.index(entry);
    return { entry, affected: this.affectedBy(entry.id) };
  }

  /**
   * A copy to try changes on (what-if): upserts, removals and amendments to the copy leave this
   * directory as it is. Entries and export indexes are shared, since nothing edits them in place;
   * only the reverse index, whose sets are edited, is copied.
   */
  clone(): AccountDirectory {
    const copy = new AccountDirectory(this.trust);
    for (const [id, entry] of this.entries) copy.entries.set(id, entry);
    for (const [id, index] of this.exportIndexes) copy.exportIndexes.set(id, index);
    for (const [id, set] of this.importers) copy.importers.set(id, new Set(set));
    return copy;
  }

  /**
   * What-if only: file an edited copy of an account's claims (say, without one signing key) as if
   * the edit had been signed and pushed, without a JWT for it; the entry keeps the old JWT's digest,
   * so use this on a `clone()`. Returns the ids whose diagnoses may change.
   */
  amendClaims(id: string, edit: (claims: AccountClaims) => AccountClaims): Set<string> {
    const previous = this.entries.get(id);
    if (!previous?.claims) throw new Error(`no decodable account ${id} to amend`);
    const claims = edit(previous.claims);
    const entry: AccountEntry = {
      ...previous,
      claims,
      validation: this.trust.validate(claims),
      installed: this.installedOf(claims),
    };
    entry.problem = this.problemOf(entry);
    this.unindex(previous);
    this.entries.set(id, entry);
    this.index(entry);
    return this.affectedBy(id);
  }

  /**
   * Check every account again against the operators trusted now (they changed), from the claims the
   * directory holds: the decoding and signatures do not depend on the operators.
   */
  recheckTrust(): void {
    for (const previous of [...this.entries.values()]) {
      if (!previous.claims) continue;
      const entry: AccountEntry = {
        ...previous,
        validation: this.trust.validate(previous.claims),
        installed: this.installedOf(previous.claims),
        strictSigningKeys: this.trust.strictFor(previous.claims.issuer),
      };
      // Which id the source filed the JWT under is not kept: a misfiled JWT stays misfiled.
      entry.problem = previous.problem?.kind === "wrong_account" ? previous.problem : this.problemOf(entry);
      this.unindex(previous);
      this.entries.set(entry.id, entry);
      this.index(entry);
    }
  }

  /** Forget an account; returns the ids whose diagnoses may change. */
  remove(id: string): Set<string> {
    const previous = this.entries.get(id);
    if (previous) {
      this.unindex(previous);
      this.entries.delete(id);
      this.sortedIds = null;
    }
    return this.affectedBy(id);
  }

  get(id: string): AccountEntry | undefined {
    return this.entries.get(id);
  }

  /** Accounts in a stable order (by id). */
  accounts(): AccountEntry[] {
    this.sortedIds ??= [...this.entries.keys()].sort();
    return this.sortedIds.map((id) => this.entries.get(id)!);
  }

  get size(): number {
    return this.entries.size;
  }

  /** An account by public key or, failing that, by exact JWT name. */
  resolve(keyOrName: string): AccountEntry | undefined {
    return this.entries.get(keyOrName) ?? [...this.entries.values()].find((e) => e.name === keyOrName);
  }

  exportsOf(id: string): ExportIndex | undefined {
    return this.exportIndexes.get(id);
  }

  importersOf(id: string): ReadonlySet<string> {
    return this.importers.get(id) ?? new Set();
  }

  /** The account itself and every account importing from it. */
  affectedBy(id: string): Set<string> {
    return new Set([id, ...this.importersOf(id)]);
  }

  nameOf(id: string): string | null {
    return this.entries.get(id)?.name ?? null;
  }

  private check(token: string, filedUnder?: string): AccountEntry {
    const parsed = parseAccount(token);
    if (!parsed.ok) {
      const id = filedUnder ?? "";
      if (!isPublicKey(id, "account")) throw new AccountRejected(`account JWT rejected: ${parsed.error}`);
      const problem: AccountProblem = { kind: "undecodable", message: parsed.error };
      const digest = jwtDigest(token);
      return { id, name: null, digest, claims: null, validation: null, problem, strictSigningKeys: false };
    }
    const claims = parsed.claims;
    const id = claims.subject;
    if (!isPublicKey(id, "account"))
      throw new AccountRejected(`account JWT rejected: its subject "${id}" is not an account public key`);
    const entry: AccountEntry = {
      id,
      name: claims.name || null,
      digest: claims.digest,
      claims,
      validation: this.trust.validate(claims),
      problem: null,
      strictSigningKeys: this.trust.strictFor(claims.issuer),
      installed: this.installedOf(claims),
    };
    entry.problem = this.problemOf(entry, filedUnder);
    return entry;
  }

  /** Null (nothing differs) unless the servers' line expands the account-scoped functions. */
  private installedOf(claims: AccountClaims): Installed | null {
    return this.trust.rules.expandsAccountHash ? installedClaims(claims) : null;
  }

  private problemOf(entry: AccountEntry, filedUnder?: string): AccountProblem | null {
    const claims = entry.claims!;
    if (filedUnder !== undefined && filedUnder !== entry.id) {
      return { kind: "wrong_account", message: `the JWT filed under ${filedUnder} is for account ${entry.id}` };
    }
    if (!this.trust.trusts(claims.issuer)) {
      return {
        kind: "untrusted_issuer",
        message: `it is signed by ${claims.issuer}, which is neither a trusted operator nor one of its signing keys`,
      };
    }
    const v = entry.validation!;
    const first = v.other[0] ?? [...v.imports.values()][0]?.[0]?.message;
    return first === undefined ? null : { kind: "invalid", message: first };
  }

  private index(entry: AccountEntry): void {
    const claims = entry.claims;
    if (!claims) return;
    // The server gives the system account exports its JWT need not declare.
    const declared = entry.installed?.exports ?? claims.exports;
    const exports =
      entry.id === this.trust.systemAccount ? withSystemExports(declared, this.trust.jetStreamApi) : declared;
    // Most accounts export nothing: they share one empty index (nothing edits an index in place).
    const exact = exports.length === 0 ? NO_EXPORTS : new Map<string, ExportClaim>();
    for (const e of exports) exact.set(exportKey(e.type, e.subject), e);
    this.exportIndexes.set(entry.id, { exact, all: exports });
    for (const imp of claims.imports) {
      let set = this.importers.get(imp.account);
      if (!set) this.importers.set(imp.account, (set = new Set()));
      set.add(entry.id);
    }
  }

  private unindex(entry: AccountEntry): void {
    this.exportIndexes.delete(entry.id);
    for (const imp of entry.claims?.imports ?? []) {
      const set = this.importers.get(imp.account);
      set?.delete(entry.id);
      if (set?.size === 0) this.importers.delete(imp.account);
    }
  }
}

export function exactExport(index: ExportIndex, type: string, subject: string): ExportClaim | undefined {
  return index.exact.get(exportKey(type, subject));
}

/** The source accounts an account JWT's imports name, read without verifying it (only to know whom to look up). */
export function importSources(token: string): string[] {
  const nats = peekClaims(token)?.["nats"];
  const imports = nats !== null && typeof nats === "object" ? (nats as Record<string, unknown>)["imports"] : undefined;
  if (!Array.isArray(imports)) return [];
  return imports.flatMap((i) => {
    const account = i !== null && typeof i === "object" ? (i as Record<string, unknown>)["account"] : undefined;
    return typeof account === "string" && isPublicKey(account, "account") ? [account] : [];
  });
}
