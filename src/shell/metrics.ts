/**
 * Metrics, for Prometheus (opt-in HTTP endpoint) and for the micro STATS `data`: imports by status
 * and cause, the soonest activation-token expiry, the connection, the last resync, evaluation time,
 * updates applied and inputs rejected; with the endpoint, the process's own (CPU, memory, event
 * loop). Per-import series are opt-in and bounded (`importSeries`): past the bound an import gets
 * none, inactive and warning imports are kept first, and insights_import_series_omitted counts the
 * rest, so a scrape never grows with the deployment unannounced.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";
import type { ImportDiagnosis } from "../core/diagnosis.js";

const UPDATE_KINDS = ["resync", "push_stored", "push_rejected", "account_deleted", "time"] as const;
export type UpdateKind = (typeof UPDATE_KINDS)[number];
const REJECTED_KINDS = ["push", "delete", "request"] as const;
type RejectedKind = (typeof REJECTED_KINDS)[number];

/** What the metrics are read from, when they are read (a scrape, a STATS request). */
export interface MetricsSource {
  /** Every import's key (see importKey) and final diagnosis, the servers' view applied. */
  imports(): Iterable<[string, ImportDiagnosis]>;
  /** Is the NATS connection up? */
  connected(): boolean;
}

export interface MetricsOptions {
  /** Per-import series for at most this many imports; null: none. */
  importSeries: number | null;
}

/** Importance for the per-import series: the imports kept when there are too many. */
const STATUS_RANK: Record<ImportDiagnosis["status"], number> = { inactive: 0, undetermined: 1, warning: 2, active: 3 };

/**
 * The imports that get per-import series: at most `limit`, inactive first, then undetermined, then warnings, then
 * active, each group in key order (so the set is stable from one scrape to the next).
 */
export function importsWithSeries<T extends [string, Pick<ImportDiagnosis, "status">]>(
  entries: Iterable<T>,
  limit: number,
): { kept: T[]; omitted: number } {
  const all = [...entries].sort(
    ([ka, a], [kb, b]) => STATUS_RANK[a.status] - STATUS_RANK[b.status] || (ka < kb ? -1 : ka > kb ? 1 : 0),
  );
  return { kept: all.slice(0, limit), omitted: Math.max(0, all.length - limit) };
}

/**
 * The `import` label: what the import brings in, from whom, to where (the key without the
 * importing account, which has its own label), so it is unique within the account.
 */
export function importLabel(key: string): string {
  const [, type, source, subject, local] = key.split("|");
  return `${type} ${subject} from ${source}${local ? ` to ${local}` : ""}`;
}

/** Unix seconds of a token summary's expiry, or null. */
function expirySeconds(d: Pick<ImportDiagnosis, "token">): number | null {
  const at = d.token?.expires_at;
  return at ? Math.floor(Date.parse(at) / 1000) : null;
}

export class Metrics {
  readonly registry = new Registry();
  private processMetrics = false;
  private readonly evaluation = new Histogram({
    name: "insights_evaluation_seconds",
    help: "Time to re-evaluate the imports a change affects",
    buckets: [0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
    registers: [this.registry],
  });
  private readonly updates = new Counter({
    name: "insights_updates_total",
    help: "Changes applied, by kind",
    labelNames: ["kind"],
    registers: [this.registry],
  });
  private readonly rejected = new Counter({
    name: "insights_rejected_inputs_total",
    help: "Inputs rejected (bad pushed JWTs, bad requests)",
    labelNames: ["kind"],
    registers: [this.registry],
  });
  private readonly resyncFailures = new Counter({
    name: "insights_resync_failures_total",
    help: "Full resyncs that failed (the next epoch tries again)",
    registers: [this.registry],
  });
  private readonly lastResync = new Gauge({
    name: "insights_last_resync_timestamp_seconds",
    help: "When the last full resync finished (unix seconds; 0: none yet)",
    registers: [this.registry],
  });
  private readonly totals = {
    updates: {} as Record<string, number>,
    rejected: {} as Record<string, number>,
    evaluations: 0,
    evaluationMs: 0,
    resyncFailures: 0,
  };
  /** Label sets once reported: a gauge that fell to zero must say so, not vanish. */
  private readonly reported = new Set<string>();
  private lastResyncAt: number | null = null;

  constructor(
    private readonly source: MetricsSource,
    private readonly options: MetricsOptions = { importSeries: null },
  ) {
    // Each gauge below is computed from the source when scraped, not kept up to date per change.
    const self = this;
    const imports = new Gauge({
      name: "insights_imports",
      help: 'Imports by status and cause (cause "none" when active)',
      labelNames: ["status", "cause"],
      registers: [this.registry],
      collect() {
        imports.reset();
        for (const [key, n] of self.counts()) {
          const [status, cause] = key.split("|") as [string, string];
          imports.set({ status, cause }, n);
        }
      },
    });
    const idle = new Gauge({
      name: "insights_imports_idle",
      help: "Active imports that carry nothing, by reason: no_responders (service), no_subscribers (stream); from the servers' subscriptions each epoch",
      labelNames: ["reason"],
      registers: [this.registry],
      collect() {
        const counts = { no_responders: 0, no_subscribers: 0 };
        for (const [, d] of self.source.imports()) if (d.idle) counts[d.idle]++;
        for (const [reason, n] of Object.entries(counts)) idle.set({ reason }, n);
      },
    });
    const nextExpiry = new Gauge({
      name: "insights_next_token_expiry_timestamp_seconds",
      help: "The soonest expiry (unix seconds) of an activation token an import holds that has not expired yet; +Inf: none expires",
      registers: [this.registry],
      collect() {
        nextExpiry.set(self.nextTokenExpiry() ?? Infinity);
      },
    });
    const connected = new Gauge({
      name: "insights_connected",
      help: "1 while the service's NATS connection is up, else 0",
      registers: [this.registry],
      collect() {
        connected.set(self.source.connected() ? 1 : 0);
      },
    });
    const sinceResync = new Gauge({
      name: "insights_seconds_since_last_resync",
      help: "Seconds since the last full resync finished (+Inf: none yet)",
      registers: [this.registry],
      collect() {
        sinceResync.set(self.lastResyncAt === null ? Infinity : (Date.now() - self.lastResyncAt) / 1000);
      },
    });
    if (this.options.importSeries !== null) this.registerImportSeries(this.options.importSeries);
    // Every counter series exists from the start at 0, so increase() sees the first event
    // (deploy/prometheus/alerts.yml alerts on the first rejected push).
    for (const kind of UPDATE_KINDS) this.updates.inc({ kind }, 0);
    for (const kind of REJECTED_KINDS) this.rejected.inc({ kind }, 0);
  }

  /** insights_import_status, insights_import_token_expiry_timestamp_seconds and their bound. */
  private registerImportSeries(limit: number): void {
    const self = this;
    const labelNames = ["account", "account_name", "import"] as const;
    // Registered first: a scrape reads the metrics in registration order, and this one's collect
    // sets the two after it, from one reading of the imports.
    new Gauge({
      name: "insights_import_status",
      help: 'One series per import, value 1, labelled with its status and cause (cause "none" when active)',
      labelNames: [...labelNames, "status", "cause"],
      registers: [this.registry],
      collect() {
        this.reset(); // series of imports that are gone, or whose verdict changed, vanish
        expiry.reset();
        const { kept, omitted: left } = importsWithSeries(self.source.imports(), limit);
        for (const [key, d] of kept) {
          const labels = { account: d.account, account_name: d.account_name ?? "", import: importLabel(key) };
          this.set({ ...labels, status: d.status, cause: d.cause ?? "none" }, 1);
          const exp = expirySeconds(d);
          if (exp !== null) expiry.set(labels, exp);
        }
        omitted.set(left);
      },
    });
    const expiry = new Gauge({
      name: "insights_import_token_expiry_timestamp_seconds",
      help: "When the import's activation token expires (unix seconds); only imports with such a token",
      labelNames,
      registers: [this.registry],
    });
    const omitted = new Gauge({
      name: "insights_import_series_omitted",
      help: `Imports left without per-import series, past the bound of ${limit} (inactive and warning imports are kept first)`,
      registers: [this.registry],
    });
  }

  /** Time a re-evaluation and count it as an update of the given kind. */
  timed<T>(kind: UpdateKind, fn: () => T): T {
    const start = process.hrtime.bigint();
    try {
      return fn();
    } finally {
      const ms = Number(process.hrtime.bigint() - start) / 1e6;
      this.evaluation.observe(ms / 1000);
      this.totals.evaluations++;
      this.totals.evaluationMs += ms;
      this.updates.inc({ kind });
      this.totals.updates[kind] = (this.totals.updates[kind] ?? 0) + 1;
    }
  }

  rejectedInput(kind: RejectedKind): void {
    this.rejected.inc({ kind });
    this.totals.rejected[kind] = (this.totals.rejected[kind] ?? 0) + 1;
  }

  resynced(at: number = Date.now()): void {
    this.lastResyncAt = at;
    this.lastResync.set(at / 1000);
  }

  resyncFailed(): void {
    this.resyncFailures.inc();
    this.totals.resyncFailures++;
  }

  /** Imports by "status|cause", including zeros for label sets reported before. */
  private counts(): Map<string, number> {
    const counts = new Map<string, number>();
    for (const [, d] of this.source.imports()) {
      const key = `${d.status}|${d.cause ?? "none"}`;
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    for (const key of counts.keys()) this.reported.add(key);
    for (const key of this.reported) if (!counts.has(key)) counts.set(key, 0);
    return counts;
  }

  /** The soonest expiry (unix seconds) of a token not expired yet, or null. */
  private nextTokenExpiry(now: number = Date.now() / 1000): number | null {
    let next: number | null = null;
    for (const [, d] of this.source.imports()) {
      const exp = expirySeconds(d);
      if (exp !== null && exp > now && (next === null || exp < next)) next = exp;
    }
    return next;
  }

  /** The same figures for the micro STATS `data`. */
  snapshot(): Record<string, unknown> {
    const byStatus: Record<string, number> = { active: 0, inactive: 0, warning: 0 };
    const byCause: Record<string, number> = {};
    for (const [key, n] of this.counts()) {
      if (n === 0) continue;
      const [status, cause] = key.split("|") as [string, string];
      byStatus[status] = (byStatus[status] ?? 0) + n;
      if (cause !== "none") byCause[cause] = (byCause[cause] ?? 0) + n;
    }
    const next = this.nextTokenExpiry();
    return {
      imports: byStatus,
      causes: byCause,
      updates: { ...this.totals.updates },
      rejected_inputs: { ...this.totals.rejected },
      evaluations: this.totals.evaluations,
      evaluation_ms_total: Math.round(this.totals.evaluationMs * 1000) / 1000,
      last_resync: this.lastResyncAt === null ? null : new Date(this.lastResyncAt).toISOString(),
      resync_failures: this.totals.resyncFailures,
      next_token_expiry: next === null ? null : new Date(next * 1000).toISOString(),
    };
  }

  /** The Prometheus text, with the process's own metrics (collected from the first call on). */
  async exposition(): Promise<{ contentType: string; text: string }> {
    if (!this.processMetrics) {
      collectDefaultMetrics({ register: this.registry });
      this.processMetrics = true;
    }
    return { contentType: this.registry.contentType, text: await this.registry.metrics() };
  }
}
