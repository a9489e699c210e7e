/** The published contract stays in step with the code: schema, cause registry and README. */
import { readFileSync } from "node:fs";
import { beforeAll, describe, expect, it } from "vitest";
import { Ajv2020 } from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import {
  AccountDirectory,
  CAUSES,
  CAUSE_CODES,
  OperatorTrust,
  diagnoseAll,
  type ImportDiagnosis,
} from "../../src/core/index.js";
import { TestOperator, nowSec } from "../support/deployment.js";
import { SCENARIOS } from "../support/scenarios.js";

/** The parts of a JSON Schema these tests read. */
interface SchemaDoc {
  $defs?: Record<string, { enum?: string[] }>;
  properties?: Record<string, { enum?: string[]; oneOf?: { enum?: string[] }[] }>;
}
const readSchema = (name: string) =>
  JSON.parse(readFileSync(new URL(`../../schemas/${name}.schema.json`, import.meta.url), "utf8")) as SchemaDoc;
const schema = readSchema("import-diagnosis");
const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");

describe("ImportDiagnosis contract", () => {
  let diagnoses: ImportDiagnosis[];

  beforeAll(async () => {
    const op = await TestOperator.create();
    const trust = new OperatorTrust();
    trust.addOperator(op.jwt);
    const dir = new AccountDirectory(trust);
    for (const s of SCENARIOS) for (const a of (await s.build(op)).accounts) dir.upsert(a.jwt);
    diagnoses = diagnoseAll(dir, { now: nowSec(), expiryWarningSeconds: 7 * 86400 });
  }, 120_000); // signing the whole catalogue's JWTs is CPU work: on 2 busy cores it can pass 30 s

  it("every diagnosis of the catalogue validates against schemas/import-diagnosis.schema.json", () => {
    const ajv = new Ajv2020({ allErrors: true, strict: true });
    addFormats.default(ajv);
    const validate = ajv.compile(schema);
    expect(diagnoses.length).toBeGreaterThanOrEqual(SCENARIOS.length);
    for (const d of diagnoses) expect(validate(d) ? null : validate.errors).toBeNull();
  });

  it("the schemas' cause codes are exactly the registered causes", () => {
    expect([...(schema.$defs?.["cause"]?.enum ?? [])].sort()).toEqual([...CAUSE_CODES].sort());
    const request = readSchema("check-request");
    const event = readSchema("import-event");
    expect([...(request.properties?.["cause"]?.enum ?? [])].sort()).toEqual([...CAUSE_CODES].sort());
    expect([...(event.properties?.["previous_cause"]?.oneOf?.[1]?.enum ?? [])].sort()).toEqual([...CAUSE_CODES].sort());
    expect([...CAUSES.keys()].sort()).toEqual([...CAUSE_CODES].sort());
  });

  it("the README documents every cause code", () => {
    for (const code of CAUSE_CODES) expect(readme).toContain(`\`${code}\``);
  });
});

describe("README cause table", () => {
  it("is the one the cause modules generate", async () => {
    const { causeTableMarkdown } = await import("../../src/core/causes/table.js");
    const section = readme.split("<!-- causes:start -->")[1]!.split("<!-- causes:end -->")[0]!.trim();
    expect(section).toBe(causeTableMarkdown());
  });
});

describe("README least-privilege table", () => {
  it("lists exactly the permissions the service needs", async () => {
    const { REQUIRED_PERMISSIONS } = await import("../../src/shell/permissions.js");
    const table = readme.split("| publish | subscribe |")[1]!.split("\n")[2]!;
    const cells = table.split("|").filter((cell) => cell.includes("`"));
    const [pub, sub] = cells.map((cell) => [...cell.matchAll(/`([^`]+)`/g)].map((m) => m[1]));
    expect(pub).toEqual([...REQUIRED_PERMISSIONS.publish]);
    expect(sub).toEqual([...REQUIRED_PERMISSIONS.subscribe]);
  });
});
