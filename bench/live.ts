/**
 * The live measurements: a real nats-server (operator mode, full resolver) whose resolver directory
 * is filled with every account JWT before it starts, and the real service (`node dist/src/main.js`,
 * a child process) that loads them all. Then:
 *
 *  - push → event: the hub exporter's JWT is pushed on `$SYS.REQ.CLAIMS.UPDATE` (each version
 *    revokes the token of another of its 100 importers); the time from the push to the matching
 *    `insights.events.imports.<importer>` event (cause `activation_revoked`), once the start-up's
 *    own events (published after the service answers) are out and the service answers again;
 *  - check: `insights.imports.check` for one account, open loop at a fixed rate (1,000 requests/s),
 *    bounded in count and time; the latency of each request from the moment it was sent;
 *  - the service's RSS once it has loaded everything (and its peak).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createWriteStream, mkdtempSync, readFileSync, rmSync, writeFileSync, type WriteStream } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { PerformanceObserver } from "node:perf_hooks";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { credsAuthenticator, type Msg, type NatsConnection } from "@nats-io/nats-core";
import { connect } from "@nats-io/transport-node";
import { startServer } from "../test/support/nats-server.js";
import type { Deployment } from "./generate.js";

export interface LiveOptions {
  nodeBin: string;
  mainJs: string;
  serverBin: string;
  pushes: number;
  checkRate: number;
  checkCount: number;
  /** Stop sending check requests after this long, whatever the count. */
  checkMaxMs: number;
  /** The service's --request-timeout-ms (its server cross-check waits min(this, 500) ms per batch of 16 accounts). */
  serviceRequestTimeoutMs: number;
  /** Give up waiting for the service to load after this long. */
  startTimeoutMs: number;
  /** How long to watch the idle service's RSS settle after its load. */
  settleMs: number;
  /** Extra node flags for the service (e.g. --cpu-prof, to see where its time goes). */
  serviceNodeArgs?: string[];
  /** Extra arguments for the service (after the bench's own). */
  serviceArgs?: string[];
  /** A file to which the service's whole output (its log) is written, besides the tail kept for errors. */
  serviceLog?: string;
  /** Working directory of the service (where --cpu-prof writes). */
  serviceCwd?: string;
  /**
   * Called once the idle service's RSS has settled, before the pushes (bench/heap.ts takes its heap
   * snapshot here); `answered` resolves when the service answers a check again (its main thread is free).
   */
  atSettled?: (pid: number, answered: () => Promise<void>) => Promise<void>;
  /** Called with the service's and nats-server's process ids once the service runs (bench/startup.ts samples their threads' CPU). */
  atSpawned?: (pids: { service: number; server: number }) => void;
  /** Stop once the start-up's events are out and the service answers again: no pushes, checks or settling (bench/startup.ts). */
  startOnly?: boolean;
  /** Each start-up event as it comes (its subject and payload; bench/startup.ts --events-hash). */
  onStartEvent?: (subject: string, payload: string) => void;
  /** Each push's timeline (PushTimeline), one JSON line per push, is written here. */
  pushTimeline?: string;
  log: (line: string) => void;
}

export interface LiveResult {
  /** Accounts and imports the service loaded: the resolver does not serve expired account JWTs. */
  service_accounts: number;
  service_imports: number;
  /** From spawning the service to its first check reply (it registers after the full load). */
  service_start_ms: number;
  /** Once settled: the lowest RSS while the service sat idle after its load (at most settleMs). */
  rss_mb: number;
  /** Right after the load, and the peak (VmHWM). */
  rss_ready_mb: number;
  rss_peak_mb: number;
  push_event_p50_ms: number;
  push_event_p99_ms: number;
  push_event_max_ms: number;
  pushes: number;
  /** Pushes whose event took longer than 50 ms. */
  push_event_over_50ms: number;
  check_p50_ms: number;
  check_p99_ms: number;
  check_max_ms: number;
  check_sent: number;
  /** Requests without a reply in time (counted at the timeout in the percentiles) or answered with an error. */
  check_failed: number;
  /** The achieved send rate, requests/s. */
  check_rate: number;
  /** One request at a time: the median service time of a single check. */
  check_serial_p50_ms: number;
}

const CHECK_TIMEOUT_MS = 5_000;
/** The start-up's events are out once none has come for this long. */
const START_EVENTS_QUIET_MS = 3_000;
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * The processes the bench's own tools run (heap, heap-trace, push, startup): this Node, the built
 * service (or `main`) and the pinned nats-server (NATS_SERVER_BIN overrides it).
 */
export function builtParts(main?: string): Pick<LiveOptions, "nodeBin" | "mainJs" | "serverBin"> {
  const root = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
  return {
    nodeBin: process.execPath,
    mainJs: resolve(main ?? join(root, "dist", "src", "main.js")),
    serverBin: process.env["NATS_SERVER_BIN"] ?? join(root, ".tools", "bin", "nats-server"),
  };
}

/** No pushes and no checks: a run that watches the start-up or the idle service alone. */
export const NO_TRAFFIC = { pushes: 0, checkRate: 1000, checkCount: 0, checkMaxMs: 0 } as const;

/**
 * The node flags the service runs with wherever it is launched (package.json's start script, the
 * Dockerfile, the systemd unit; test/unit/launchers.test.ts checks they agree): a young generation
 * of at most 2 x 16 MB (docs/decisions.md 40).
 */
export const SERVICE_NODE_FLAGS = ["--max-semi-space-size=16"];

/**
 * The environment the glibc launchers (package.json's start script, the systemd unit) give the
 * service unless the operator sets it: malloc maps every block of 128 kB or more on its own and
 * unmaps it when freed, instead of raising that threshold as blocks are freed and keeping the
 * freed memory (docs/decisions.md 40). The container's Alpine image has musl, whose malloc reads
 * no such setting.
 */
export const SERVICE_ENV = { GLIBC_TUNABLES: "glibc.malloc.mmap_threshold=131072" } as const;

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}

/** Children of this process, killed if the benchmark dies. */
const children = new Set<ChildProcess>();
let hooked = false;
function track(child: ChildProcess): void {
  children.add(child);
  child.once("exit", () => children.delete(child));
  if (hooked) return;
  hooked = true;
  process.on("exit", () => {
    for (const c of children) c.kill("SIGKILL");
  });
  for (const sig of ["SIGINT", "SIGTERM"] as const) {
    process.once(sig, () => {
      for (const c of children) c.kill("SIGKILL");
      process.exit(130);
    });
  }
}

async function stopChild(child: ChildProcess, graceMs = 5_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  child.kill("SIGTERM");
  const done = await Promise.race([exited.then(() => true), sleep(graceMs).then(() => false)]);
  if (!done) {
    child.kill("SIGKILL");
    await exited;
  }
}

/** The service's resident set size and its peak, MB (Linux /proc; `ps` elsewhere, without the peak). */
export function rssOf(pid: number): { rss: number; peak: number } {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? Number.NaN);
    return { rss: kb("VmRSS") / 1024, peak: kb("VmHWM") / 1024 };
  } catch {
    return { rss: Number.NaN, peak: Number.NaN };
  }
}

function claimsOf(jwt: string): { exp?: number; nats?: { imports?: unknown[] } } {
  return JSON.parse(Buffer.from(jwt.split(".")[1]!, "base64url").toString("utf8")) as {
    exp?: number;
    nats?: { imports?: unknown[] };
  };
}
const expiredJwt = (jwt: string, now: number) => {
  const exp = claimsOf(jwt).exp ?? 0;
  return exp > 0 && exp <= now;
};
const importCount = (jwt: string) => claimsOf(jwt).nats?.imports?.length ?? 0;

function isError(msg: Msg): boolean {
  return (
    msg.headers?.get("Nats-Service-Error-Code") !== undefined && msg.headers?.get("Nats-Service-Error-Code") !== ""
  );
}

/**
 * The accounts the full resolver serves, and the imports they declare (it does not serve JWTs that
 * have already expired: those accounts do not exist for the service). A function of its own so that
 * its lists (100,000 ids, the accounts) are garbage once it returns.
 */
async function servedCounts(nc: NatsConnection, accounts: Deployment["accounts"]) {
  const list = await nc.request("$SYS.REQ.CLAIMS.LIST", undefined, { timeout: 10_000 + 3 * accounts.length });
  const listed = new Set(list.json<{ data?: string[] }>().data ?? []);
  const served = accounts.filter((a) => listed.has(a.id));
  const expired = accounts.filter((a) => !listed.has(a.id) && expiredJwt(a.jwt, Date.now() / 1000));
  if (served.length + expired.length !== accounts.length) {
    throw new Error(
      `the resolver lists ${listed.size} accounts; ${accounts.length} were written to its directory, ${expired.length} of them expired`,
    );
  }
  return { accounts: served.length, imports: served.reduce((n, a) => n + importCount(a.jwt), 0) };
}

/**
 * `d.accounts` is emptied once the server has them (the caller gives them up): what the bench
 * process keeps during the pushes and checks is its own heap's work, measured with the service's.
 */
export async function runLive(d: Deployment, opts: LiveOptions): Promise<LiveResult> {
  // The test harness's server, with every account JWT already in the full resolver's store.
  const server = await startServer(
    { jwt: d.operator.jwt, system: d.system },
    // The server reads every stored JWT before it is ready: its time grows with their number.
    { bin: opts.serverBin, stored: d.accounts, debug: false, readyTimeoutMs: 20_000 + 3 * d.accounts.length },
  );
  const work = mkdtempSync(join(tmpdir(), "nats-insights-bench-svc-"));
  const credsPath = join(work, "sys.creds");
  writeFileSync(credsPath, d.systemCreds, { mode: 0o600 });
  let service: ChildProcess | null = null;
  let logTo: WriteStream | null = null;
  let nc: NatsConnection | null = null;
  try {
    nc = await connect({
      servers: server.url,
      authenticator: credsAuthenticator(new TextEncoder().encode(d.systemCreds)),
      reconnect: false,
      timeout: 5_000,
      name: "insights-bench",
    });
    const { accounts: servedAccounts, imports: servedImports } = await servedCounts(nc, d.accounts);
    // The server has the JWTs now. Released here, in place (the caller gives them up; the server's
    // handle keeps its options): at 100,000 accounts they are most of the bench's own heap.
    d.accounts.length = 0;

    // The service, as `npm start` runs it. No epoch during the run: the measurements stay apart from resyncs.
    const args = [
      opts.mainJs,
      "--nats-url",
      server.url,
      "--creds",
      credsPath,
      "--epoch",
      "86400",
      "--log-level",
      "warn",
      "--request-timeout-ms",
      String(opts.serviceRequestTimeoutMs),
      ...(opts.serviceArgs ?? []),
    ];
    // The start-up's events (one per import that is not active) go out after the service answers:
    // the pushes are measured once they are out, not behind them.
    let lastEventAt = 0;
    let startEvents = 0;
    const startSub = nc.subscribe("insights.events.imports.>", {
      callback: (_err, msg) => {
        if (opts.onStartEvent && msg) opts.onStartEvent(msg.subject, msg.string());
        startEvents++;
        lastEventAt = performance.now();
      },
    });
    await nc.flush();
    const t0 = performance.now();
    // The node flags and environment every launcher gives the service (package.json's start, the Dockerfile, the systemd unit).
    service = spawn(opts.nodeBin, [...SERVICE_NODE_FLAGS, ...(opts.serviceNodeArgs ?? []), ...args], {
      stdio: ["ignore", "pipe", "pipe"],
      // As the launchers do: their environment, unless the caller's own says otherwise.
      env: { ...SERVICE_ENV, ...process.env },
      ...(opts.serviceCwd ? { cwd: opts.serviceCwd } : {}),
    });
    track(service);
    opts.atSpawned?.({ service: service.pid!, server: server.pid });
    let output = "";
    logTo = opts.serviceLog ? createWriteStream(opts.serviceLog) : null;
    const keep = (b: Buffer) => {
      logTo?.write(b);
      output = (output + b.toString()).slice(-8_000);
    };
    service.stdout!.on("data", keep);
    service.stderr!.on("data", keep);

    const checkBody = JSON.stringify({ account: d.checkAccount });
    for (;;) {
      if (service.exitCode !== null)
        throw new Error(`the service exited (${service.exitCode}) while loading:\n${output}`);
      if (performance.now() - t0 > opts.startTimeoutMs)
        throw new Error(`the service did not answer within ${opts.startTimeoutMs} ms:\n${output}`);
      const reply = await nc.request("insights.imports.check", checkBody, { timeout: 1_000 }).catch(() => null);
      if (reply && !isError(reply)) break;
      await sleep(100);
    }
    const serviceStartMs = performance.now() - t0;
    opts.log(`    service loaded ${servedAccounts} accounts in ${(serviceStartMs / 1000).toFixed(1)} s`);
    while (performance.now() - Math.max(lastEventAt, t0 + serviceStartMs) < START_EVENTS_QUIET_MS) {
      if (performance.now() - t0 > opts.startTimeoutMs)
        throw new Error(`the service's start-up events were still coming after ${opts.startTimeoutMs} ms`);
      await sleep(100);
    }
    startSub.unsubscribe();
    // Then the service collects the garbage of publishing them (src/app.ts): a reply comes after it.
    await nc.request("insights.imports.check", checkBody, { timeout: opts.startTimeoutMs });
    opts.log(
      `    ${startEvents} start-up events, the last ${((lastEventAt - t0 - serviceStartMs) / 1000).toFixed(1)} s after the first reply`,
    );
    if (opts.startOnly) return startOnly(servedAccounts, servedImports, serviceStartMs, service.pid!);
    // The summary of every import (a full pass: at 100,000 accounts on the loaded machine it waited out a 30 s time-out behind a collection).
    const all = (
      await nc.request("insights.imports.check", JSON.stringify({ limit: 1 }), { timeout: opts.startTimeoutMs })
    ).json<{
      summary: { imports: number };
    }>();
    if (all.summary.imports !== servedImports)
      throw new Error(
        `the service reports ${all.summary.imports} imports, the resolver's accounts declare ${servedImports}`,
      );
    // V8 keeps the garbage of the load until its memory reducer runs, once the process has been
    // quiet for a while (~20-30 s here): RSS right after the load and once settled both count.
    const readyRss = rssOf(service.pid!);
    let settled = readyRss.rss;
    for (let waited = 0, stable = 0; waited < opts.settleMs && stable < 3; waited += 1_000) {
      await sleep(1_000);
      const now = rssOf(service.pid!).rss;
      stable = now < readyRss.rss * 0.85 && Math.abs(now - settled) < 2 ? stable + 1 : 0;
      settled = Math.min(settled, now);
    }
    const rss = { rss: settled, ready: readyRss.rss, peak: rssOf(service.pid!).peak };
    if (opts.atSettled) {
      const conn = nc;
      await opts.atSettled(service.pid!, async () => {
        await conn.request("insights.imports.check", checkBody, { timeout: 900_000 });
      });
    }

    const push = await measurePushes(nc, d, opts.pushes, service.pid!);
    if (push.slow.length > 0) {
      opts.log(`    pushes slower than 50 ms: ${push.slow.map((x) => x.toFixed(0)).join(", ")} ms`);
      for (const t of push.timelines.filter((x) => x.event_ms > 50)) opts.log(`      ${describePush(t)}`);
    }
    if (opts.pushTimeline)
      writeFileSync(opts.pushTimeline, push.timelines.map((t) => JSON.stringify(t)).join("\n") + "\n");
    // The service refreshes the servers' view of each pushed account in the background (≤ 250 ms).
    await sleep(1_000);
    const serial = await measureSerialChecks(nc, checkBody, 50);
    const checkGc = ownCollections();
    const checkStart = performance.now();
    const check = await measureChecks(nc, checkBody, opts);
    await sleep(50);
    checkGc.stop();
    opts.log(`    the bench's own GC during the checks: ${checkGc.describe(checkStart, performance.now())}`);
    return {
      service_accounts: servedAccounts,
      service_imports: servedImports,
      service_start_ms: serviceStartMs,
      rss_mb: rss.rss,
      rss_ready_mb: rss.ready,
      rss_peak_mb: rss.peak,
      push_event_p50_ms: push.push_event_p50_ms,
      push_event_p99_ms: push.push_event_p99_ms,
      push_event_max_ms: push.push_event_max_ms,
      pushes: push.pushes,
      push_event_over_50ms: push.slow.length,
      ...check,
      check_serial_p50_ms: serial,
    };
  } finally {
    if (service) await stopChild(service);
    logTo?.end();
    await nc?.close().catch(() => {});
    await server.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

/** The start-up's figures alone; what was not measured is NaN. */
function startOnly(accounts: number, imports: number, startMs: number, pid: number): LiveResult {
  const rss = rssOf(pid);
  const none = Number.NaN;
  return {
    service_accounts: accounts,
    service_imports: imports,
    service_start_ms: startMs,
    rss_mb: rss.rss,
    rss_ready_mb: rss.rss,
    rss_peak_mb: rss.peak,
    ...{ push_event_p50_ms: none, push_event_p99_ms: none, push_event_max_ms: none, pushes: 0 },
    ...{ push_event_over_50ms: 0, check_p50_ms: none, check_p99_ms: none, check_max_ms: none },
    ...{ check_sent: 0, check_failed: 0, check_rate: none, check_serial_p50_ms: none },
  };
}

/**
 * Push hub versions one after another; each must produce the revoked event of its importer, and
 * (from the second on) the event of the previous importer's return to active. The next push waits
 * for both: the service holds a returning import's verdict until the servers show the new JWT
 * (src/live/verdict-publisher.ts), and a push that revoked it again meanwhile would fold both
 * changes into none (events follow the final verdict, docs/decisions.md 11), which is no latency.
 */
async function measurePushes(nc: NatsConnection, d: Deployment, count: number, pid: number) {
  const expected = new Map<string, { status: string; resolve: (at: number) => void }>();
  // What the service does between the push and its event, as the server relays it: its LOOKUPs of
  // the hub (and whether each answer was the pushed JWT) and its INFO questions about the importer.
  let current: PushTimeline | null = null;
  let sentAt = 0;
  let pushed = "";
  const lookupReplies = new Map<string, number>();
  const since = () => round(performance.now() - sentAt);
  const watch = [
    nc.subscribe(`$SYS.REQ.ACCOUNT.${d.hub.id}.CLAIMS.LOOKUP`, {
      callback: (_err, msg) => {
        if (!current || !msg.reply) return;
        lookupReplies.set(msg.reply, current.lookups.length);
        current.lookups.push({ asked_ms: since(), answered_ms: null, pushed: null });
      },
    }),
    nc.subscribe("_INBOX.>", {
      callback: (_err, msg) => {
        const i = lookupReplies.get(msg.subject);
        if (!current || i === undefined) return;
        lookupReplies.delete(msg.subject);
        const l = current.lookups[i]!;
        l.answered_ms = since();
        l.pushed = msg.string() === pushed;
      },
    }),
    nc.subscribe(`$SYS.REQ.ACCOUNT.*.INFO`, {
      callback: (_err, msg) => {
        if (!current) return;
        current.infos++;
        if (current.info_ms === null && msg.subject.includes(current.importer)) current.info_ms = since();
      },
    }),
  ];
  const sub = nc.subscribe("insights.events.imports.>", {
    callback: (_err, msg) => {
      const at = performance.now();
      const e = msg.json<{ account: string; status: string; cause: string | null }>();
      const wanted = expected.get(e.account);
      const status = e.cause === "activation_revoked" ? "revoked" : e.status;
      if (wanted && wanted.status === status) wanted.resolve(at);
    },
  });
  await nc.flush();
  const benchGc = ownCollections();
  /** Each push's [sent, event] (performance time), for the bench's own collections once they are all reported. */
  const spans: [number, number][] = [];
  const latencies: number[] = [];
  const timelines: PushTimeline[] = [];
  const pushesStart = performance.now();
  const awaitEvent = (account: string, status: string, i: number) =>
    new Promise<number>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no ${status} event for ${account} within 10 s of push ${i}`)),
        10_000,
      );
      expected.set(account, { status, resolve: (at) => (clearTimeout(timer), expected.delete(account), resolve(at)) });
    });
  try {
    for (let i = 0; i < count; i++) {
      const v = i % d.hub.variants.length;
      const account = d.hub.importers[v]!;
      const revoked = awaitEvent(account, "revoked", i);
      const back = i > 0 ? awaitEvent(d.hub.importers[(i - 1) % d.hub.variants.length]!, "active", i) : null;
      const timeline: PushTimeline = {
        push: i,
        importer: account,
        at_ms: round(performance.now() - pushesStart),
        wall_ms: round(performance.timeOrigin + performance.now()),
        ack_ms: null,
        lookups: [],
        info_ms: null,
        infos: 0,
        event_ms: Number.NaN,
        bench_gc_ms: 0,
        load: loadavg()[0]!,
        service_cpu_ms: cpuMsOf(pid),
      };
      current = timeline;
      pushed = d.hub.variants[v]!;
      const t = performance.now();
      sentAt = t;
      const reply = nc.request("$SYS.REQ.CLAIMS.UPDATE", d.hub.variants[v], { timeout: 10_000 }).then((m) => {
        timeline.ack_ms = round(performance.now() - t);
        return m;
      });
      const at = await revoked;
      const r = (await reply).json<{ error?: { description?: string } }>();
      if (r.error) throw new Error(`push rejected: ${r.error.description ?? JSON.stringify(r.error)}`);
      latencies.push(at - t);
      timeline.event_ms = round(at - t);
      spans.push([t, at]);
      timelines.push(timeline);
      await back;
      current = null;
      lookupReplies.clear();
    }
  } finally {
    sub.unsubscribe();
    for (const w of watch) w.unsubscribe();
    // A collection is reported to the observer after it ends, asynchronously.
    await sleep(50);
    benchGc.stop();
  }
  timelines.forEach((tl, k) => (tl.bench_gc_ms = round(benchGc.pausedBetween(...spans[k]!))));
  const slow = latencies.filter((x) => x > 50);
  latencies.sort((a, b) => a - b);
  return {
    slow,
    push_event_p50_ms: percentile(latencies, 50),
    push_event_p99_ms: percentile(latencies, 99),
    push_event_max_ms: latencies[latencies.length - 1] ?? Number.NaN,
    pushes: latencies.length,
    timelines,
  };
}

/**
 * One push as the bench saw it, in ms from the push: the server's reply to it, each LOOKUP of the
 * pushed account the service sent and when its answer passed (`pushed`: whether it was the pushed
 * JWT; a LOOKUP before the server has stored the push gets the previous one and is asked again
 * after CONFIRM_DELAYS_MS), its first INFO question about the importer (asked once the change is
 * evaluated, as its event goes out) and the event. `at_ms`: from the first push; `load`: the
 * 1-minute load average then.
 */
export interface PushTimeline {
  push: number;
  importer: string;
  at_ms: number;
  /** The push's wall clock (ms since the epoch, from this process's time origin). */
  wall_ms: number;
  ack_ms: number | null;
  lookups: { asked_ms: number; answered_ms: number | null; pushed: boolean | null }[];
  info_ms: number | null;
  /** INFO questions the service asked from this push until the next one (its fresh look at the accounts the push touched). */
  infos: number;
  event_ms: number;
  /**
   * The bench process's own collections between the push and its event, ms: the bench's pause is
   * in the latency too (at 100,000 accounts its heap once held every JWT, ~1 GB).
   */
  bench_gc_ms: number;
  load: number;
  /** The service's CPU time (all its threads, ms) when the push was sent: the difference to the next push is this push's work. */
  service_cpu_ms: number;
}

/** A process's CPU time so far (user + system, all threads), ms; NaN where /proc is not there. */
function cpuMsOf(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // Fields 14 and 15 (utime, stime) in clock ticks of 10 ms; fields[0] is field 3.
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return Number.NaN;
  }
}

const round = (ms: number) => Math.round(ms * 10) / 10;

/** This process's garbage collections from now on (performance timestamps), until stop(). */
function ownCollections() {
  const pauses: { start: number; end: number }[] = [];
  const observer = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) pauses.push({ start: e.startTime, end: e.startTime + e.duration });
  });
  observer.observe({ entryTypes: ["gc"] });
  return {
    /** The time (ms) the collections spent between `from` and `to`. */
    pausedBetween: (from: number, to: number) =>
      pauses.reduce((sum, p) => sum + Math.max(0, Math.min(p.end, to) - Math.max(p.start, from)), 0),
    stop: () => observer.disconnect(),
    describe: (from: number, to: number) => {
      const within = pauses.filter((p) => p.end > from && p.start < to).map((p) => p.end - p.start);
      return `${within.length} collections, ${within.reduce((a, b) => a + b, 0).toFixed(0)} ms in all, the longest ${Math.max(0, ...within).toFixed(1)} ms`;
    },
  };
}

/** "push 17 (at 4.2 s): 148 ms; server ack 3.1; LOOKUP 1.2→2.0 old, 7.3→8.0 old, …; INFO 140.2". */
export function describePush(t: PushTimeline): string {
  const lookups = t.lookups
    .map((l) => `${l.asked_ms}→${l.answered_ms ?? "?"} ${l.pushed === null ? "?" : l.pushed ? "new" : "old"}`)
    .join(", ");
  return (
    `push ${t.push} (at ${(t.at_ms / 1000).toFixed(1)} s, load ${t.load.toFixed(1)}): ${t.event_ms} ms; ` +
    `server ack ${t.ack_ms ?? "?"}; LOOKUP ${lookups || "none seen"}; INFO ${t.info_ms ?? "none seen"}; ` +
    `bench's own GC ${t.bench_gc_ms} ms`
  );
}

async function measureSerialChecks(nc: NatsConnection, body: string, count: number): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < count; i++) {
    const t = performance.now();
    await nc.request("insights.imports.check", body, { timeout: CHECK_TIMEOUT_MS });
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  return percentile(times, 50);
}

/** Open loop: requests leave on a fixed schedule whether or not earlier ones were answered. */
async function measureChecks(nc: NatsConnection, body: string, opts: LiveOptions) {
  const interval = 1000 / opts.checkRate;
  const latencies: number[] = [];
  let failed = 0;
  const pending: Promise<void>[] = [];
  const start = performance.now();
  let sent = 0;
  while (sent < opts.checkCount && performance.now() - start < opts.checkMaxMs) {
    const now = performance.now();
    // Send everything whose time has come, then sleep until the next slot.
    while (sent < opts.checkCount && start + sent * interval <= now) {
      const t = performance.now();
      pending.push(
        nc.request("insights.imports.check", body, { timeout: CHECK_TIMEOUT_MS }).then(
          (msg) => {
            if (isError(msg)) failed++;
            latencies.push(performance.now() - t);
          },
          () => {
            failed++;
            latencies.push(CHECK_TIMEOUT_MS);
          },
        ),
      );
      sent++;
    }
    const next = start + sent * interval - performance.now();
    await sleep(Math.max(0, next));
  }
  const sendMs = performance.now() - start;
  await Promise.all(pending);
  latencies.sort((a, b) => a - b);
  return {
    check_p50_ms: percentile(latencies, 50),
    check_p99_ms: percentile(latencies, 99),
    check_max_ms: latencies[latencies.length - 1] ?? Number.NaN,
    check_sent: sent,
    check_failed: failed,
    check_rate: (sent / sendMs) * 1000,
  };
}
