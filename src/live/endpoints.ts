/**
 * The micro service (`nats micro`): the endpoints of src/service, registered on the live
 * connection and answered from the live directory and verdicts.
 */
import type { NatsConnection } from "@nats-io/nats-core";
import type { Service } from "@nats-io/services";
import type { EndpointSource } from "../service/endpoint.js";
import { DEFAULT_MAX_PAYLOAD } from "../service/payload.js";
import { registerService } from "../service/service.js";
import type { Metrics } from "../shell/metrics.js";
import { sleep } from "./clock.js";

/** What the endpoints answer from, but for max_payload, which the connection gives. */
export type LiveState = Omit<EndpointSource, "maxPayload">;

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

  /** Every endpoint of src/service, answering from `state`. */
  async register(state: LiveState): Promise<void> {
    const source = { ...state, maxPayload: () => this.maxPayload() };
    this.service = await registerService(
      this.nc,
      source,
      () => this.metrics.snapshot(),
      () => this.metrics.rejectedInput("request"),
    );
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
