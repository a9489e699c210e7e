/**
 * Metrics, for Prometheus (opt-in HTTP endpoint) and for the micro STATS `data`: imports by status
 * and cause, evaluation time, updates applied and inputs rejected.
 */
import { createServer, type Server } from "node:http";
import { Counter, Gauge, Histogram, Registry } from "prom-client";
import type { ImportDiagnosis } from "../core/diagnosis.js";

export type UpdateKind = "resync" | "push_stored" | "push_rejected" | "time";

export class Metrics {
  readonly registry = new Registry();
  private readonly imports: Gauge<"status" | "cause">;
  private readonly evaluation = new Histogram({
    name: "insights_evaluation_seconds",
    help: "Time to re-evaluate the imports a change affects",
    buckets: [0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
    registers: [this.registry],
  });
  private readonly updates = new Counter({ name: "insights_updates_total", help: "Changes applied, by kind", labelNames: ["kind"], registers: [this.registry] });
  private readonly rejected = new Counter({ name: "insights_rejected_inputs_total", help: "Inputs rejected (bad pushed JWTs, bad requests)", labelNames: ["kind"], registers: [this.registry] });
  private readonly totals = { updates: {} as Record<string, number>, rejected: {} as Record<string, number>, evaluations: 0, evaluationMs: 0 };
  /** Label sets once reported: a gauge that fell to zero must say so, not vanish. */
  private readonly reported = new Set<string>();

  /** `verdicts` gives every import's current (status, cause); counted when metrics are read, not per change. */
  constructor(private readonly verdicts: () => Iterable<Pick<ImportDiagnosis, "status" | "cause">>) {
    const self = this;
    this.imports = new Gauge({
      name: "insights_imports",
      help: 'Imports by status and cause (cause "none" when active)',
      labelNames: ["status", "cause"],
      registers: [this.registry],
      collect() {
        self.imports.reset();
        for (const [key, n] of self.counts()) {
          const [status, cause] = key.split("|") as [string, string];
          self.imports.set({ status, cause }, n);
        }
      },
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

  rejectedInput(kind: "push" | "request"): void {
    this.rejected.inc({ kind });
    this.totals.rejected[kind] = (this.totals.rejected[kind] ?? 0) + 1;
  }

  /** Imports by "status|cause", including zeros for label sets reported before. */
  private counts(): Map<string, number> {
    const counts = new Map<string, number>();
    for (const d of this.verdicts()) {
      const key = `${d.status}|${d.cause ?? "none"}`;
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    for (const key of counts.keys()) this.reported.add(key);
    for (const key of this.reported) if (!counts.has(key)) counts.set(key, 0);
    return counts;
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
    return {
      imports: byStatus,
      causes: byCause,
      updates: { ...this.totals.updates },
      rejected_inputs: { ...this.totals.rejected },
      evaluations: this.totals.evaluations,
      evaluation_ms_total: Math.round(this.totals.evaluationMs * 1000) / 1000,
    };
  }

  /** Serve /metrics over HTTP; resolves once listening. */
  async serve(port: number, host: string): Promise<Server> {
    const server = createServer((req, res) => {
      if (req.url !== "/metrics") {
        res.writeHead(404).end();
        return;
      }
      void this.registry.metrics().then((text) => res.writeHead(200, { "Content-Type": this.registry.contentType }).end(text));
    });
    await new Promise<void>((resolve, reject) => server.once("error", reject).listen(port, host, resolve));
    return server;
  }
}
