/**
 * The one place a refusal becomes a service error: of the core, unknown → 404, anything else → 400;
 * of the service itself, a question the requester may not ask (requester.ts) → 403.
 */
import { ServiceError } from "@nats-io/services";
import type { Refusal } from "../core/result.js";

export function serviceError(refusal: Refusal): ServiceError {
  return new ServiceError(refusal.kind === "not_found" ? 404 : 400, refusal.error);
}

/** The requester may not ask this (another account's imports, or it cannot be told who asked). */
export function forbidden(message: string): ServiceError {
  return new ServiceError(403, message);
}
