/**
 * The engine judged by a real nats-server: every scenario of the catalogue is pushed to one
 * server, then real messages are sent across every import. Messages flow exactly when the engine
 * says the import is active (or only warned about), and the engine names the intended cause.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AccountDirectory, DEFAULT_EXPIRY_WARNING_SECONDS, OperatorTrust, diagnoseAll, type ImportDiagnosis } from "../../src/core/index.js";
import { TestOperator, nowSec } from "../support/deployment.js";
import { streamFlows, serviceFlows } from "../support/flow.js";
import { connectSystem, lookupAccount, pushWith, startServer, type RunningServer } from "../support/nats-server.js";
import { SCENARIOS, type Built } from "../support/scenarios.js";
import { toolPath } from "../support/tools.js";

interface Outcome {
  built: Built;
  pushedImporter: boolean;
  diagnosis: ImportDiagnosis;
  flows: boolean;
}

async function flows(server: RunningServer, b: Built): Promise<boolean> {
  try {
    return b.type === "stream"
      ? await streamFlows(server, b.exporter, b.importer, b.exporterSubject, b.importerSubject, 700)
      : await serviceFlows(server, b.exporter, b.importer, b.exporterSubject, b.importerSubject, 700);
  } catch {
    return false; // an account the server will not load cannot even connect: nothing flows
  }
}

describe.skipIf(!toolPath("nats-server"))("scenarios on a real nats-server", () => {
  let server: RunningServer;
  const outcomes = new Map<string, Outcome>();

  beforeAll(async () => {
    const op = await TestOperator.create({ signingKey: true });
    server = await startServer(op);
    const builds = new Map<string, Built>();
    for (const s of SCENARIOS) builds.set(s.name, await s.build(op));

    const trust = new OperatorTrust();
    trust.addOperator(op.jwt);
    const dir = new AccountDirectory(trust);
    const pushed = new Map<string, boolean>();
    const nc = await connectSystem(server, op);
    try {
      for (const b of builds.values()) {
        for (const a of b.accounts) {
          pushed.set(a.id, (await pushWith(nc, a.jwt)).ok);
          dir.upsert(a.jwt);
        }
      }
      // What the server stored is exactly what the engine reads.
      for (const [id, ok] of pushed) if (ok) expect(await lookupAccount(server, op, id)).toBe(dir.get(id)!.token);
    } finally {
      await nc.close();
    }
    const now = nowSec();
    const results = await Promise.all(
      [...builds].map(async ([name, b]) => {
        const diagnosis = diagnoseAll(dir, { now, expiryWarningSeconds: DEFAULT_EXPIRY_WARNING_SECONDS }, [b.importer.id]).at(-1);
        return [name, { built: b, pushedImporter: pushed.get(b.importer.id)!, diagnosis: diagnosis!, flows: await flows(server, b) }] as const;
      }),
    );
    for (const [name, o] of results) outcomes.set(name, o);
  }, 120_000);

  afterAll(async () => {
    await server?.stop();
  });

  it.each(SCENARIOS.map((s) => [s.name, s] as const))("%s", (name, scenario) => {
    const o = outcomes.get(name)!;
    const engineSaysFlowing = o.diagnosis.status !== "inactive";
    expect({ cause: o.diagnosis.cause, flows: o.flows }).toEqual({ cause: scenario.cause, flows: engineSaysFlowing });
    expect(o.pushedImporter).toBe(!scenario.pushRejected);
  });
});
