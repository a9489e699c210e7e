/** The one place a refusal of the core becomes a service error: unknown → 404, anything else → 400. */
import { ServiceError } from "@nats-io/services";
import type { Refusal } from "../core/result.js";

export function serviceError(refusal: Refusal): ServiceError {
  return new ServiceError(refusal.kind === "not_found" ? 404 : 400, refusal.error);
}
