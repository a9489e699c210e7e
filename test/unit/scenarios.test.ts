/**
 * Every scenario of the shared catalogue through the engine alone. The same catalogue is judged
 * by real message flow in test/integration/scenarios.test.ts.
 */
import { beforeAll, describe, expect, it } from "vitest";
import {
  AccountDirectory,
  DEFAULT_EXPIRY_WARNING_SECONDS,
  OperatorTrust,
  diagnoseAll,
  CAUSE_CODES,
  causeOf,
} from "../../src/core/index.js";
import { TestOperator, nowSec } from "../support/deployment.js";
import { SCENARIOS, type Built } from "../support/scenarios.js";

describe("engine on the scenario catalogue", () => {
  let op: TestOperator;
  const built = new Map<string, Built>();

  beforeAll(async () => {
    op = await TestOperator.create({ signingKey: true });
    for (const s of SCENARIOS) built.set(s.name, await s.build(op));
  }, 120_000); // signing the whole catalogue's JWTs is CPU work: on 2 busy cores it can pass 30 s

  it.each(SCENARIOS.map((s) => [s.name, s] as const))("%s", (_name, scenario) => {
    const b = built.get(scenario.name)!;
    const trust = new OperatorTrust();
    trust.addOperator(op.jwt);
    const dir = new AccountDirectory(trust);
    for (const a of b.accounts) dir.upsert(a.jwt);
    const diagnosis = diagnoseAll(dir, { now: nowSec(), expiryWarningSeconds: DEFAULT_EXPIRY_WARNING_SECONDS }, [
      b.importer.id,
    ]).at(-1);
    expect(diagnosis!.cause).toBe(scenario.cause);
    expect(diagnosis!.status).toBe(scenario.cause === null ? "active" : causeOf(scenario.cause).status);
    expect(diagnosis!.account).toBe(b.importer.id);
    expect(diagnosis!.source_account).toBe(b.exporter.id);
    // The message names the import: whose, of what; every remediation line is a comment or an nsc command.
    expect(diagnosis!.message).toContain(`${b.importer.name}'s ${b.type} import of "${diagnosis!.subject}"`);
    const commands = diagnosis!.remediation.filter((line) => !line.startsWith("#"));
    for (const line of commands) expect(line).toMatch(/^nsc [a-z_]+ /);
    expect(commands.length > 0).toBe(scenario.cause !== null);
    const importerEntry = dir.get(b.importer.id)!;
    expect(importerEntry.problem?.kind === "invalid").toBe(scenario.pushRejected === true);
    // A JWT the engine cannot decode is one the resolver refuses ("jwt update resulted in error").
    if (importerEntry.problem?.kind === "undecodable") expect(scenario.pushRejected).toBe(true);
  });

  // push_rejected and server_state_stale need a live server; test/integration/service.test.ts has them.
  it("covers every cause code the JWTs alone decide", () => {
    const covered = new Set(SCENARIOS.map((s) => s.cause));
    const liveOnly = new Set(["push_rejected", "server_state_stale"]);
    const missing = CAUSE_CODES.filter((c) => !liveOnly.has(c) && !covered.has(c));
    expect(missing).toEqual([]);
  });
});
