/**
 * The engine judged by a real nats-server, on every pinned server line (docs/servers.md; a line
 * whose binary is not installed is skipped, and the test name says so): every scenario of the
 * catalogue is pushed to one server of that line, then the judge (test/support/judge.ts) takes the server's evidence for each import:
 * which side's users it refuses, whether real messages flow, and whether its own account INFO
 * lists the import. Messages flow and INFO lists the import exactly when the engine says the
 * import is active (or only warned about), and the engine names the intended cause.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AccountDirectory, DEFAULT_EXPIRY_WARNING_SECONDS, OperatorTrust, diagnoseAll, type ImportDiagnosis } from "../../src/core/index.js";
import { TestOperator, nowSec } from "../support/deployment.js";
import { expectedVerdict, judge, mapLimit, type Verdict } from "../support/judge.js";
import { connectSystem, lookupAccount, pushWith, startServer, type RunningServer } from "../support/nats-server.js";
import { SCENARIOS, scenarioOn, type Built } from "../support/scenarios.js";
import { rulesFor } from "../../src/core/validate.js";
import { pinnedServers } from "../support/tools.js";

interface Outcome {
  pushedImporter: boolean;
  diagnosis: ImportDiagnosis;
  verdict: Verdict;
}

for (const { version, bin } of pinnedServers()) {
  if (!bin) console.warn(`scenario catalogue: nats-server v${version} is not installed (scripts/setup.sh): skipped`);
  describe.skipIf(!bin)(`scenarios on a real nats-server v${version}${bin ? "" : " (not installed: skipped)"}`, () => {
    let server: RunningServer;
    const builds = new Map<string, Built>();
    const outcomes = new Map<string, Outcome>();

    beforeAll(async () => {
      const op = await TestOperator.create({ signingKey: true });
      server = await startServer(op, { bin: bin! });
      expect(server.version).toBe(version);
      for (const s of SCENARIOS) builds.set(s.name, await s.build(op));

      const trust = new OperatorTrust();
      trust.addOperator(op.jwt);
      trust.rules = rulesFor(version);
      const dir = new AccountDirectory(trust);
      const pushed = new Map<string, boolean>();
      const nc = await connectSystem(server, op);
      try {
        for (const b of builds.values()) {
          for (const jwt of b.earlier ?? []) expect((await pushWith(nc, jwt)).ok).toBe(true);
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
      const results = await mapLimit([...builds], 4, async ([name, b]) => {
        const diagnosis = diagnoseAll(dir, { now, expiryWarningSeconds: DEFAULT_EXPIRY_WARNING_SECONDS }, [b.importer.id]).at(-1)!;
        return [name, { pushedImporter: pushed.get(b.importer.id)!, diagnosis, verdict: await judge(server, b) }] as const;
      });
      for (const [name, o] of results) outcomes.set(name, o);
    }, 120_000);

    afterAll(async () => {
      await server?.stop();
    });

    it.each(SCENARIOS.map((s) => [s.name, s] as const))("%s", (name, catalogued) => {
      const o = outcomes.get(name)!;
      const b = builds.get(name)!;
      expect(o.diagnosis.account).toBe(b.importer.id);
      const scenario = scenarioOn(catalogued, version);
      expect(o.diagnosis.cause).toBe(scenario.cause);
      const engineSaysFlowing = o.diagnosis.status !== "inactive";
      const { importerProbeRefused, ...verdict } = o.verdict;
      expect(verdict).toEqual(expectedVerdict(scenario, engineSaysFlowing));
      // an exporter nobody can connect as answers no request: the importer's request is refused
      if (scenario.unreachable === "exporter" && b.type === "service") expect(importerProbeRefused).toBe(true);
      expect(o.pushedImporter).toBe(!scenario.pushRejected);
    });

  });
}
