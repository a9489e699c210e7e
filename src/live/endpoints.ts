/**
 * The micro service (`nats micro`): the endpoints of src/service, registered on the live
 * connection and answered from the live directory and verdicts.
 */
import type { NatsConnection } from "@nats-io/nats-core";
import type { Service } from "@nats-io/services";
import type { ImportDiagnosis } from "../core/diagnosis.js";
import type { AccountDirectory } from "../core/directory.js";
import type { EvaluationOptions } from "../core/evaluate.js";
import { checkEndpoint } from "../service/check.js";
import { expiringEndpoint } from "../service/expiring.js";
import { orphanedEndpoint } from "../service/orphaned.js";
import { DEFAULT_MAX_PAYLOAD } from "../service/payload.js";
import { preflightEndpoint } from "../service/preflight.js";
import { rotationEndpoint } from "../service/rotation.js";
import { registerService, type EndpointSpec } from "../service/service.js";
import type { Metrics } from "../shell/metrics.js";
import { sleep } from "./clock.js";

/** What the endpoints answer from. */
export interface EndpointSource {
  directory(): AccountDirectory;
  /** One account's diagnoses (null: everyone's), the servers' view applied. */
  diagnosesOf(accountId: string | null): ImportDiagnosis[];
  options(): EvaluationOptions;
}

/** Every endpoint the service offers. */
export function insightsEndpoints(source: EndpointSource, maxPayload: () => number): EndpointSpec[] {
  const dir = () => source.directory();
  const opts = () => source.options();
  return [
    checkEndpoint(dir, (id) => source.diagnosesOf(id), maxPayload),
    preflightEndpoint(dir, opts, maxPayload),
    rotationEndpoint(dir, opts, maxPayload),
    expiringEndpoint(dir, opts, maxPayload),
    orphanedEndpoint(dir, opts, maxPayload),
  ];
}

export class Endpoints {
  private service: Service | null = null;

  constructor(
    private readonly nc: NatsConnection,
    private readonly metrics: Metrics,
  ) {}

  /** The connection's max_payload: replies are fitted to it. */
  maxPayload(): number {
    return this.nc.info?.max_payload ?? DEFAULT_MAX_PAYLOAD;
  }

  async register(endpoints: EndpointSpec[]): Promise<void> {
    this.service = await registerService(this.nc, endpoints, () => this.metrics.snapshot(), () => this.metrics.rejectedInput("request"));
  }

  /** The service says goodbye over the connection; a broken one must not hold the stop. */
  async stop(): Promise<void> {
    await Promise.race([this.service?.stop().catch(() => {}), sleep(1000)]);
  }

  /** Requests this instance served (from its micro STATS). */
  async requests(): Promise<number> {
    const stats = await this.service!.stats();
    return (stats.endpoints ?? []).reduce((n, e) => n + e.num_requests, 0);
  }
}
