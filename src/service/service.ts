/**
 * Registration with the NATS services framework: discoverable by `nats micro ls`, endpoints in
 * queue group `insights`, each advertising its JSON Schemas in its metadata. Bad requests are
 * answered with a 400 service error that names the field.
 */
import type { NatsConnection } from "@nats-io/nats-core";
import { ServiceError, Svcm, type Service, type ServiceMsg, type ServiceStats } from "@nats-io/services";
import { PACKAGE } from "../paths.js";
import { checkEndpoint } from "./check.js";
import { bindEndpoint, type Endpoint, type EndpointSource } from "./endpoint.js";
import { expiringEndpoint } from "./expiring.js";
import { historyEndpoint } from "./history.js";
import { orphanedEndpoint } from "./orphaned.js";
import { preflightEndpoint } from "./preflight.js";
import { rotationEndpoint } from "./rotation.js";
import { REQUEST_INFO_HEADER } from "./requester.js";
import { loadSchema } from "./schemas.js";

const SERVICE_NAME = "insights";
const QUEUE_GROUP = "insights";

/** Every endpoint the service offers, in the order `nats micro info` lists them. */
export const ENDPOINTS: readonly Endpoint[] = [
  checkEndpoint,
  preflightEndpoint,
  rotationEndpoint,
  expiringEndpoint,
  orphanedEndpoint,
  historyEndpoint,
];

export async function registerService(
  nc: NatsConnection,
  source: EndpointSource,
  statsData: (endpoint: string) => unknown,
  onBadRequest: () => void = () => {},
  endpoints: readonly Endpoint[] = ENDPOINTS,
): Promise<Service> {
  const service = await new Svcm(nc).add({
    name: SERVICE_NAME,
    version: PACKAGE.version,
    description: "Finds inactive JWT imports, says why, and how to fix them",
    queue: QUEUE_GROUP,
    metadata: { project: PACKAGE.name },
    statsHandler: async (endpoint) => statsData(endpoint.subject),
  });
  for (const endpoint of endpoints) {
    const handle = bindEndpoint(endpoint, source);
    service.addEndpoint(endpoint.name, {
      subject: endpoint.subject,
      queue: QUEUE_GROUP,
      metadata: {
        description: endpoint.description,
        request_schema: JSON.stringify(loadSchema(endpoint.request)),
        response_schema: JSON.stringify(loadSchema(endpoint.response)),
      },
      // Synchronous on purpose: a thrown ServiceError is answered with its code and counted in STATS.
      handler: (_err: Error | null, msg: ServiceMsg) => {
        try {
          msg.respond(handle(msg.data, msg.headers?.values(REQUEST_INFO_HEADER)));
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
