/**
 * The in-process measurements, run in a fresh worker thread so that every module-level cache of
 * the core (the per-token decode memo, the KeyObject cache) starts empty and the JIT is cold:
 *
 *  1. full evaluation: trust the operator, load every account JWT into an ImportMonitor and
 *     evaluate every import (what the service does at start, without the I/O), as the service
 *     does it (signatures verified on the other cores too) and on this thread only; both must
 *     reach the same diagnoses;
 *  2. incremental: the hub exporter (100 importers) changes, one JWT version after another;
 *     `ImportMonitor.applyAccount` time and the number of imports it re-evaluated;
 *  3. the verification floor: raw node:crypto Ed25519 verifies of every unique JWT (the account
 *     JWTs, the activation tokens inside them, the operator JWT), key objects made beforehand; and
 *     the same with the evaluation's own verifier when that is sodium-native.
 *
 * The worker reads the deployment from the cache file itself: reading and JSON parsing are not timed.
 */
import { createHash, createPublicKey, verify, type KeyObject } from "node:crypto";
import { createRequire } from "node:module";
import { readFileSync } from "node:fs";
import { parentPort, workerData } from "node:worker_threads";
import { Prefix } from "@nats-io/nkeys";
import { Codec } from "@nats-io/nkeys/lib/codec.js";
import { OperatorTrust } from "../src/core/directory.js";
import { ed25519Verifier, type Ed25519Verifier } from "../src/core/jwt/ed25519.js";
import { ImportMonitor } from "../src/core/monitor.js";
import { setVerificationWorkers, startLoadVerifier } from "../src/shell/verify-threads.js";
import type { Deployment } from "./generate.js";

export interface ColdInput {
  cachePath: string;
  /** Unix seconds: the clock every evaluation uses. */
  now: number;
  /** What to measure in this worker: the full evaluation as the service does it (with verification
   *  threads where there are cores), the same on this thread only, or the verification floor. */
  measure: "full" | "serial" | "floor";
}

export interface FullResult {
  accounts: number;
  imports: number;
  full_eval_ms: number;
  /** CPU time of the loading thread during the full evaluation (NaN where Node cannot tell a thread's). */
  full_eval_cpu_ms: number;
  /** CPU time of the whole process meanwhile: the loading thread and the verification threads. */
  full_eval_process_cpu_ms: number;
  /** Count of diagnoses by cause ("active" for none). */
  causes: Record<string, number>;
  incremental_ms: number;
  incremental_evaluated: number;
  /** Status changes the incremental step produced (events the service would publish). */
  incremental_changes: number;
  /** SHA-256 of every diagnosis, by key: the parallel and serial loads must agree. */
  digest: string;
}

export interface FloorResult {
  /** The Ed25519 implementation the evaluation verifies with. */
  verifier: Ed25519Verifier;
  unique_jwts: number;
  /** node:crypto, whichever verifier the evaluation uses: the yardstick the targets were set with. */
  verify_floor_ms: number;
  verify_us: number;
  /** With the evaluation's own verifier (the same figure when that is node:crypto). */
  verify_floor_used_ms: number;
}

/** This thread's CPU time in ms (process.threadCpuUsage: Node 23.9 and later). */
function threadCpuMs(): number {
  const usage = (process as { threadCpuUsage?: () => NodeJS.CpuUsage }).threadCpuUsage?.();
  return usage ? (usage.user + usage.system) / 1000 : Number.NaN;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

function measureFull(d: Deployment, now: number): FullResult {
  const jwts = new Map(d.accounts.map((a) => [a.id, a.jwt]));
  const cpu0 = threadCpuMs();
  const all0 = process.cpuUsage();
  const t0 = performance.now();
  const trust = new OperatorTrust();
  trust.addOperator(d.operator.jwt);
  const monitor = new ImportMonitor(trust, 7 * 86_400, startLoadVerifier);
  monitor.replaceAll(jwts, now);
  const fullMs = performance.now() - t0;
  const all = process.cpuUsage(all0);
  const loadingCpuMs = threadCpuMs() - cpu0;

  const causes: Record<string, number> = {};
  for (const diag of monitor.diagnoses()) causes[diag.cause ?? "active"] = (causes[diag.cause ?? "active"] ?? 0) + 1;
  const hash = createHash("sha256");
  for (const [key, diag] of monitor.keyed().sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
    hash.update(key).update(JSON.stringify(diag));
  const digest = hash.digest("hex");

  // The hub changes: each variant revokes the token of another importer (a real, new JWT each time).
  const times: number[] = [];
  const evaluated: number[] = [];
  let changes = 0;
  for (const jwt of [...d.hub.variants, d.accounts.find((a) => a.id === d.hub.id)!.jwt]) {
    const before = monitor.importsEvaluated;
    const t = performance.now();
    const c = monitor.applyAccount(d.hub.id, jwt, now);
    times.push(performance.now() - t);
    evaluated.push(monitor.importsEvaluated - before);
    changes += c.length;
  }
  return {
    accounts: jwts.size,
    imports: monitor.diagnosisCount(),
    full_eval_ms: fullMs,
    full_eval_cpu_ms: loadingCpuMs,
    full_eval_process_cpu_ms: (all.user + all.system) / 1000,
    causes,
    incremental_ms: median(times),
    incremental_evaluated: median(evaluated),
    incremental_changes: changes / times.length,
    digest,
  };
}

const ROLE_PREFIX: Record<string, Prefix> = { O: Prefix.Operator, A: Prefix.Account, U: Prefix.User };
const SPKI_ED25519_PREFIX = Buffer.from("302a300506032b6570032100", "hex");

interface Signed {
  data: Buffer;
  signature: Buffer;
  key: KeyObject;
  raw: Uint8Array;
}

/** Every unique JWT of the deployment, ready to verify. */
function uniqueJwts(d: Deployment): Signed[] {
  const tokens = new Set<string>([d.operator.jwt]);
  for (const a of d.accounts) {
    tokens.add(a.jwt);
    const claims = JSON.parse(Buffer.from(a.jwt.split(".")[1]!, "base64url").toString("utf8")) as {
      nats?: { imports?: { token?: string }[] };
    };
    for (const imp of claims.nats?.imports ?? []) if (imp.token) tokens.add(imp.token);
  }
  const keys = new Map<string, { raw: Uint8Array; object: KeyObject }>();
  const out: Signed[] = [];
  for (const token of tokens) {
    const [h, p, s] = token.split(".") as [string, string, string];
    const iss = (JSON.parse(Buffer.from(p, "base64url").toString("utf8")) as { iss: string }).iss;
    let key = keys.get(iss);
    if (!key) {
      const raw = Codec.decode(ROLE_PREFIX[iss[0]!]!, new TextEncoder().encode(iss));
      key = {
        raw,
        object: createPublicKey({ key: Buffer.concat([SPKI_ED25519_PREFIX, raw]), format: "der", type: "spki" }),
      };
      keys.set(iss, key);
    }
    out.push({ data: Buffer.from(`${h}.${p}`), signature: Buffer.from(s, "base64url"), key: key.object, raw: key.raw });
  }
  return out;
}

interface Sodium {
  crypto_sign_verify_detached(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean;
}

/** The median of three passes verifying every JWT, in ms. */
function floorPasses(signed: Signed[], verifyOne: (s: Signed) => boolean): number {
  const passes: number[] = [];
  for (let pass = 0; pass < 3; pass++) {
    const t = performance.now();
    let ok = 0;
    for (const s of signed) if (verifyOne(s)) ok++;
    passes.push(performance.now() - t);
    if (ok !== signed.length) throw new Error(`only ${ok} of ${signed.length} signatures verify`);
  }
  return median(passes);
}

function measureFloor(d: Deployment): FloorResult {
  const signed = uniqueJwts(d);
  const verifier = ed25519Verifier();
  const ms = floorPasses(signed, (s) => verify(null, s.data, s.key, s.signature));
  let usedMs = ms;
  if (verifier === "sodium-native") {
    const sodium = createRequire(import.meta.url)("sodium-native") as Sodium;
    usedMs = floorPasses(signed, (s) => sodium.crypto_sign_verify_detached(s.signature, s.data, s.raw));
  }
  return {
    verifier,
    unique_jwts: signed.length,
    verify_floor_ms: ms,
    verify_us: (ms * 1000) / signed.length,
    verify_floor_used_ms: usedMs,
  };
}

export function runCold(input: ColdInput): FullResult | FloorResult {
  const d = JSON.parse(readFileSync(input.cachePath, "utf8")) as Deployment;
  if (input.measure === "floor") return measureFloor(d);
  if (input.measure === "serial") setVerificationWorkers(0);
  return measureFull(d, input.now);
}

if (parentPort && workerData && (workerData as { bench?: string }).bench === "cold") {
  parentPort.postMessage(runCold((workerData as { input: ColdInput }).input));
}
