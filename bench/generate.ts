/**
 * Deterministic synthetic deployments: one operator (with a signing key), the system account, and
 * `size - 1` accounts, of which about a tenth export. Every account imports 3–7 subjects (5 on
 * average) from distinct exporters; about half of the imports are private with an activation token;
 * every cause the offline engine can find is present (the live-only `push_rejected` and
 * `server_state_stale` apart; two exporters import from each other, an import cycle; five import
 * `dia.>` in a diamond, which the server's cycle walk refuses for the sixth; one imports a stream
 * twice, the first on a cycle; one in fifty imports a service two intersecting exports disagree
 * about). Exporters
 * have three signing keys and have rotated a fourth out.
 *
 * Same (size, seed, base) → byte-identical JWTs: keys come from hashes of the seed, the layout from a
 * seeded PRNG, and every time in the JWTs is relative to `base` (the start of a UTC day), so the
 * expiry-related causes are what they are meant to be from `base` until REUSABLE_FOR_S after it
 * (the cache reuses a deployment that long).
 *
 * Two fixtures for the measurements:
 *  - the hub: exporter 0, imported from by exactly 100 accounts (a private stream with valid tokens)
 *    and by nobody else, with variants of its JWT that each revoke the token of one of them;
 *  - the check account: an ordinary account, the subject of the `insights.imports.check` load.
 */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { keyFromSeed, phantomPublicKey, Rng, seedString, signJwt, type BenchKey, type Role } from "./keys.js";

/** Bump when the layout changes: cached deployments of another version are ignored. */
export const GENERATOR_VERSION = 11;

const DAY = 86_400;
/** An expiring-soon token expires this long after `base`: within the service's default warning (7 days). */
const EXPIRING_SOON_DAYS = 6;
/**
 * Every time in a deployment's JWTs that lies after its `base` is at least EXPIRING_SOON_DAYS
 * after it; the others are before it. Until then every verdict is what it was at `base`: a cached
 * deployment is reused while the clock is within this of its base (a day of margin for a bench
 * that runs past it).
 */
export const REUSABLE_FOR_S = (EXPIRING_SOON_DAYS - 1) * DAY;
export const HUB_IMPORTERS = 100;
const HUB_VARIANTS = 10;

export interface BenchAccount {
  id: string;
  name: string;
  jwt: string;
}

export interface Deployment {
  version: number;
  size: number;
  seed: number;
  /** Start of the UTC day the deployment was generated on (unix seconds); all JWT times are relative to it. */
  base: number;
  operator: { id: string; jwt: string };
  system: { id: string; name: string; jwt: string };
  /** A creds file of a system-account user (synthetic key material, made for this benchmark only). */
  systemCreds: string;
  /** Every account, the system account first. */
  accounts: BenchAccount[];
  /** Declared imports, and how many of them carry an activation token. */
  imports: number;
  tokens: number;
  hub: { id: string; importers: string[]; variants: string[] };
  checkAccount: string;
}

type Kind =
  | "public_stream"
  | "public_service"
  | "atp_ok"
  | "private_stream"
  | "private_service"
  | "missing_token"
  | "signer_untrusted"
  | "not_yet_valid"
  | "expired"
  | "revoked"
  | "expiring_soon"
  | "export_not_found"
  | "subject_mismatch"
  | "type_mismatch"
  | "atp_mismatch"
  | "source_not_found"
  | "source_expired";

/** Relative frequencies of import kinds in an ordinary account: ~70% active, ~53% with a token. */
const KIND_WEIGHTS: [Kind, number][] = [
  ["public_stream", 12],
  ["public_service", 10],
  ["atp_ok", 6],
  ["private_stream", 22],
  ["private_service", 18],
  ["missing_token", 3],
  ["signer_untrusted", 2.5],
  ["not_yet_valid", 2.5],
  ["expired", 2.5],
  ["revoked", 2.5],
  ["expiring_soon", 2.5],
  ["export_not_found", 2.5],
  ["subject_mismatch", 2.5],
  ["type_mismatch", 2.5],
  ["atp_mismatch", 2.5],
  ["source_not_found", 2.5],
  ["source_expired", 2.5],
];
const TOTAL_WEIGHT = KIND_WEIGHTS.reduce((s, [, w]) => s + w, 0);

/** Whole-account profiles: what makes an account JWT fail as a whole. */
type Profile = "normal" | "import_invalid" | "activation_invalid" | "untrusted" | "expired";

function pickKind(rng: Rng): Kind {
  let x = rng.float() * TOTAL_WEIGHT;
  for (const [kind, w] of KIND_WEIGHTS) {
    if ((x -= w) < 0) return kind;
  }
  return "public_stream";
}

const UNLIMITED = { subs: -1, data: -1, payload: -1, imports: -1, exports: -1, wildcards: true, conn: -1, leaf: -1 };

interface Keyed {
  index: number;
  name: string;
  key: BenchKey;
  profile: Profile;
  /** Exporters only. */
  signingKeys: BenchKey[];
  rotatedOut: BenchKey | null;
  dead: boolean;
}

interface PlannedImport {
  kind: Kind;
  exporter: number | null;
  /** Hub import (a valid private stream import from exporter 0). */
  hub?: boolean;
  /** This import carries the account-level fault of its profile. */
  fault?:
    | "share"
    | "wrong_token_subject"
    | "duplicate_first"
    | "duplicate_second"
    | "cycle_into"
    | "cycle_back"
    | "mapped_away"
    | "mapped_partly"
    | "mapped_overlap"
    | "replies_away"
    | "replies_partly"
    | "replies_overlap"
    | "exports_overlap"
    | "jetstream_api"
    | "diamond"
    | "cycle_dup_first"
    | "cycle_dup_second"
    | "cycle_dup_back";
}

/** Keys from a hash of (seed, label): independent of the order they are made in. */
function derivedKey(seed: number, role: Role, label: string): BenchKey {
  return keyFromSeed(role, createHash("sha256").update(`nats-insights-bench:${seed}:${label}`).digest());
}

export function generate(size: number, seed: number, base: number): Deployment {
  if (size < 50) throw new Error("a deployment needs at least 50 accounts");
  const rng = new Rng(seed);
  const iat = base - 30 * DAY;
  const operatorKey = derivedKey(seed, "operator", "operator");
  const operatorSigner = derivedKey(seed, "operator", "operator-signing-key");
  const rogueOperator = derivedKey(seed, "operator", "rogue-operator");
  const sysKey = derivedKey(seed, "account", "SYS");
  const sysUser = derivedKey(seed, "user", "SYS-user");

  const n = size - 1; // ordinary accounts; the system account makes `size`
  const nExporters = Math.max(14, Math.round(n * 0.1)); // 12 live ones at least: the fixtures below take them
  const nDead = Math.max(1, Math.round(size * 0.002));
  const perProfile = Math.max(1, Math.round(size * 0.0025));
  const width = String(n).length;
  const accounts: Keyed[] = [];
  for (let i = 0; i < n; i++) {
    const name = `A${String(i).padStart(width, "0")}`;
    const exporter = i < nExporters;
    accounts.push({
      index: i,
      name,
      key: derivedKey(seed, "account", name),
      profile: "normal",
      signingKeys: exporter ? [0, 1, 2].map((k) => derivedKey(seed, "account", `${name}-sk${k}`)) : [],
      rotatedOut: exporter ? derivedKey(seed, "account", `${name}-sk-rotated`) : null,
      dead: exporter && i >= 1 && i <= nDead,
    });
  }
  // Exporter 0 is the hub; 1..nDead have expired; the rest are picked at random by importers.
  const liveExporters = accounts.slice(nDead + 1, nExporters).map((a) => a.index);
  const deadExporters = accounts.slice(1, nDead + 1).map((a) => a.index);

  // Non-exporters, shuffled: the first take the whole-account faults, then the hub's importers.
  const others = accounts.slice(nExporters).map((a) => a.index);
  for (let i = others.length - 1; i > 0; i--) {
    const j = rng.int(0, i);
    [others[i], others[j]] = [others[j]!, others[i]!];
  }
  let cursor = 0;
  for (const profile of ["import_invalid", "activation_invalid", "untrusted", "expired"] as const) {
    for (let k = 0; k < perProfile; k++) accounts[others[cursor++]!]!.profile = profile;
  }
  const hubImporters = others.slice(cursor, cursor + Math.min(HUB_IMPORTERS, others.length - cursor));
  cursor += hubImporters.length;
  const checkAccount = others[cursor]!;
  const hubSet = new Set(hubImporters);

  // Plan every import: kind and exporter; distinct exporters per importer.
  const plans = new Map<number, PlannedImport[]>();
  const revoked = new Map<number, Set<number>>(); // exporter → importers whose tokens it revoked
  for (const acc of accounts) {
    const count = rng.int(3, 7);
    const used = new Set<number>([acc.index, 0]);
    const list: PlannedImport[] = [];
    if (hubSet.has(acc.index)) list.push({ kind: "private_stream", exporter: 0, hub: true });
    while (list.length < count) {
      const kind = pickKind(rng);
      if (kind === "source_not_found") {
        list.push({ kind, exporter: null });
        continue;
      }
      const pool = kind === "source_expired" ? deadExporters : liveExporters;
      let exporter = rng.pick(pool);
      for (let tries = 0; used.has(exporter) && tries < 20; tries++) exporter = rng.pick(pool);
      if (used.has(exporter)) continue;
      used.add(exporter);
      list.push({ kind, exporter });
      if (kind === "revoked") {
        if (!revoked.has(exporter)) revoked.set(exporter, new Set());
        revoked.get(exporter)!.add(acc.index);
      }
    }
    if (acc.profile === "import_invalid")
      list.push({ kind: "public_stream", exporter: pickUnused(rng, liveExporters, used), fault: "share" });
    // One account in fifty imports the same stream twice; the server keeps the first only.
    if (acc.profile === "normal" && acc.index % 50 === 7) {
      const exporter = pickUnused(rng, liveExporters, used);
      list.push(
        { kind: "public_stream", exporter, fault: "duplicate_first" },
        { kind: "public_stream", exporter, fault: "duplicate_second" },
      );
    }
    // One in fifty maps the local subjects of two service imports: all requests elsewhere, half of them.
    if (acc.profile === "normal" && acc.index % 50 === 13) {
      list.push({ kind: "public_service", exporter: pickUnused(rng, liveExporters, used), fault: "mapped_away" });
      list.push({ kind: "public_service", exporter: pickUnused(rng, liveExporters, used), fault: "mapped_partly" });
      list.push({ kind: "public_service", exporter: pickUnused(rng, liveExporters, used), fault: "mapped_overlap" });
    }
    // Three in fifty map their clients' inboxes, where the answers of every service import arrive:
    // all of them elsewhere, half of them, or by two overlapping mappings.
    const replies = { 17: "replies_away", 19: "replies_partly", 23: "replies_overlap" } as const;
    const repliesFault = replies[(acc.index % 50) as keyof typeof replies];
    if (acc.profile === "normal" && repliesFault)
      list.push({ kind: "public_service", exporter: pickUnused(rng, liveExporters, used), fault: repliesFault });
    // One in fifty imports a service two intersecting exports contain, one public, one private (no token).
    if (acc.profile === "normal" && acc.index % 50 === 29)
      list.push({ kind: "public_service", exporter: pickUnused(rng, liveExporters, used), fault: "exports_overlap" });
    if (acc.profile === "activation_invalid")
      list.push({
        kind: "private_stream",
        exporter: pickUnused(rng, liveExporters, used),
        fault: "wrong_token_subject",
      });
    plans.set(acc.index, list);
  }
  // Two exporters import a stream from each other on colliding subjects: an import cycle.
  const [cycleX, cycleY] = [liveExporters[0]!, liveExporters[1]!];
  plans.get(cycleX)!.push({ kind: "public_stream", exporter: cycleY, fault: "cycle_into" });
  plans.get(cycleY)!.push({ kind: "public_stream", exporter: cycleX, fault: "cycle_back" });
  // A stream imported twice from one exporter, the first under a local subject the exporter imports
  // back (an import cycle): which of the two the server adds follows its load order
  // (duplicate_of_cycle_import; the catalogue's scenario of the same shape).
  const [dupExp, dupImp] = [liveExporters[10]!, liveExporters[11]!];
  plans.get(dupImp)!.push({ kind: "public_stream", exporter: dupExp, fault: "cycle_dup_first" });
  plans.get(dupImp)!.push({ kind: "public_stream", exporter: dupExp, fault: "cycle_dup_second" });
  plans.get(dupExp)!.push({ kind: "public_stream", exporter: dupImp, fault: "cycle_dup_back" });
  // An exporter shares its JetStream API; an account imports it without the ack subject: a warning.
  const jetStreamExporter = liveExporters[2]!;
  plans.get(liveExporters[3]!)!.push({ kind: "public_service", exporter: jetStreamExporter, fault: "jetstream_api" });
  // A diamond of stream imports of `dia.>` (the catalogue's stream diamond): EXP imports from B and
  // C, both import from D, which imports from E. The walk for IMP's import from EXP comes into D
  // a second time: nats-server refuses it (cycle_search_refused); the others are active.
  const [diaE, diaD, diaB, diaC, diaExp, diaImp] = liveExporters.slice(4, 10) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const diamondExporters = new Set([diaE, diaD, diaB, diaC, diaExp]);
  for (const [importer, exporter] of [
    [diaD, diaE],
    [diaB, diaD],
    [diaC, diaD],
    [diaExp, diaB],
    [diaExp, diaC],
    [diaImp, diaExp],
  ] as const)
    plans.get(importer)!.push({ kind: "public_stream", exporter, fault: "diamond" });

  const exportsOf = (acc: Keyed, extraRevoked: number[] = []) => {
    const e = `e${acc.index}`;
    const revocations: Record<string, number> = { "*": base - 60 * DAY };
    for (const i of [...(revoked.get(acc.index) ?? []), ...extraRevoked])
      revocations[accounts[i]!.key.publicKey] = base - 10 * DAY;
    return [
      { name: "pub", subject: `${e}.pub.>`, type: "stream" },
      { name: "priv", subject: `${e}.priv.>`, type: "stream", token_req: true, revocations },
      { name: "svc-pub", subject: `${e}.svc.pub.*`, type: "service" },
      { name: "svc-priv", subject: `${e}.svc.priv.*`, type: "service", token_req: true },
      { name: "atp", subject: `${e}.atp.*.data`, type: "stream", account_token_position: 3 },
      // Intersecting, neither inside the other (jwt accepts them): an import of `.ovl.b.c` matches both.
      { name: "ovl-pub", subject: `${e}.ovl.*.c`, type: "service" },
      { name: "ovl-priv", subject: `${e}.ovl.b.*`, type: "service", token_req: true },
      ...(acc.index === jetStreamExporter
        ? [{ name: "js-api", subject: "$JS.API.>", type: "service", response_type: "Stream" }]
        : []),
      ...(diamondExporters.has(acc.index) ? [{ name: "dia", subject: "dia.>", type: "stream" }] : []),
      // The cycle walk looks only into an account that exports the subject it walks on.
      ...(acc.index === dupExp || acc.index === dupImp ? [{ name: "dup", subject: "dup.>", type: "stream" }] : []),
    ];
  };

  let tokens = 0;
  let imports = 0;
  const token = (
    exporter: Keyed,
    importerId: string,
    subject: string,
    kind: "stream" | "service",
    opts: { signer?: BenchKey; exp?: number; nbf?: number },
  ) => {
    tokens++;
    const signer = opts.signer ?? exporter.key;
    const nats: Record<string, unknown> = { subject, kind, type: "activation", version: 2 };
    if (signer !== exporter.key) nats["issuer_account"] = exporter.key.publicKey;
    const claims: Record<string, unknown> = { iat, name: subject, sub: importerId, nats };
    if (opts.exp !== undefined) claims["exp"] = opts.exp;
    if (opts.nbf !== undefined) claims["nbf"] = opts.nbf;
    return signJwt(claims, signer);
  };

  const importClaim = (acc: Keyed, p: PlannedImport): Record<string, unknown> => {
    imports++;
    const me = acc.key.publicKey;
    const u = `u${acc.index}`;
    if (p.exporter === null)
      return { name: "ghost", account: phantomPublicKey("account", rng), subject: "ghost.data", type: "stream" };
    const ex = accounts[p.exporter]!;
    const e = `e${ex.index}`;
    const anySigner = () => (rng.float() < 0.5 ? ex.key : rng.pick(ex.signingKeys));
    const longExp = () => (rng.float() < 0.3 ? { exp: base + 180 * DAY } : {});
    const stream = (subject: string, extra: Record<string, unknown> = {}) => ({
      name: subject,
      account: ex.key.publicKey,
      subject,
      type: "stream",
      ...extra,
    });
    const service = (subject: string, extra: Record<string, unknown> = {}) => ({
      name: subject,
      account: ex.key.publicKey,
      subject,
      type: "service",
      ...extra,
    });
    if (p.hub)
      return stream(`${e}.priv.${u}`, {
        token: token(ex, me, `${e}.priv.>`, "stream", { signer: ex.signingKeys[0]! }),
      });
    if (p.fault === "share") return stream(`${e}.pub.${u}`, { share: true });
    if (p.fault === "duplicate_first") return stream(`${e}.pub.${u}.twice`);
    if (p.fault === "duplicate_second")
      return stream(`${e}.pub.${u}.twice`, { name: "again", local_subject: `again.${u}` });
    if (p.fault === "cycle_into") return stream(`${e}.pub.cyc`, { name: "cycle" });
    if (p.fault === "diamond") return stream("dia.>", { name: "diamond" });
    if (p.fault === "cycle_dup_first") return stream(`${e}.pub.dup`, { name: "dup", local_subject: "dup.back" });
    if (p.fault === "cycle_dup_second")
      return stream(`${e}.pub.dup`, { name: "dup-again", local_subject: "dup.again" });
    if (p.fault === "cycle_dup_back") return stream("dup.back", { name: "dup-back" });
    if (p.fault === "jetstream_api") return service("$JS.API.>", { name: "js", local_subject: `js.${e}.API.>` });
    if (p.fault === "cycle_back")
      return stream(`${e}.pub.cyc`, { name: "cycle-back", local_subject: `e${acc.index}.pub.cyc` });
    if (p.fault === "mapped_away")
      return service(`${e}.svc.pub.${u}`, { name: "mapped", local_subject: `mapped.${u}` });
    if (p.fault === "mapped_partly")
      return service(`${e}.svc.pub.${u}`, { name: "partly", local_subject: `partly.${u}` });
    if (p.fault === "mapped_overlap")
      return service(`${e}.svc.pub.${u}`, { name: "overlap", local_subject: `overlap.${u}` });
    if (p.fault === "exports_overlap") return service(`${e}.ovl.b.c`, { name: "crossed" });
    if (p.fault === "replies_away" || p.fault === "replies_partly" || p.fault === "replies_overlap")
      return service(`${e}.svc.pub.${u}`, { name: "answers" });
    if (p.fault === "wrong_token_subject") {
      const stranger = accounts[(acc.index + 1) % n]!.key.publicKey;
      return stream(`${e}.priv.${u}`, { token: token(ex, stranger, `${e}.priv.>`, "stream", {}) });
    }
    const priv = (opts: Parameters<typeof token>[4]) =>
      stream(`${e}.priv.${u}`, {
        token: token(ex, me, rng.float() < 0.5 ? `${e}.priv.>` : `${e}.priv.${u}`, "stream", opts),
      });
    switch (p.kind) {
      case "public_stream":
        return stream(`${e}.pub.${u}.${rng.int(0, 9)}`);
      case "public_service":
        return service(`${e}.svc.pub.${u}`, rng.float() < 0.3 ? { local_subject: `local.${e}.${u}` } : {});
      case "atp_ok":
        return stream(`${e}.atp.${me}.data`);
      case "private_stream":
        return priv({ signer: anySigner(), ...longExp() });
      case "private_service":
        return service(`${e}.svc.priv.${u}`, {
          token: token(ex, me, rng.float() < 0.5 ? `${e}.svc.priv.*` : `${e}.svc.priv.${u}`, "service", {
            signer: anySigner(),
            ...longExp(),
          }),
        });
      case "missing_token":
        return stream(`${e}.priv.${u}`);
      case "signer_untrusted":
        return priv({ signer: ex.rotatedOut! });
      case "not_yet_valid":
        return priv({ signer: anySigner(), nbf: base + 30 * DAY });
      case "expired":
        return priv({ signer: anySigner(), exp: base - DAY });
      case "revoked":
        return priv({ signer: anySigner() });
      case "expiring_soon":
        return priv({ signer: anySigner(), exp: base + EXPIRING_SOON_DAYS * DAY });
      case "export_not_found":
        return stream(`${e}.none.${u}`);
      case "subject_mismatch":
        return stream(`${e}.>`);
      case "type_mismatch":
        return stream(`${e}.svc.pub.${u}`);
      case "atp_mismatch":
        return stream(`${e}.atp.${accounts[(acc.index + 7) % n]!.key.publicKey}.data`);
      case "source_expired":
        return stream(`${e}.pub.${u}`);
      case "source_not_found":
        throw new Error("unreachable");
    }
  };

  const accountJwt = (acc: Keyed, importClaims: Record<string, unknown>[], extraRevoked: number[] = []): string => {
    const limits =
      acc.index === jetStreamExporter
        ? { ...UNLIMITED, mem_storage: -1, disk_storage: -1, streams: -1, consumer: -1 }
        : UNLIMITED;
    const nats: Record<string, unknown> = { limits, default_permissions: { pub: {}, sub: {} } };
    if (acc.signingKeys.length > 0) {
      nats["signing_keys"] = acc.signingKeys.map((k) => k.publicKey);
      nats["exports"] = exportsOf(acc, extraRevoked);
    }
    if (importClaims.length > 0) nats["imports"] = importClaims;
    const faults = new Set(plans.get(acc.index)!.map((p) => p.fault));
    if (faults.has("mapped_away")) {
      const u = `u${acc.index}`;
      nats["mappings"] = {
        [`mapped.${u}`]: [{ subject: `elsewhere.${u}` }],
        [`partly.${u}`]: [{ subject: `elsewhere.half.${u}`, weight: 50 }],
        [`overlap.${u}`]: [{ subject: `elsewhere.o.${u}` }],
        ["overlap.*"]: [{ subject: "elsewhere.ov.{{wildcard(1)}}", weight: 50 }],
      };
    }
    if (faults.has("replies_away")) nats["mappings"] = { "_INBOX.>": [{ subject: "lost.>" }] };
    if (faults.has("replies_partly")) nats["mappings"] = { "_INBOX.>": [{ subject: "lost.>", weight: 50 }] };
    if (faults.has("replies_overlap"))
      nats["mappings"] = {
        "_INBOX.>": [{ subject: "lost.>" }],
        "_INBOX.*.*": [{ subject: "lost.half.{{wildcard(1)}}.{{wildcard(2)}}", weight: 50 }],
      };
    nats["type"] = "account";
    nats["version"] = 2;
    const claims: Record<string, unknown> = { iat, name: acc.name, sub: acc.key.publicKey, nats };
    if (acc.dead || acc.profile === "expired") claims["exp"] = base - DAY;
    return signJwt(claims, acc.profile === "untrusted" ? rogueOperator : operatorSigner);
  };

  const out: BenchAccount[] = [];
  let hub: Deployment["hub"] | null = null;
  for (const acc of accounts) {
    const importClaims = plans.get(acc.index)!.map((p) => importClaim(acc, p));
    out.push({ id: acc.key.publicKey, name: acc.name, jwt: accountJwt(acc, importClaims) });
    if (acc.index === 0) {
      const variants = hubImporters.slice(0, HUB_VARIANTS).map((i) => accountJwt(acc, importClaims, [i]));
      hub = { id: acc.key.publicKey, importers: hubImporters.map((i) => accounts[i]!.key.publicKey), variants };
    }
  }

  const operatorJwt = signJwt(
    {
      iat,
      name: "BENCH_OP",
      sub: operatorKey.publicKey,
      nats: {
        signing_keys: [operatorSigner.publicKey],
        system_account: sysKey.publicKey,
        type: "operator",
        version: 2,
      },
    },
    operatorKey,
  );
  const sysJwt = signJwt(
    {
      iat,
      name: "SYS",
      sub: sysKey.publicKey,
      nats: { limits: UNLIMITED, default_permissions: { pub: {}, sub: {} }, type: "account", version: 2 },
    },
    operatorSigner,
  );
  const userJwt = signJwt(
    {
      iat,
      name: "bench-sys",
      sub: sysUser.publicKey,
      nats: { pub: {}, sub: {}, subs: -1, data: -1, payload: -1, type: "user", version: 2 },
    },
    sysKey,
  );
  return {
    version: GENERATOR_VERSION,
    size,
    seed,
    base,
    operator: { id: operatorKey.publicKey, jwt: operatorJwt },
    system: { id: sysKey.publicKey, name: "SYS", jwt: sysJwt },
    systemCreds: creds(userJwt, seedString(sysUser)),
    accounts: [{ id: sysKey.publicKey, name: "SYS", jwt: sysJwt }, ...out],
    imports,
    tokens,
    hub: hub!,
    checkAccount: accounts[checkAccount]!.key.publicKey,
  };
}

function pickUnused(rng: Rng, pool: number[], used: Set<number>): number {
  const free = pool.filter((i) => !used.has(i));
  const pick = rng.pick(free.length > 0 ? free : pool);
  used.add(pick);
  return pick;
}

function creds(jwt: string, seed: string): string {
  return `-----BEGIN NATS USER JWT-----
${jwt}
------END NATS USER JWT------

************************* IMPORTANT *************************
NKEY Seed printed below can be used to sign and prove identity.
NKEYs are sensitive and should be treated as secrets.

-----BEGIN USER NKEY SEED-----
${seed}
------END USER NKEY SEED------

*************************************************************
`;
}

/** The start of the UTC day of `now` (unix seconds). */
export function dayStart(now: number): number {
  return Math.floor(now / DAY) * DAY;
}

/** Whether a deployment generated for `base` still gives its intended verdicts at `now`. */
export function reusableAt(base: number, now: number): boolean {
  return now >= base && now < base + REUSABLE_FOR_S;
}

/**
 * The deployment for (size, seed) as the clock reads `now` (unix seconds), from the on-disk cache
 * when the cached one is still what it was meant to be at `now` (reusableAt); else one generated
 * for the start of now's UTC day, which replaces it. The cache lives outside the work tree's
 * tracked files (node_modules/.cache), one file per size, seed and generator version.
 */
export function deployment(
  cacheDir: string,
  size: number,
  seed: number,
  now: number = Date.now() / 1000,
): { deployment: Deployment; path: string; cached: boolean; ms: number } {
  const stem = `n${size}-s${seed}`;
  const name = `${stem}-v${GENERATOR_VERSION}.json`;
  const path = join(cacheDir, name);
  const t0 = performance.now();
  if (existsSync(path)) {
    try {
      const d = JSON.parse(readFileSync(path, "utf8")) as Deployment;
      if (d.version === GENERATOR_VERSION && d.size === size && d.seed === seed && reusableAt(d.base, now)) {
        return { deployment: d, path, cached: true, ms: performance.now() - t0 };
      }
    } catch {
      /* regenerate */
    }
  }
  const d = generate(size, seed, dayStart(now));
  mkdirSync(cacheDir, { recursive: true });
  for (const f of readdirSync(cacheDir))
    if (f.startsWith(`${stem}-`) && f !== name) rmSync(join(cacheDir, f), { force: true });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(d));
  renameSync(tmp, path);
  return { deployment: d, path, cached: false, ms: performance.now() - t0 };
}
