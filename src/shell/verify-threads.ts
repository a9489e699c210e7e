/**
 * Cold verification on every core. Loading a whole deployment is dominated by Ed25519 verification:
 * one per account JWT and one per activation token inside it. A first load hands its checks to the
 * threads as it makes them and goes on as if each held (DeferringVerifier, below). A later large
 * load (ParallelVerifier): while this thread upserts the account JWTs in order, worker threads
 * verify the same JWTs and their tokens from the last account backwards. Each account (with its tokens) is done by exactly one side, claimed through shared
 * memory; for the accounts a worker did, this thread decodes with the worker's verdict — what
 * verifyEd25519 returned there for the very same bytes — and does not verify again. Results are
 * therefore identical to a single-threaded load; only the wall time changes.
 *
 * It lives in the shell (threads are I/O the core does not do) and reaches the core only through
 * the AheadVerifier interface the monitor is given (with its DeferredChecks), and decodeJwtVerified.
 *
 * It is an optimisation only: without a second core, below MIN_ACCOUNTS, when the compiled worker
 * is absent (running from TypeScript sources), or if a worker fails, this thread verifies itself.
 */
import { existsSync } from "node:fs";
import { availableParallelism } from "node:os";
import { fileURLToPath } from "node:url";
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from "node:worker_threads";
import {
  decodeJwtVerified,
  decodeUncached,
  type AheadVerifier,
  type DeferredChecks,
  type SignatureCheck,
} from "../core/jwt/decode.js";
import { ed25519Verifier, verifyEd25519, type Ed25519Verifier } from "../core/jwt/ed25519.js";

/** Per-account states in the shared array. */
export const FREE = 0;
export const OURS = 1;
export const THEIRS = 2;
export const DONE = 3;
/** Shared Int32Array layout: [0] next account index for the workers (counting down), [1] stop flag, [2 + i] state of account i. */
export const NEXT = 0;
export const STOP = 1;
export const HEADER = 2;

/** Signature result bytes: the signature verified, it did not, or it was never checked (the JWT fails before). */
export const VERDICT_FALSE = 0;
export const VERDICT_TRUE = 1;
export const VERDICT_NONE = 2;

/** The compiled worker, or null (running from TypeScript sources: no thread starts). */
function workerUrl(): URL | null {
  const url = new URL("./verify-worker.js", import.meta.url);
  return url.protocol === "file:" && existsSync(fileURLToPath(url)) ? url : null;
}

/**
 * The verification threads of a load (the monitor's StartAheadVerifier): for a first load
 * (`deferrable`), threads that take its signature checks as it makes them (DeferringVerifier);
 * else threads that verify whole accounts from the end of the load (ParallelVerifier). Null when
 * threads would not pay or cannot start: this thread verifies everything.
 */
export function startLoadVerifier(jwts: readonly string[], deferrable: boolean): AheadVerifier | null {
  if (!deferrable) return ParallelVerifier.start(jwts);
  if (maxWorkers === 0 || jwts.length < MIN_ACCOUNTS) return null;
  const url = workerUrl();
  return url ? DeferringVerifier.start(url, jwts.length) : null;
}

/** Below this many accounts a thread costs more than it saves. */
/**
 * Start maxWorkers verification threads, each with its end of a channel; null (every thread
 * stopped) when one cannot start: this thread then verifies alone.
 */
function startWorkers(
  url: URL,
  shared: Int32Array,
  inputOf: (port: MessagePort) => VerifierInput | DeferredInput,
): { ports: MessagePort[]; workers: Worker[] } | null {
  const ports: MessagePort[] = [];
  const workers: Worker[] = [];
  try {
    for (let n = 0; n < maxWorkers; n++) {
      const { port1, port2 } = new MessageChannel();
      const worker = new Worker(url, { workerData: inputOf(port2), transferList: [port2] });
      // A worker that fails only means this thread verifies more.
      worker.on("error", () => {});
      worker.unref();
      ports.push(port1);
      workers.push(worker);
    }
  } catch {
    Atomics.store(shared, STOP, 1);
    for (const w of workers) void w.terminate();
    for (const p of ports) p.close();
    return null;
  }
  return { ports, workers };
}

export const MIN_ACCOUNTS = 64;
/** How long to wait for a worker to finish an account before verifying it here instead. */
const WAIT_MS = 2_000;

let maxWorkers = Math.max(0, Math.min(availableParallelism() - 1, 3));

/** How many verification threads a load may start. */
export function verificationWorkers(): number {
  return maxWorkers;
}

/** How many verification threads a load may start (0: verify on the calling thread only). */
export function setVerificationWorkers(n: number): void {
  maxWorkers = Math.max(0, Math.floor(n));
}

/** The activation tokens of an account JWT's (decoded) claims, in declaration order. Both sides walk this list. */
export function embeddedTokens(payload: Record<string, unknown>): string[] {
  const nats = payload["nats"];
  const imports = nats !== null && typeof nats === "object" ? (nats as Record<string, unknown>)["imports"] : undefined;
  if (!Array.isArray(imports)) return [];
  const tokens: string[] = [];
  for (const imp of imports) {
    const token = imp !== null && typeof imp === "object" ? (imp as Record<string, unknown>)["token"] : undefined;
    if (typeof token === "string" && token !== "") tokens.push(token);
  }
  return tokens;
}

export interface VerifierInput {
  mode: "bundles";
  jwts: readonly string[];
  /** The loading thread's verifier: the threads verify with the same one. */
  verifier: Ed25519Verifier;
  shared: Int32Array;
  port: MessagePort;
}

/** One verified account, as a worker posts it: the account JWT's verdict, then each token's. */
export interface VerifiedBundle {
  i: number;
  verdicts: Uint8Array;
}

export class ParallelVerifier implements AheadVerifier {
  private readonly received = new Map<number, Uint8Array>();
  private stopped = false;
  /** Accounts whose verdicts came from a worker. */
  private fromWorkers = 0;

  private constructor(
    private readonly jwts: readonly string[],
    private readonly shared: Int32Array,
    private readonly ports: MessagePort[],
    private readonly workers: Worker[],
  ) {}

  /**
   * Start verifying `jwts` (account JWTs, exactly as they will be decoded, in the order they will
   * be) on other threads; null when that would not pay or is not possible.
   */
  static start(jwts: readonly string[]): ParallelVerifier | null {
    if (maxWorkers === 0 || jwts.length < MIN_ACCOUNTS) return null;
    const url = workerUrl();
    if (!url) return null;
    const shared = new Int32Array(new SharedArrayBuffer(4 * (HEADER + jwts.length)));
    shared[NEXT] = jwts.length;
    const started = startWorkers(url, shared, (port): VerifierInput => ({
      mode: "bundles",
      jwts,
      verifier: ed25519Verifier(),
      shared,
      port,
    }));
    return started && new ParallelVerifier(jwts, shared, started.ports, started.workers);
  }

  /**
   * Call before account `i` is decoded on this thread. Either the account was not taken (this
   * thread verifies it, as usual), or a worker has it: wait for its verdicts and put the decoded
   * JWTs into the memo.
   */
  settle(i: number): void {
    if (this.stopped) return;
    const at = HEADER + i;
    if (Atomics.compareExchange(this.shared, at, FREE, OURS) === FREE) return;
    if (Atomics.load(this.shared, at) === THEIRS && Atomics.wait(this.shared, at, THEIRS, WAIT_MS) === "timed-out") {
      this.stop();
      return;
    }
    const verdicts = this.verdictsOf(i);
    if (verdicts) {
      this.fromWorkers++;
      fileVerdicts(this.jwts[i]!, verdicts);
    }
  }

  /** How the work was shared: accounts in all, and those verified by a worker. */
  get share(): { accounts: number; byWorkers: number; workers: number } {
    return { accounts: this.jwts.length, byWorkers: this.fromWorkers, workers: this.workers.length };
  }

  /** Stop the workers (idempotent); anything not settled yet is verified on this thread. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    Atomics.store(this.shared, STOP, 1);
    for (const w of this.workers) void w.terminate();
    for (const p of this.ports) p.close();
    this.received.clear();
  }

  private verdictsOf(i: number): Uint8Array | undefined {
    for (let attempt = 0; attempt < 50; attempt++) {
      const known = this.received.get(i);
      if (known) {
        this.received.delete(i);
        return known;
      }
      let drained = false;
      for (const port of this.ports) {
        for (let m = receiveMessageOnPort(port); m; m = receiveMessageOnPort(port)) {
          const bundle = m.message as VerifiedBundle;
          this.received.set(bundle.i, bundle.verdicts);
          drained = true;
        }
      }
      // A worker posts before it marks the account done, so this should never wait.
      if (!drained) Atomics.wait(this.shared, STOP, 0, 1);
    }
    return undefined;
  }
}

/** On a verification thread: decode as the loading thread will, recording what the signature check said (not memoised). */
function verdictOf(token: string): { verdict: number; payload: Record<string, unknown> | null } {
  let verdict = VERDICT_NONE;
  const check: SignatureCheck = (issuer, raw, signed, signature) => {
    const ok = verifyEd25519(issuer, raw, Buffer.from(signed, "utf8"), signature);
    verdict = ok ? VERDICT_TRUE : VERDICT_FALSE;
    return ok;
  };
  const result = decodeUncached(token, check);
  return { verdict, payload: result.ok ? result.jwt.payload : null };
}

/** On a verification thread: the verdicts of an account JWT, then of each token inside it. */
export function verifyBundle(jwt: string): Uint8Array {
  const account = verdictOf(jwt);
  const verdicts = [account.verdict];
  for (const token of account.payload ? embeddedTokens(account.payload) : []) verdicts.push(verdictOf(token).verdict);
  return Uint8Array.from(verdicts);
}

/** On the loading thread: decode an account JWT and its tokens with the verdicts a worker found for the very same bytes. */
export function fileVerdicts(jwt: string, verdicts: Uint8Array): void {
  const own = verdicts[0];
  if (own !== VERDICT_TRUE && own !== VERDICT_FALSE) return;
  const account = decodeJwtVerified(jwt, own === VERDICT_TRUE);
  if (!account.ok) return;
  const tokens = embeddedTokens(account.jwt.payload);
  if (tokens.length !== verdicts.length - 1) return;
  tokens.forEach((token, k) => {
    const v = verdicts[k + 1];
    if (v === VERDICT_TRUE || v === VERDICT_FALSE) decodeJwtVerified(token, v === VERDICT_TRUE);
  });
}

/** Signature checks handed to a verification thread at a time. */
export const CHECK_BATCH = 128;

export interface DeferredInput {
  mode: "checks";
  verifier: Ed25519Verifier;
  /** [STOP], then the state of batch b at HEADER + b (FREE, THEIRS, DONE; OURS once this thread took it). */
  shared: Int32Array;
  port: MessagePort;
}

/**
 * Signature checks as the loading thread makes them, without their JWTs: the signing input, the
 * issuer (node:crypto's key cache is keyed by it), the raw key (32 bytes each) and the signature
 * (64 bytes each). Packed, since a typed array is posted with its whole buffer.
 */
export interface CheckBatch {
  b: number;
  signed: string[];
  issuers: string[];
  keys: Uint8Array;
  signatures: Uint8Array;
}

/** A batch's verdicts: 1 where the signature held, 0 where it did not. */
export interface CheckVerdicts {
  b: number;
  verdicts: Uint8Array;
}

function emptyBatch(b: number): CheckBatch {
  return {
    b,
    signed: [],
    issuers: [],
    keys: new Uint8Array(32 * CHECK_BATCH),
    signatures: new Uint8Array(64 * CHECK_BATCH),
  };
}

/** The verdicts of a batch's checks, on whichever thread (the same verifyEd25519 on both). */
export function verifyChecks(batch: CheckBatch): Uint8Array {
  const verdicts = new Uint8Array(batch.signed.length);
  for (let k = 0; k < batch.signed.length; k++) {
    const raw = batch.keys.subarray(32 * k, 32 * k + 32);
    const signature = batch.signatures.subarray(64 * k, 64 * k + 64);
    const data = Buffer.from(batch.signed[k]!, "utf8");
    verdicts[k] = verifyEd25519(batch.issuers[k]!, raw, data, signature) ? 1 : 0;
  }
  return verdicts;
}

/**
 * The first load's checks, verified on other threads while the load goes on (docs/decisions.md 39).
 * Each check the load makes is taken (returning true: the decoding goes on as if it held) and
 * posted in batches of CHECK_BATCH; the threads verify them in order while this thread decodes and
 * evaluates. allHeld() then verifies here, from the last batch backwards, whatever no thread has
 * started, waits for the rest, and says whether every signature held: if one did not, the monitor
 * forgets the load and does it again, verifying as usual. A batch is verified by exactly one side,
 * claimed through shared memory; a thread that fails or stalls past WAIT_MS leaves its batches to
 * this one.
 */
export class DeferringVerifier implements AheadVerifier, DeferredChecks {
  readonly deferred: DeferredChecks = this;
  private open = emptyBatch(0);
  /** Batches posted whose verdicts have not come back. */
  private readonly outstanding = new Map<number, CheckBatch>();
  private failed = false;
  private stopped = false;
  private checks = 0;
  private checkedHere = 0;

  private constructor(
    private readonly shared: Int32Array,
    private readonly capacity: number,
    private readonly ports: MessagePort[],
    private readonly workers: Worker[],
  ) {}

  static start(url: URL, accounts: number): DeferringVerifier | null {
    // Room for far more batches than a load of this many accounts makes; past it, this thread verifies.
    const capacity = Math.max(1024, accounts);
    const shared = new Int32Array(new SharedArrayBuffer(4 * (HEADER + capacity)));
    const started = startWorkers(url, shared, (port): DeferredInput => ({
      mode: "checks",
      verifier: ed25519Verifier(),
      shared,
      port,
    }));
    return started && new DeferringVerifier(shared, capacity, started.ports, started.workers);
  }

  /** Nothing to settle per account: the checks are taken as they come. */
  settle(): void {}

  /** Take a check: true, to be confirmed by allHeld(); false at once for one that cannot hold. */
  readonly check: SignatureCheck = (issuer, raw, signed, signature) => {
    if (signature.length !== 64 || raw.length !== 32) return false;
    if (this.stopped) return verifyEd25519(issuer, raw, Buffer.from(signed, "utf8"), signature);
    const batch = this.open;
    const k = batch.signed.length;
    batch.signed.push(signed);
    batch.issuers.push(issuer);
    batch.keys.set(raw, 32 * k);
    batch.signatures.set(signature, 64 * k);
    this.checks++;
    if (k + 1 === CHECK_BATCH) this.post();
    return true;
  };

  /** Wait until every check taken is verified; true when every signature held. */
  allHeld(): boolean {
    if (this.stopped) throw new Error("the verification threads were stopped before the checks were confirmed");
    this.collect();
    if (this.open.signed.length > 0) this.verifyHere(this.open);
    this.open = emptyBatch(this.open.b + 1);
    for (const b of [...this.outstanding.keys()].sort((x, y) => y - x)) {
      if (this.failed) return false;
      if (Atomics.compareExchange(this.shared, HEADER + b, FREE, OURS) === FREE)
        this.verifyHere(this.outstanding.get(b)!);
    }
    for (const [b, batch] of this.outstanding) {
      if (this.failed) return false;
      if (!this.awaitVerdicts(b)) this.verifyHere(batch);
    }
    return !this.failed;
  }

  /** How the work was shared: checks in all, and those verified on this thread. */
  get share(): { checks: number; checkedHere: number; workers: number } {
    return { checks: this.checks, checkedHere: this.checkedHere, workers: this.workers.length };
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    Atomics.store(this.shared, STOP, 1);
    for (const w of this.workers) void w.terminate();
    for (const p of this.ports) p.close();
    this.outstanding.clear();
  }

  private post(): void {
    const batch = this.open;
    this.open = emptyBatch(batch.b + 1);
    if (batch.b >= this.capacity) {
      this.verifyHere(batch);
      return;
    }
    this.outstanding.set(batch.b, batch);
    this.ports[batch.b % this.ports.length]!.postMessage(batch);
    this.collect();
  }

  private verifyHere(batch: CheckBatch): void {
    this.outstanding.delete(batch.b);
    // One failure is enough to redo the load: what is left need not be verified.
    if (this.failed) return;
    this.checkedHere += batch.signed.length;
    if (verifyChecks(batch).includes(0)) this.failed = true;
  }

  /** File the verdicts the threads have posted (without waiting). */
  private collect(): void {
    for (const port of this.ports) {
      for (let m = receiveMessageOnPort(port); m; m = receiveMessageOnPort(port)) {
        const { b, verdicts } = m.message as CheckVerdicts;
        const batch = this.outstanding.get(b);
        if (!batch) continue;
        this.outstanding.delete(b);
        if (verdicts.length !== batch.signed.length || verdicts.includes(0)) this.failed = true;
      }
    }
  }

  /** Wait for a thread's verdicts on batch b; false when it stalled (or failed): verify here. */
  private awaitVerdicts(b: number): boolean {
    for (let attempt = 0; attempt < 50; attempt++) {
      this.collect();
      if (!this.outstanding.has(b)) return true;
      const state = Atomics.load(this.shared, HEADER + b);
      if (state === THEIRS && Atomics.wait(this.shared, HEADER + b, THEIRS, WAIT_MS) === "timed-out") return false;
      // A thread posts before it marks the batch done, so this should never wait.
      if (state === DONE) Atomics.wait(this.shared, STOP, 0, 1);
    }
    return false;
  }
}
