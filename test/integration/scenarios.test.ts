/**
 * The engine judged by a real nats-server, on every pinned server line (docs/servers.md; a line
 * whose binary is not installed is skipped, and the test name says so): every scenario of the
 * catalogue is pushed to one server of that line, then the judge (test/support/judge.ts) takes the server's evidence for each import:
 * which side's users it refuses, whether real messages flow, and whether its own account INFO
 * lists the import. Messages flow and INFO lists the import exactly when the engine says the
 * import is active (or only warned about), and the engine names the intended cause.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  AccountDirectory,
  DEFAULT_EXPIRY_WARNING_SECONDS,
  OperatorTrust,
  diagnoseAll,
  type ImportDiagnosis,
} from "../../src/core/index.js";
import { TestOperator, nowSec } from "../support/deployment.js";
import {
  expectedVerdict,
  FLOW_BY_MAPPING_ORDER,
  importUnderTest,
  judge,
  mapLimit,
  serverListsImport,
  type Verdict,
} from "../support/judge.js";
import { connectSystem, lookupWith, pushWith, startServer, type RunningServer } from "../support/nats-server.js";
import {
  JETSTREAM_MESSAGES,
  SCENARIOS,
  scenarioOn,
  type Built,
  type JetStreamExpectation,
} from "../support/scenarios.js";
import { JETSTREAM_CONFIG, createShared, publishShared, pullAndAck, pushAndAck } from "../support/jetstream.js";
import { rulesFor } from "../../src/core/validate.js";
import { jwtDigest } from "../../src/core/jwt/decode.js";
import { pinnedServers } from "../support/tools.js";

/** JetStream sets are judged by real consumers on a JetStream server (below); every other scenario by flow. */
const FLOW_SCENARIOS = SCENARIOS.filter((s) => !s.jetstream);
const JETSTREAM_SCENARIOS = SCENARIOS.filter((s) => s.jetstream);

/**
 * The flow catalogue is signed once for the file: every line's server gets the same operator and
 * JWTs (no scenario depends on when it is judged: times are hours or days away, or revocations,
 * which compare with a token's iat). Only pushing and judging are per line.
 */
let signed: Promise<{ op: TestOperator; builds: Map<string, Built> }> | null = null;
function flowCatalogue(): Promise<{ op: TestOperator; builds: Map<string, Built> }> {
  signed ??= (async () => {
    const op = await TestOperator.create({ signingKey: true });
    const builds = new Map<string, Built>();
    for (const s of FLOW_SCENARIOS) builds.set(s.name, await s.build(op));
    return { op, builds };
  })();
  return signed;
}

interface Outcome {
  pushedImporter: boolean;
  diagnosis: ImportDiagnosis;
  verdict: Verdict;
}

for (const { version, bin } of pinnedServers()) {
  if (!bin) console.warn(`scenario catalogue: nats-server v${version} is not installed (scripts/setup.sh): skipped`);
  describe.skipIf(!bin)(`scenarios on a real nats-server v${version}${bin ? "" : " (not installed: skipped)"}`, () => {
    let server: RunningServer;
    let builds = new Map<string, Built>();
    const outcomes = new Map<string, Outcome>();

    beforeAll(async () => {
      const catalogue = await flowCatalogue();
      const op = catalogue.op;
      builds = catalogue.builds;
      server = await startServer(op, { bin: bin! });
      expect(server.version).toBe(version);

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
        for (const [id, ok] of pushed)
          if (ok) expect(jwtDigest((await lookupWith(nc, id)) ?? "")).toBe(dir.get(id)!.digest);
      } finally {
        await nc.close();
      }
      const now = nowSec();
      const results = await mapLimit([...builds], 4, async ([name, b]) => {
        const diagnosis = diagnoseAll(dir, { now, expiryWarningSeconds: DEFAULT_EXPIRY_WARNING_SECONDS }, [
          b.importer.id,
        ]).at(-1)!;
        return [
          name,
          { pushedImporter: pushed.get(b.importer.id)!, diagnosis, verdict: await judge(server, b) },
        ] as const;
      });
      for (const [name, o] of results) outcomes.set(name, o);
    }, 120_000);

    afterAll(async () => {
      await server?.stop();
    });

    it.each(FLOW_SCENARIOS.map((s) => [s.name, s] as const))("%s", (name, catalogued) => {
      const o = outcomes.get(name)!;
      const b = builds.get(name)!;
      expect(o.diagnosis.account).toBe(b.importer.id);
      const scenario = scenarioOn(catalogued, version);
      expect(o.diagnosis.cause).toBe(scenario.cause);
      // An import of a cycle is undetermined from the JWTs; the judge connects the importer's users
      // first, so it is the refused one (test/integration/cycle-load-order.test.ts), and a later
      // import of the same stream is then no duplicate (test/integration/cycle-duplicate.test.ts).
      // Overlapping mappings of the importer: the order the server installed them in decides the
      // flow, a new one at each load (test/integration/mappings.test.ts), so either flow agrees.
      const undetermined = o.diagnosis.status === "undetermined";
      const { importerProbeRefused, ...verdict } = o.verdict;
      const engineSaysFlowing = !undetermined
        ? o.diagnosis.status !== "inactive"
        : FLOW_BY_MAPPING_ORDER.has(o.diagnosis.cause ?? "")
          ? verdict.flows === true
          : o.diagnosis.cause === "duplicate_of_cycle_import";
      if (undetermined)
        expect(["import_cycle", "duplicate_of_cycle_import", ...FLOW_BY_MAPPING_ORDER]).toContain(o.diagnosis.cause);
      expect(verdict).toEqual(expectedVerdict(scenario, engineSaysFlowing));
      // an exporter nobody can connect as answers no request: the importer's request is refused
      if (scenario.unreachable === "exporter" && b.type === "service") expect(importerProbeRefused).toBe(true);
      expect(o.pushedImporter).toBe(!scenario.pushRejected);
    });
  });
}

/**
 * JetStream import sets: the exporter's stream and consumers are real, and so are the importer's
 * consumers (test/support/jetstream.ts). The engine's verdict must match what they get: a warning
 * where a part works and a part does not (both asserted), active where everything works, and the
 * server honours every import of the set (its INFO lists the one under test).
 */
for (const { version, bin } of pinnedServers()) {
  describe.skipIf(!bin)(
    `JetStream scenarios on a real nats-server v${version}${bin ? "" : " (not installed: skipped)"}`,
    () => {
      let server: RunningServer;
      const outcomes = new Map<
        string,
        { diagnosis: ImportDiagnosis; listed: boolean | null; measured: JetStreamExpectation }
      >();

      beforeAll(async () => {
        const op = await TestOperator.create({ signingKey: true });
        server = await startServer(op, { bin: bin!, extraConfig: JETSTREAM_CONFIG });
        const trust = new OperatorTrust();
        trust.addOperator(op.jwt);
        trust.rules = rulesFor(version);
        trust.jetStreamApi = true;
        const dir = new AccountDirectory(trust);
        const nc = await connectSystem(server, op);
        const builds: [string, Built][] = [];
        try {
          for (const s of JETSTREAM_SCENARIOS) {
            const b = await s.build(op);
            builds.push([s.name, b]);
            for (const a of b.accounts) {
              expect((await pushWith(nc, a.jwt)).ok).toBe(true);
              dir.upsert(a.jwt);
            }
          }
        } finally {
          await nc.close();
        }
        const now = nowSec();
        for (const [name, b] of builds) {
          const expected = JETSTREAM_SCENARIOS.find((s) => s.name === name)!.jetstream!;
          await createShared(server, b.exporter);
          await publishShared(server, b.exporter, JETSTREAM_MESSAGES);
          const side = { server, importer: b.importer, exporter: b.exporter, apiPrefix: b.apiPrefix! };
          const measured: JetStreamExpectation = {};
          if (expected.pull) {
            const { consumerInfo, fetched, ackPending } = await pullAndAck(side, JETSTREAM_MESSAGES);
            measured.pull = { consumerInfo, fetched, ackPending };
          }
          if (expected.push) {
            const { bound, delivered, ackPending } = await pushAndAck(side, JETSTREAM_MESSAGES);
            measured.push = { bound, delivered, ackPending };
          }
          const diagnosis = diagnoseAll(dir, { now, expiryWarningSeconds: DEFAULT_EXPIRY_WARNING_SECONDS }, [
            b.importer.id,
          ]).at(-1)!;
          outcomes.set(name, {
            diagnosis,
            listed: await serverListsImport(server, b.importer, importUnderTest(b.importer)),
            measured,
          });
        }
      }, 180_000);

      afterAll(async () => {
        await server?.stop();
      });

      it.each(JETSTREAM_SCENARIOS.map((s) => [s.name, s] as const))("%s", (name, scenario) => {
        const o = outcomes.get(name)!;
        expect(o.diagnosis.cause).toBe(scenario.cause);
        expect(o.diagnosis.status).toBe(scenario.cause ? "warning" : "active");
        expect(o.listed).toBe(true);
        expect(o.measured).toEqual(scenario.jetstream);
      });
    },
  );
}
