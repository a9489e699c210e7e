/** Diagnostic events: `insights.events.imports.<importer>` on every change of (status, cause). */
import type { NatsConnection } from "@nats-io/nats-core";
import type { ImportDiagnosis } from "../core/diagnosis.js";

export const EVENT_PREFIX = "insights.events.imports";

export interface ImportEvent extends ImportDiagnosis {
  previous_status: ImportDiagnosis["status"] | null;
  previous_cause: ImportDiagnosis["cause"];
}

export function publishEvent(nc: NatsConnection, event: ImportEvent): void {
  nc.publish(`${EVENT_PREFIX}.${event.account}`, JSON.stringify(event));
}
