/**
 * One definition serves every endpoint: where it listens, its request and reply schemas, and a pure
 * answer to a request the schema admitted. Binding it to what it answers from does the rest the same
 * way for all: the body's size limit, JSON, the schema's validator (compiled once, at binding), client
 * errors as service errors, and the reply's lists cut to fit the connection's max_payload.
 */
import { ServiceError } from "@nats-io/services";
import type { ImportDiagnosis } from "../core/diagnosis.js";
import type { AccountDirectory } from "../core/directory.js";
import type { EvaluationOptions } from "../core/evaluate.js";
import type { HistoryReader } from "../shell/history.js";
import type { JwtSource } from "../shell/server-accounts.js";
import { fitLists } from "./payload.js";
import type { ValidateFunction } from "ajv/dist/2020.js";
import { forbidden } from "./refusal.js";
import { requesterOf } from "./requester.js";
import { describeError, validator, type SchemaName } from "./schemas.js";

/** Larger request bodies are refused before parsing (unless an endpoint allows more). */
export const MAX_REQUEST_BYTES = 64 * 1024;

/** What the endpoints answer from: the live service's state, or a test's. */
export interface EndpointSource {
  directory(): AccountDirectory;
  /** One account's diagnoses (null: everyone's), the servers' view applied. */
  diagnosesOf(accountId: string | null): ImportDiagnosis[];
  options(): EvaluationOptions;
  /** Replies are fitted to this many bytes (the connection's max_payload). */
  maxPayload(): number;
  /** Where the JWTs came from (absent: a resolver's store). */
  jwtSource?(): JwtSource;
  /** The history of verdict changes (absent: none is kept, the history endpoint says so). */
  history?(): HistoryReader;
}

export interface EndpointDefinition<Request> {
  name: string;
  subject: string;
  request: SchemaName;
  response: SchemaName;
  description: string;
  /** Larger request bodies are refused before parsing (default MAX_REQUEST_BYTES). */
  maxRequestBytes?: number;
  /** The reply's lists, cut alike while the reply is larger than max_payload (`truncated` then says so). */
  lists: readonly string[];
  /**
   * The reply to a request the schema admitted (typed as the schema describes it); a client error
   * is thrown as a ServiceError (4xx).
   */
  answer(request: Request, source: EndpointSource): Record<string, unknown>;
  /**
   * The reply to a request an ordinary account made through a service import (requester.ts): about
   * that account only. Absent: such a request is refused (403).
   */
  forAccount?(request: Request, source: EndpointSource, account: string): Record<string, unknown>;
}

/** Any endpoint, whatever its request type (what registration takes). */
export type Endpoint = EndpointDefinition<unknown>;

/** An endpoint's definition: the request type its answer reads is the one its schema admits. */
export function defineEndpoint<Request>(definition: EndpointDefinition<Request>): Endpoint {
  return definition;
}

/**
 * Request bytes and the values of its `Nats-Request-Info` header in, reply JSON out; throws
 * ServiceError for a client error.
 */
export type Handler = (data: Uint8Array, requestInfo?: readonly string[]) => string;

/** The endpoint's handler, answering from `source`: its validator is compiled here, once. */
export function bindEndpoint(endpoint: Endpoint, source: EndpointSource): Handler {
  const validate = validator(endpoint.request);
  const maxBytes = endpoint.maxRequestBytes ?? MAX_REQUEST_BYTES;
  return (data, requestInfo) => {
    const requester = requesterOf(requestInfo);
    // Who asked decides what may be answered, before the body is even read.
    if (requester.kind === "unproven") throw forbidden(`the requesting account cannot be told: ${requester.reason}`);
    if (requester.kind === "account" && !endpoint.forAccount)
      throw forbidden(`${endpoint.name}: only system-account users may ask`);
    const request = parseBody(data, validate, maxBytes);
    const reply =
      requester.kind === "account"
        ? endpoint.forAccount!(request, source, requester.account)
        : endpoint.answer(request, source);
    return fitLists(reply, endpoint.lists, source.maxPayload());
  };
}

/** Parse and validate a request body; a ServiceError(400) names what is wrong. */
export function parseRequest(data: Uint8Array, schema: SchemaName, maxBytes = MAX_REQUEST_BYTES): unknown {
  return parseBody(data, validator(schema), maxBytes);
}

function parseBody(data: Uint8Array, validate: ValidateFunction, maxBytes: number): unknown {
  if (data.length > maxBytes)
    throw new ServiceError(400, `body: ${data.length} bytes, more than the ${maxBytes} allowed`);
  const text = new TextDecoder().decode(data).trim();
  let body: unknown = {};
  if (text !== "") {
    try {
      body = JSON.parse(text);
    } catch {
      throw new ServiceError(400, "body: not JSON");
    }
  }
  if (!validate(body)) throw new ServiceError(400, describeError(validate.errors?.[0]));
  return body;
}
