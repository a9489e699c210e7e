/**
 * The JSON Schemas of every published body (schemas/), compiled once with ajv. A failed validation
 * becomes one sentence that names the field, for the 400 service error.
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
] as const;
export type SchemaName = (typeof SCHEMA_FILES)[number];

let ajv: Ajv2020 | null = null;

function compiler(): Ajv2020 {
  if (ajv) return ajv;
  ajv = new Ajv2020({ allErrors: false, strict: true });
  addFormats.default(ajv);
  for (const name of SCHEMA_FILES) ajv.addSchema(loadSchema(name));
  return ajv;
}

export function loadSchema(name: SchemaName): Record<string, unknown> {
  return JSON.parse(readFileSync(packageFile(`schemas/${name}.schema.json`), "utf8")) as Record<string, unknown>;
}

export function validator(name: SchemaName): ValidateFunction {
  const id = loadSchema(name)["$id"] as string;
  const fn = compiler().getSchema(id);
  if (!fn) throw new Error(`schema ${name} did not compile`);
  return fn;
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
