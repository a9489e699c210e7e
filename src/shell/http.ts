/**
 * The HTTP port (INSIGHTS_METRICS_PORT): /healthz, /readyz, /metrics, and the import graph: the
 * page at / (the same page `nats-insights graph --format html` writes) and its data at /graph.json,
 * which the page re-reads to redraw as verdicts change. It listens from the very
 * start, before any server is reached, so an orchestrator sees a live process that is waiting
 * (/healthz 200, /readyz 503 with the reason) rather than nothing at all.
 */
import { createServer, type Server } from "node:http";
import { ConfigError } from "../config-error.js";
import type { ImportGraph } from "../core/graph.js";
import { GRAPH_PAGE_CSP, graphPage } from "./graph-page.js";

/** Is the service ready to answer, and if not, why not (one line, for /readyz and the logs). */
export type Readiness = { ready: true } | { ready: false; reason: string };

export interface MetricsExposition {
  exposition(): Promise<{ contentType: string; text: string }>;
}

export class HttpEndpoint {
  private readiness: () => Readiness = () => ({ ready: false, reason: "starting" });
  private metrics: MetricsExposition | null = null;
  private graph: (() => ImportGraph) | null = null;

  private constructor(private readonly server: Server) {}

  static async listen(port: number, host: string): Promise<HttpEndpoint> {
    const endpoint: { current?: HttpEndpoint } = {};
    const server = createServer((req, res) =>
      endpoint.current!.handle(req.method ?? "GET", (req.url ?? "/").split("?")[0]!, res),
    );
    try {
      await new Promise<void>((resolve, reject) => server.once("error", reject).listen(port, host, resolve));
    } catch (e) {
      throw new ConfigError(`metrics: cannot listen on ${host}:${port}: ${(e as Error).message}`);
    }
    endpoint.current = new HttpEndpoint(server);
    return endpoint.current;
  }

  /** What /readyz reports from now on. */
  setReadiness(readiness: () => Readiness): void {
    this.readiness = readiness;
  }

  /** /metrics answers from now on (503 before: nothing is measured until the first load). */
  serveMetrics(metrics: MetricsExposition): void {
    this.metrics = metrics;
  }

  /** / and /graph.json answer from now on (503 before: there are no verdicts until the first load). */
  serveGraph(graph: () => ImportGraph): void {
    this.graph = graph;
  }

  close(): void {
    this.server.close();
    this.server.closeAllConnections?.();
  }

  private handle(method: string, path: string, res: import("node:http").ServerResponse): void {
    if (method !== "GET" && method !== "HEAD") {
      res.writeHead(405, { Allow: "GET, HEAD" }).end();
      return;
    }
    const text = (status: number, body: string) =>
      res
        .writeHead(status, { "Content-Type": "text/plain; charset=utf-8" })
        .end(method === "HEAD" ? undefined : `${body}\n`);
    switch (path) {
      case "/healthz":
        // The process runs and its event loop turns: that is all liveness can say.
        return void text(200, "ok");
      case "/readyz": {
        const r = this.readiness();
        return void (r.ready ? text(200, "ready") : text(503, `not ready: ${r.reason}`));
      }
      case "/metrics":
        if (!this.metrics) return void text(503, "not ready: starting");
        void this.metrics.exposition().then(
          ({ contentType, text: body }) =>
            res.writeHead(200, { "Content-Type": contentType }).end(method === "HEAD" ? undefined : body),
          (e: Error) => text(500, e.message),
        );
        return;
      case "/":
      case "/graph.json": {
        if (!this.graph) return void text(503, "not ready: starting");
        const graph = this.graph();
        const [type, body] =
          path === "/"
            ? [
                "text/html; charset=utf-8",
                graphPage(graph, { title: "NATS account imports (live)", live: "graph.json" }),
              ]
            : ["application/json", JSON.stringify(graph)];
        res.writeHead(200, {
          "Content-Type": type,
          "Cache-Control": "no-store",
          "X-Content-Type-Options": "nosniff",
          "Content-Security-Policy": GRAPH_PAGE_CSP,
        });
        return void res.end(method === "HEAD" ? undefined : body);
      }
      default:
        return void res.writeHead(404).end();
    }
  }
}
