/**
 * Registration with the NATS services framework: discoverable by `nats micro ls`, endpoints in
 * queue group `insights`, each advertising its JSON Schemas in its metadata. Bad requests are
 * answered with a 400 service error that names the field.
 */
import type { NatsConnection } from "@nats-io/nats-core";
import { ServiceError, Svcm, type Service, type ServiceMsg, type ServiceStats } from "@nats-io/services";
import { PACKAGE } from "../paths.js";
import { describeError, loadSchema, validator, type SchemaName } from "./schemas.js";

export const SERVICE_NAME = "insights";
export const QUEUE_GROUP = "insights";
/** Larger request bodies are refused before parsing. */
export const MAX_REQUEST_BYTES = 64 * 1024;

export interface EndpointSpec {
  name: string;
  subject: string;
  request: SchemaName;
  response: SchemaName;
  description: string;
  /** Larger request bodies are refused before parsing (default MAX_REQUEST_BYTES). */
  maxRequestBytes?: number;
  /** Returns the reply body (an object, or JSON text already sized); throws ServiceError for a client error. */
  handle(body: unknown): unknown;
}

/** Parse and validate a request body; a ServiceError(400) names what is wrong. */
export function parseRequest(data: Uint8Array, schema: SchemaName, maxBytes = MAX_REQUEST_BYTES): unknown {
  if (data.length > maxBytes) throw new ServiceError(400, `body: ${data.length} bytes, more than the ${maxBytes} allowed`);
  const text = new TextDecoder().decode(data).trim();
  let body: unknown = {};
  if (text !== "") {
    try {
      body = JSON.parse(text);
    } catch {
      throw new ServiceError(400, "body: not JSON");
    }
  }
  const validate = validator(schema);
  if (!validate(body)) throw new ServiceError(400, describeError(validate.errors?.[0]));
  return body;
}

export async function registerService(
  nc: NatsConnection,
  endpoints: EndpointSpec[],
  statsData: (endpoint: string) => unknown,
  onBadRequest: () => void = () => {},
): Promise<Service> {
  const service = await new Svcm(nc).add({
    name: SERVICE_NAME,
    version: PACKAGE.version,
    description: "Finds inactive JWT imports, says why, and how to fix them",
    queue: QUEUE_GROUP,
    metadata: { project: PACKAGE.name },
    statsHandler: async (endpoint) => statsData(endpoint.subject),
  });
  for (const spec of endpoints) {
    service.addEndpoint(spec.name, {
      subject: spec.subject,
      queue: QUEUE_GROUP,
      metadata: {
        description: spec.description,
        request_schema: JSON.stringify(loadSchema(spec.request)),
        response_schema: JSON.stringify(loadSchema(spec.response)),
      },
      // Synchronous on purpose: a thrown ServiceError is answered with its code and counted in STATS.
      handler: (_err: Error | null, msg: ServiceMsg) => {
        try {
          const reply = spec.handle(parseRequest(msg.data, spec.request, spec.maxRequestBytes));
          msg.respond(typeof reply === "string" ? reply : JSON.stringify(reply));
        } catch (e) {
          if (e instanceof ServiceError && e.code < 500) onBadRequest();
          throw e;
        }
      },
    });
  }
  includeLastError(service);
  return service;
}

/**
 * The micro STATS schema (io.nats.micro.v1.stats_response) requires `last_error` on every endpoint;
 * the published @nats-io/services omits it until an error happens. natscli v0.5.0 happens not to
 * notice (it re-encodes replies through Go structs before validating), but clients that validate
 * the raw reply do. The library answers STATS through `service.stats()`, so an own-property
 * wrapper is enough to always include it.
 */
function includeLastError(service: Service): void {
  const original = service.stats.bind(service);
  service.stats = async (): Promise<ServiceStats> => {
    const stats = await original();
    stats.endpoints = stats.endpoints?.map((e) => ({ ...e, last_error: e.last_error ?? "" }));
    return stats;
  };
}
