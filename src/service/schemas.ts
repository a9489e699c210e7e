/**
 * The JSON Schemas of every published body (schemas/), read and compiled once with ajv, the first
 * time any is asked for. A failed validation becomes one sentence that names the field, for the 400
 * service error.
 */
import { readFileSync } from "node:fs";
import { Ajv2020, type ErrorObject, type ValidateFunction } from "ajv/dist/2020.js";
import addFormats from "ajv-formats";

import { packageFile } from "../paths.js";

export const SCHEMA_FILES = [
  "import-diagnosis",
  "check-request",
  "check-reply",
  "import-event",
  "import-change",
  "preflight-request",
  "preflight-reply",
  "rotation-request",
  "rotation-reply",
  "expiring-request",
  "expiring-reply",
  "orphaned-request",
  "orphaned-reply",
  "history-request",
  "history-reply",
] as const;
export type SchemaName = (typeof SCHEMA_FILES)[number];

interface Compiled {
  schemas: Map<SchemaName, Record<string, unknown>>;
  validators: Map<SchemaName, ValidateFunction>;
}

let compiled: Compiled | null = null;

/** Every schema read and compiled (they refer to each other by $id), once. */
function compileAll(): Compiled {
  if (compiled) return compiled;
  const ajv = new Ajv2020({ allErrors: false, strict: true });
  addFormats.default(ajv);
  const schemas = new Map(SCHEMA_FILES.map((name) => [name, readSchema(name)] as const));
  for (const schema of schemas.values()) ajv.addSchema(schema);
  const validators = new Map<SchemaName, ValidateFunction>();
  for (const [name, schema] of schemas) {
    const fn = ajv.getSchema(schema["$id"] as string);
    if (!fn) throw new Error(`schema ${name} did not compile`);
    validators.set(name, fn);
  }
  compiled = { schemas, validators };
  return compiled;
}

/**
 * Compile them now, off the critical path: the service calls this while its first load waits for
 * the servers (ajv's compilation took ~2 s of a loaded machine's start-up when the endpoints were
 * registered after the load). A failure is left for the first use to report.
 */
export function precompileSchemas(): void {
  try {
    compileAll();
  } catch {
    /* reported where a validator is asked for */
  }
}

function readSchema(name: SchemaName): Record<string, unknown> {
  return JSON.parse(readFileSync(packageFile(`schemas/${name}.schema.json`), "utf8")) as Record<string, unknown>;
}

/** The schema as published (read once). */
export function loadSchema(name: SchemaName): Record<string, unknown> {
  return compileAll().schemas.get(name)!;
}

/** The schema's validator (compiled once). */
export function validator(name: SchemaName): ValidateFunction {
  return compileAll().validators.get(name)!;
}

/** "status: must be one of active, inactive, warning" — the field first. */
export function describeError(error: ErrorObject | undefined): string {
  if (!error) return "invalid request";
  const field = error.instancePath.replace(/^\//, "").replace(/\//g, ".");
  if (error.keyword === "additionalProperties") {
    const extra = (error.params as { additionalProperty: string }).additionalProperty;
    return `unknown field "${field ? `${field}.` : ""}${extra}"`;
  }
  if (error.keyword === "enum") {
    const allowed = (error.params as { allowedValues: unknown[] }).allowedValues;
    return `${field}: must be one of ${allowed.map(String).join(", ")}`;
  }
  return `${field || "body"}: ${error.message ?? "is invalid"}`;
}
