/**
 * The fuzzer's deployments: a plain, JSON-serialisable description of an operator's accounts, their
 * exports, imports, tokens and keys — everything the server reads for imports — and a seeded
 * generator of random ones. Times are relative to the moment a deployment is realised (signed), so a
 * scenario file replays the same way whenever it runs. Account keys are derived from the seed.
 *
 * Subjects may hold two placeholders, replaced by `realize.ts`: `%IMPORTER%` (the public key of the
 * importing account, for account token positions) and `%OTHER%` (a key of no account).
 */

import { isContainedIn } from "../../src/core/subject.js";
import { addJetStream } from "./jetstream.js";

export type Kind = "stream" | "service";

export interface FuzzToken {
  /** Who signs: the exporter's identity key, or its signing key #n (possibly scoped or removed). */
  signer: "identity" | number;
  /** The subject the token grants. */
  subject: string;
  /** `sub` of the token: the importer itself, or some other account (the resolver rejects that). */
  to: "importer" | "stranger";
  /** Seconds relative to the realisation time. */
  exp?: number;
  nbf?: number;
}

export interface FuzzImport {
  name: string;
  /** Index of the source account in `accounts`, or the operator's system account. */
  from: number | "system";
  type: Kind;
  subject: string;
  local_subject?: string;
  /** The deprecated `to`: a prefix for streams, the exporter-side subject for services. */
  to?: string;
  share?: boolean;
  token?: FuzzToken;
}

export interface FuzzRevocation {
  /** `*` or the index of the revoked importer. */
  who: "*" | number;
  /** Revoked at a time before or after the tokens' `iat`. */
  at: "before" | "after";
}

export interface FuzzExport {
  type: Kind;
  subject: string;
  token_req?: boolean;
  account_token_position?: number;
  response_type?: "Singleton" | "Stream" | "Chunked";
  latency?: boolean;
  revocations?: FuzzRevocation[];
}

export interface FuzzSigningKey {
  /** Listed as a scoped signing key (user_scope) rather than a plain one. */
  scoped: boolean;
  /** Used to sign tokens, but no longer listed in the account JWT (a rotated-out key). */
  removed: boolean;
  /**
   * No whole Ed25519 key: 16, 31 or 33 bytes, or the identity point (of small order, which "signs"
   * anything as Go's ed25519 verifies: R the identity, S zero). nkeys v0.4.17 (2.14.10, 2.15.3 on)
   * refuses a JWT listing one; earlier lines store it. Only a key of small order signs tokens.
   */
  odd?: OddKey;
}

/** A signing key that is no whole key (`FuzzSigningKey.odd`). */
export type OddKey = 16 | 31 | 33 | "small-order";

/** One entry of an account's subject `mappings`. */
export interface FuzzMapping {
  source: string;
  destinations: { subject: string; weight?: number }[];
}

/**
 * Who signs the account JWT: the operator's signing key (the default), its identity key, a signing
 * key added to the operator JWT later, or one the operator JWT no longer lists (rotated out).
 */
export type FuzzAccountSigner =
  "operator-signing-key" | "operator-identity" | "added-signing-key" | "retired-signing-key";

/** A consumer of an exporter's stream, shared with one importer (test/fuzz/jetstream.ts). */
export interface FuzzConsumer {
  name: string;
  kind: "pull" | "push";
  ack: "explicit" | "none";
  /** Push only: flow control (and idle heartbeats). */
  flow_control?: boolean;
  /** The importer (by account name) whose probes use it. */
  for: string;
}

/** JetStream in an exporter account: limits in its JWT, one stream, the consumers it shares. */
export interface FuzzJetStream {
  consumers: FuzzConsumer[];
}

export interface FuzzAccount {
  name: string;
  /** JetStream enabled (limits in the JWT), with a stream and consumers others import. */
  jetstream?: FuzzJetStream;
  /** Never pushed: its importers' source account is missing. */
  pushed: boolean;
  /** Pushed, loaded (a client connected), then deleted with `$SYS.REQ.CLAIMS.DELETE`. */
  deleted?: boolean;
  /** Absent: the operator's signing key. */
  signer?: FuzzAccountSigner;
  /** The account's own subject mappings (in JWT key order). */
  mappings?: FuzzMapping[];
  /** Account JWT `exp` / `nbf`, seconds relative to the realisation time. */
  exp?: number;
  nbf?: number;
  /** `limits.imports` (absent: unlimited). */
  import_limit?: number;
  /** `cluster_traffic` in its JWT: "", "system" and "owner" are valid, anything else refused from 2.10.24 on. */
  cluster_traffic?: string | number;
  /** Its JWT and the tokens it holds written with keys in another case (key-case.ts); absent: as jwt writes them. */
  key_case?: FuzzKeyCase;
  signing_keys: FuzzSigningKey[];
  exports: FuzzExport[];
  imports: FuzzImport[];
}

/** How a JWT's keys are written: all upper case, the first letter upper case, or `s`/`k` as `ſ`/`K`. */
export type FuzzKeyCase = "upper" | "title" | "fold";

export interface FuzzDeployment {
  /** Exports added to the system account's JWT (pushed when non-empty). */
  system_exports: FuzzExport[];
  /** The servers' JetStream domain (with a JetStream exporter). */
  jetstream_domain?: string;
  /** nats-server 2.14+'s `js_ack_fc_v2` feature flag (ack and flow-control subjects with domain and account hash). */
  js_ack_v2?: boolean;
  accounts: FuzzAccount[];
}

// ---------------------------------------------------------------------------------------------
// Seeded randomness
// ---------------------------------------------------------------------------------------------

/** mulberry32: small, fast, good enough to pick shapes; the same seed gives the same sequence. */
export class Rng {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }
  bytes(n: number): Uint8Array {
    return Uint8Array.from({ length: n }, () => this.int(256));
  }
}

/** The seed of deployment `index` of a run: each deployment can be replayed alone. */
export function deploymentSeed(runSeed: number, index: number): number {
  let h = (runSeed ^ Math.imul(index + 1, 0x9e3779b1)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b) >>> 0;
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}

// ---------------------------------------------------------------------------------------------
// Generator
// ---------------------------------------------------------------------------------------------

const HOUR = 3600;
const DAY = 24 * HOUR;
const WORDS = ["a", "b", "c"];

/** Local subjects come from a wider vocabulary: colliding ones make the whole JWT invalid too often. */
const localWord = (r: Rng) => `${r.pick(WORDS)}${r.int(20)}`;

/** An export subject: 1–3 tokens from a tiny vocabulary, so that exports and imports collide. */
function exportSubject(r: Rng, withAtp: boolean): { subject: string; atp?: number } {
  const depth = 1 + r.int(3);
  const tokens = Array.from({ length: depth }, () => r.pick(WORDS));
  if (withAtp) {
    const pos = 1 + r.int(depth + 1);
    tokens.splice(pos - 1, 0, "*");
    return { subject: `x.${tokens.join(".")}`, atp: pos + 1 };
  }
  if (r.chance(0.35)) tokens[r.int(depth)] = "*";
  if (r.chance(0.35)) tokens[depth - 1] = ">";
  return { subject: tokens.join(".") };
}

/** An import subject related to `exp` (narrower, equal, wider, crossing) or unrelated. */
function importSubject(r: Rng, exp: FuzzExport | undefined): string {
  if (!exp || r.chance(0.1)) return exportSubject(r, false).subject;
  const tokens = exp.subject.split(".");
  const roll = r.next();
  const out = tokens.map((t, i) => {
    if (exp.account_token_position === i + 1) return roll < 0.6 ? "%IMPORTER%" : roll < 0.8 ? "%OTHER%" : "*";
    if (t === "*") return roll < 0.55 ? r.pick(WORDS) : "*";
    if (t === ">") return roll < 0.5 ? `${r.pick(WORDS)}${r.chance(0.5) ? ".>" : ""}` : ">";
    return roll > 0.92 ? r.pick([...WORDS, "*"]) : t;
  });
  if (roll > 0.96 && out.at(-1) !== ">") out.push(">");
  return out.join(".");
}

const overlap = (a: string, b: string) => isContainedIn(a, b) || isContainedIn(b, a);

/** Wildcard tokens of a pattern in order (`*` and `>`). */
export function wildcards(subject: string): string[] {
  return subject.split(".").filter((t) => t === "*" || t === ">");
}

/** A stream local subject: `$N` references to the subject's wildcards, or a literal. */
function streamLocal(r: Rng, subject: string): string {
  const wc = wildcards(subject);
  if (wc.length === 0) return `l.${localWord(r)}`;
  const refs = wc.map((w, i) => (w === ">" ? ">" : r.chance(0.5) ? `$${i + 1}` : "*"));
  if (r.chance(0.08)) refs.reverse(); // `$2.$1`, or a `>` out of place (the server must refuse that)
  return ["l", localWord(r), ...refs].join(".");
}

/** A service local subject with the same wildcards, in the same order, as the exporter-side subject. */
function serviceLocal(r: Rng, subject: string): string {
  const wc = wildcards(subject);
  return ["l", localWord(r), ...wc].join(".");
}

function relTime(r: Rng): number {
  return r.pick([-HOUR, HOUR, 30 * DAY, DAY]);
}

function genExport(r: Rng, type: Kind, withAtp: boolean, accounts: number): FuzzExport {
  const { subject, atp } = exportSubject(r, withAtp);
  const e: FuzzExport = { type, subject };
  if (atp !== undefined) e.account_token_position = atp;
  else if (r.chance(0.35)) e.token_req = true;
  if (type === "service") {
    if (r.chance(0.4)) e.response_type = r.pick(["Singleton", "Stream", "Chunked"] as const);
    if (r.chance(0.2)) e.latency = true;
  }
  if (e.token_req && r.chance(0.4)) {
    e.revocations = [{ who: r.chance(0.4) ? "*" : r.int(accounts), at: r.chance(0.5) ? "before" : "after" }];
  }
  return e;
}

/** The subjects the system account exports by itself, and some it does not. */
const SYSTEM_SUBJECTS = [
  "$SYS.REQ.ACCOUNT.%IMPORTER%.CONNZ",
  "$SYS.REQ.ACCOUNT.%IMPORTER%.STATZ",
  "$SYS.REQ.ACCOUNT.%OTHER%.CONNZ",
  "$SYS.REQ.ACCOUNT.*.STATZ",
  "$SYS.REQ.SERVER.PING.STATZ",
];

function genImport(r: Rng, d: FuzzDeployment, self: number, n: number): FuzzImport {
  const name = `i${n}`;
  if (r.chance(0.06)) {
    return { name, from: "system", type: "service", subject: r.pick(SYSTEM_SUBJECTS) };
  }
  const fromSystem = d.system_exports.length > 0 && r.chance(0.08);
  let from: number | "system" = fromSystem ? "system" : r.int(d.accounts.length);
  if (from === self) from = (self + 1) % d.accounts.length;
  const source = from === "system" ? d.system_exports : d.accounts[from]!.exports;
  const exp = source.length > 0 ? r.pick(source) : undefined;
  const type: Kind = exp && r.chance(0.93) ? exp.type : r.pick(["stream", "service"] as const);
  const imp: FuzzImport = { name, from, type, subject: importSubject(r, exp) };
  const roll = r.next();
  if (type === "stream") {
    if (roll < 0.3) imp.local_subject = streamLocal(r, imp.subject);
    else if (roll < 0.4) imp.to = `pfx.${r.pick(WORDS)}`;
  } else if (roll < 0.3) {
    imp.local_subject = serviceLocal(r, imp.subject);
  } else if (roll < 0.4) {
    // deprecated `to` on a service: `subject` is the local subject, `to` the exporter's
    imp.to = imp.subject;
    imp.subject = serviceLocal(r, imp.subject);
  }
  if (r.chance(type === "service" ? 0.2 : 0.01)) imp.share = true;
  const wantsToken = exp?.token_req ? r.chance(0.9) : r.chance(0.08);
  if (wantsToken) imp.token = genToken(r, exp, imp, from === "system" ? [] : d.accounts[from]!.signing_keys);
  return imp;
}

function genToken(r: Rng, exp: FuzzExport | undefined, imp: FuzzImport, keys: FuzzSigningKey[]): FuzzToken {
  const exporterSide = imp.type === "service" && imp.to ? imp.to : imp.subject;
  const t: FuzzToken = {
    signer: keys.length > 0 && r.chance(0.6) ? r.int(keys.length) : "identity",
    subject: r.chance(0.5) && exp ? exp.subject : r.chance(0.93) ? exporterSide : exportSubject(r, false).subject,
    to: r.chance(0.02) ? "stranger" : "importer",
  };
  if (r.chance(0.3)) t.exp = relTime(r);
  if (r.chance(0.15)) t.nbf = r.pick([-HOUR, HOUR]);
  return t;
}

/** The share of deployments that get a JetStream exporter and its importers (test/fuzz/jetstream.ts). */
export const JETSTREAM_SHARE = 0.2;

/**
 * A random deployment: 2–5 accounts, a few exports and imports each, every feature in the mix;
 * with `jetstreamShare` of them a JetStream exporter and its importers besides.
 */
export function generate(seed: number, jetstreamShare = JETSTREAM_SHARE): FuzzDeployment {
  const r = new Rng(seed);
  const count = 2 + r.int(4);
  const d: FuzzDeployment = { system_exports: [], accounts: [] };
  if (r.chance(0.15)) d.system_exports.push(genExport(r, r.pick(["stream", "service"] as const), false, count));
  for (let i = 0; i < count; i++) {
    const keys = r.chance(0.4)
      ? Array.from({ length: 1 + r.int(2) }, () => ({ scoped: r.chance(0.3), removed: r.chance(0.25) }))
      : [];
    // Overlapping exports of one type make the server reject the whole JWT: only now and then.
    const exports: FuzzExport[] = [];
    for (let e = r.int(4); e > 0; e--) {
      const exp = genExport(r, r.pick(["stream", "service"] as const), r.chance(0.12), count);
      if (!exports.some((o) => o.type === exp.type && overlap(o.subject, exp.subject)) || r.chance(0.1))
        exports.push(exp);
    }
    const acc: FuzzAccount = { name: `A${i}`, pushed: r.chance(0.96), signing_keys: keys, exports, imports: [] };
    if (r.chance(0.06)) acc.exp = r.pick([-HOUR, 30 * DAY]);
    if (r.chance(0.03)) acc.nbf = r.pick([-HOUR, HOUR]);
    d.accounts.push(acc);
  }
  let n = 0;
  for (let i = 0; i < count; i++) {
    const acc = d.accounts[i]!;
    const imports = r.int(5);
    for (let k = 0; k < imports; k++) {
      const imp = genImport(r, d, i, n++);
      // So do overlapping service imports from one account (jwt's Imports.Validate).
      const local = (x: FuzzImport) => x.to ?? x.local_subject ?? x.subject;
      const clash =
        imp.type === "service" &&
        acc.imports.some((o) => o.type === "service" && o.from === imp.from && overlap(local(o), local(imp)));
      if (!clash || r.chance(0.1)) acc.imports.push(imp);
    }
    // duplicates: the same import again, perhaps under another local subject
    const streams = acc.imports.filter((imp) => imp.type === "stream");
    if (streams.length > 0 && r.chance(0.15)) {
      const dup: FuzzImport = { ...structuredClone(r.pick(streams)), name: `i${n++}` };
      if (r.chance(0.6)) {
        delete dup.to;
        dup.local_subject = streamLocal(r, dup.subject);
      }
      acc.imports.push(dup);
    }
    // Cycles: the source imports back what this account exports.
    const back = acc.imports.filter((imp) => imp.from !== "system" && imp.from !== i);
    if (back.length > 0 && acc.exports.length > 0 && r.chance(0.15)) {
      const imp = r.pick(back);
      const exp = r.pick(acc.exports);
      d.accounts[imp.from as number]!.imports.push({
        name: `i${n++}`,
        from: i,
        type: exp.type,
        subject: importSubject(r, exp),
      });
    }
    if (r.chance(0.03)) acc.import_limit = r.int(Math.max(1, acc.imports.length));
  }
  // Drawn after everything else, so the shapes above stay those of earlier runs' seeds.
  for (const [i, acc] of d.accounts.entries()) {
    // Accounts with service imports more often: their mappings are what the engine judges.
    if (r.chance(acc.imports.some((imp) => imp.type === "service") ? 0.6 : 0.2)) acc.mappings = genMappings(r, d, i);
    if (acc.pushed && r.chance(0.06)) acc.deleted = true;
    if (r.chance(0.1)) acc.signer = r.pick(["operator-identity", "added-signing-key", "retired-signing-key"] as const);
  }
  // Signing keys that are no whole key, and cluster_traffic: from a stream of their own, so the
  // shapes above stay those of earlier runs' seeds; not in a JetStream set (its probes need every
  // account of the set loaded).
  addOddClaims(new Rng(seed ^ 0x6f64_646b), d);
  // Intersecting exports that disagree about an import (docs/decisions.md 45): a stream of its own too.
  const crossing = new Rng(seed ^ 0x6f76_6c70);
  if (crossing.chance(0.06)) addIntersectingExports(crossing, d);
  // From a stream of its own, so the shapes above stay those of earlier runs' seeds.
  const js = new Rng(seed ^ 0x4a53_5348);
  if (js.next() < jetstreamShare) addJetStream(js, d);
  // Likewise: keys in another case change no shape.
  const cases = new Rng(seed ^ 0x6b65_7973);
  for (const acc of d.accounts) if (cases.chance(0.15)) acc.key_case = cases.pick(["upper", "title", "fold"] as const);
  // Account-scoped functions, from a stream of their own too.
  const hashes = new Rng(seed ^ 0x6168_6173);
  if (hashes.chance(ACCOUNT_HASH_SHARE)) addAccountHash(hashes, d);
  return d;
}

/** The share of accounts given a signing key that is no whole key, and of those given `cluster_traffic`. */
export const ODD_KEY_SHARE = 0.03;
export const CLUSTER_TRAFFIC_SHARE = 0.025;

/**
 * Now and then an account lists a signing key of 16, 31 or 33 bytes or of small order (plain or
 * scoped, or used and no longer listed), and the tokens it signs for its importers may name a key
 * of small order as their signer; and now and then its JWT carries a `cluster_traffic` valid or not.
 * A token naming a key of another length is not made: it verifies on no line, and nats-server
 * 2.10.29 (nkeys v0.4.11, no length check before Go's ed25519.Verify) panics on the push of an
 * account JWT holding one (measured: "ed25519: bad public key length: 16"; 2.12.15 refuses the JWT).
 */
function addOddClaims(r: Rng, d: FuzzDeployment): void {
  for (const [i, acc] of d.accounts.entries()) {
    if (r.chance(ODD_KEY_SHARE)) {
      const key: FuzzSigningKey = {
        scoped: r.chance(0.3),
        removed: r.chance(0.15),
        odd: r.pick([16, 31, 33, "small-order", "small-order"] as const),
      };
      acc.signing_keys.push(key);
      const n = acc.signing_keys.length - 1;
      for (const other of d.accounts)
        for (const imp of other.imports)
          if (imp.from === i && imp.token && key.odd === "small-order" && r.chance(0.6)) imp.token.signer = n;
    }
    if (r.chance(CLUSTER_TRAFFIC_SHARE)) acc.cluster_traffic = r.pick(["system", "owner", "", "bogus", "OWNER", 7]);
  }
}

/**
 * Two exports of one type that intersect without containing each other (`o.*.a` and `o.b.*`, which
 * jwt accepts), one public and one private or with an account token position, in either order, and
 * an import of their common subject (a token now and then, so that both approve). nats-server holds
 * the import against the one its map order gives it at each check.
 */
function addIntersectingExports(r: Rng, d: FuzzDeployment): void {
  const from = r.int(d.accounts.length);
  const to = (from + 1 + r.int(d.accounts.length - 1)) % d.accounts.length;
  const type = r.pick(["stream", "service"] as const);
  const [w1, w2] = [r.pick(WORDS), r.pick(WORDS)];
  const atp = r.chance(0.3);
  const guarded: FuzzExport = atp
    ? { type, subject: `o.*.${w1}`, account_token_position: 2 }
    : { type, subject: `o.${w2}.*`, token_req: true };
  const open: FuzzExport = { type, subject: atp ? `o.${w2}.*` : `o.*.${w1}` };
  const pair = r.chance(0.5) ? [open, guarded] : [guarded, open];
  const imp: FuzzImport = { name: `io${to}`, from, type, subject: `o.${w2}.${w1}` };
  if (!atp && r.chance(0.3)) imp.token = { signer: "identity", subject: imp.subject, to: "importer" };
  const exporter = d.accounts[from]!;
  const importer = d.accounts[to]!;
  // Not where the JWTs would turn invalid: an export containing or inside one of these, or a service import colliding.
  if (exporter.exports.some((e) => e.type === type && pair.some((p) => overlap(e.subject, p.subject)))) return;
  const local = (x: FuzzImport) => x.to ?? x.local_subject ?? x.subject;
  if (type === "service" && importer.imports.some((o) => o.type === "service" && overlap(local(o), imp.subject)))
    return;
  exporter.exports.push(...pair);
  importer.imports.push(imp);
}

/** The share of deployments where an export and its imports use the account-scoped functions. */
export const ACCOUNT_HASH_SHARE = 0.1;

/**
 * One export's literal token becomes `{{account-hash()}}` (nats-server 2.14.10 and 2.15.3 on make it
 * the exporter's hash; older lines keep the text), and the imports of it that name that token take
 * `{{account-hash-import()}}` (the exporter's hash, on those lines), `{{account-hash()}}` (the
 * importer's) or keep it; a token granting the old subject grants the new one as written, or stays.
 */
function addAccountHash(r: Rng, d: FuzzDeployment): void {
  // Not a JetStream exporter (its set's probes read the subjects as written), nor the intersecting
  // pair of addIntersectingExports (under `o.`), whose import is judged on its own.
  const candidates = (a: FuzzAccount) => (a.jetstream ? [] : a.exports.filter((e) => !e.subject.startsWith("o.")));
  const exporters = d.accounts.flatMap((a, i) => (candidates(a).length > 0 ? [i] : []));
  if (exporters.length === 0) return;
  const from = r.pick(exporters);
  const exp = r.pick(candidates(d.accounts[from]!));
  const tokens = exp.subject.split(".");
  const literal = tokens.flatMap((t, k) => (t !== "*" && t !== ">" && k !== 0 ? [k] : []));
  if (literal.length === 0) return;
  const at = r.pick(literal);
  const word = tokens[at]!;
  const old = exp.subject;
  tokens[at] = "{{account-hash()}}";
  exp.subject = tokens.join(".");
  for (const acc of d.accounts)
    for (const imp of acc.imports) {
      const t = imp.subject.split(".");
      if (imp.from !== from || t[at] !== word) continue;
      const roll = r.next();
      if (roll >= 0.8) continue;
      const before = imp.subject;
      t[at] = roll < 0.6 ? "{{account-hash-import()}}" : "{{account-hash()}}";
      imp.subject = t.join(".");
      if (imp.token && (imp.token.subject === before || imp.token.subject === old) && r.chance(0.5))
        imp.token.subject = imp.subject;
    }
}

/** A mapping destination for `source`: a literal prefix, then the source's wildcards as references. */
function mappedDestination(r: Rng, source: string): string {
  let n = 0;
  const refs = source
    .split(".")
    .flatMap((t) => (t === "*" ? [r.chance(0.5) ? `{{wildcard(${++n})}}` : `$${++n}`] : t === ">" ? [">"] : []));
  // now and then a `*` in the destination, which the server refuses to install
  if (r.chance(0.04)) refs.unshift("*");
  const tail = refs.at(-1) === ">" ? refs.slice(0, -1) : refs;
  return ["m", `${r.pick(WORDS)}${r.int(10)}`, ...tail, ...(refs.at(-1) === ">" ? [">"] : [])].join(".");
}

/** A subject wider than `subject`: a token made `*`, or the tail made `>`. */
function widened(r: Rng, subject: string): string {
  const tokens = subject.split(".");
  if (tokens.at(-1) === ">" || r.chance(0.5)) {
    const k = r.int(tokens.length);
    return tokens.length > 1 && tokens[k] !== ">" ? tokens.map((t, i) => (i === k ? "*" : t)).join(".") : subject;
  }
  return [...tokens.slice(0, Math.max(1, tokens.length - 1)), ">"].join(".");
}

/**
 * Mappings that meet the account's imports and exports: of a service import's local subject (or a
 * wider subject), of a stream import's, of its own exports, onto a service import's local subject,
 * or of nothing in particular; destinations elsewhere, with weights under 100, or listing the
 * source itself.
 */
function genMappings(r: Rng, d: FuzzDeployment, self: number): FuzzMapping[] {
  const acc = d.accounts[self]!;
  const localOf = (imp: FuzzImport) => imp.local_subject ?? imp.subject;
  const services = acc.imports.filter((imp) => imp.type === "service" && !imp.subject.includes("%"));
  const streams = acc.imports.filter((imp) => imp.type === "stream");
  const out: FuzzMapping[] = [];
  for (let k = 1 + r.int(2); k > 0; k--) {
    const roll = r.next();
    let source: string;
    let onto: string | null = null;
    if (roll < 0.55 && services.length > 0) {
      const local = localOf(r.pick(services));
      source = r.chance(0.3) ? widened(r, local) : local;
    } else if (roll < 0.55 && streams.length > 0) source = localOf(r.pick(streams));
    else if (roll < 0.7 && acc.exports.length > 0) source = r.pick(acc.exports).subject;
    else if (roll < 0.8 && services.length > 0) {
      source = `ask.${r.pick(WORDS)}${r.int(10)}`;
      onto = localOf(r.pick(services));
      if (onto.split(".").some((t) => t === "*" || t === ">")) onto = null;
    } else source = `${r.pick(WORDS)}.${r.pick(WORDS)}${r.int(10)}`;
    if (source.includes("$") || out.some((m) => m.source === source)) continue;
    const away = onto ?? mappedDestination(r, source);
    const shape = r.next();
    const destinations =
      shape < 0.65
        ? [{ subject: away }]
        : shape < 0.85
          ? [{ subject: away, weight: r.pick([30, 40, 50]) }]
          : shape < 0.95 && !source.includes("*") && !source.includes(">")
            ? [
                { subject: away, weight: r.pick([20, 30]) },
                { subject: source, weight: r.pick([50, 60]) },
              ]
            : [{ subject: away, weight: 0 }];
    out.push({ source, destinations });
  }
  return out;
}
