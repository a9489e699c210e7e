/**
 * Every minimised disagreement the fuzzer found (test/fuzz/scenarios/*.json), replayed on a real
 * server. A "fixed" scenario is a regression test: the engine (and, where the live service was the
 * judge, the live service) must now agree with the message flow. An "open" one documents a known
 * disagreement of a class listed in test/fuzz/open-classes.ts: the test checks the server still
 * behaves as recorded and that the class still matches it, so a fix shows up as a change to make.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { windowFor, type ScenarioFile } from "../fuzz/fuzz.js";
import { OPEN_CLASSES } from "../fuzz/open-classes.js";
import { runDeployment } from "../fuzz/run.js";
import { REPO_ROOT, serverVersion, toolPath } from "../support/tools.js";

const atLeast = (version: string, min: string): boolean => {
  const [a, b] = [version, min].map((v) => v.split(/[.-]/).slice(0, 3).map(Number));
  for (let i = 0; i < 3; i++) if (a![i]! !== b![i]!) return a![i]! > b![i]!;
  return true;
};

const DIR = join(REPO_ROOT, "test", "fuzz", "scenarios");
const files = readdirSync(DIR)
  .filter((f) => f.endsWith(".json"))
  .sort();
const scenarios = files.map((f) => ({ file: f, s: JSON.parse(readFileSync(join(DIR, f), "utf8")) as ScenarioFile }));

describe.skipIf(!toolPath("nats-server"))("fuzz scenarios replayed on a real nats-server", () => {
  it("every scenario file is fixed or belongs to a documented open class", () => {
    for (const { file, s } of scenarios) {
      expect(["fixed", "open"], file).toContain(s.status);
      if (s.status === "open")
        expect(
          OPEN_CLASSES.map((c) => c.id),
          file,
        ).toContain(s.open_class);
    }
    for (const c of OPEN_CLASSES) expect(files, c.id).toContain(c.scenario);
  });

  it.each(scenarios.map(({ file, s }) => [file, s] as const))(
    "%s",
    async (_file, s) => {
      if (s.min_server && !atLeast(await serverVersion(), s.min_server)) {
        console.warn(`fuzz scenario ${s.name} needs nats-server ${s.min_server} or later: not replayed`);
        return;
      }
      const judgedLive = s.judge === "live";
      const topology = {
        nodes: s.nodes,
        ...(s.clusters ? { clusters: s.clusters } : {}),
        ...(s.resolver ? { resolver: s.resolver } : {}),
      };
      const result = await runDeployment(s.deployment, s.seed, {
        ...topology,
        live: judgedLive,
        windowMs: windowFor(topology),
      });
      const outcome = result.imports.find((o) => o.account === s.target.account && o.imp.name === s.target.name)!;
      const flows = outcome.truth.map((t) => t.flows);
      const judged = judgedLive ? outcome.live! : outcome.engine;
      const verdictFlows = judged.status !== "inactive" && judged.status !== "unknown";
      if (s.judge === "nodes" && s.status === "fixed") {
        expect(new Set(flows).size).toBe(1);
      } else if (s.status === "fixed") {
        // An undetermined verdict states no flow: only an import of a cycle may have it.
        if (judged.status === "undetermined") expect(judged.cause).toBe("import_cycle");
        else expect({ flows, verdict: judged }).toMatchObject({ flows: flows.map(() => verdictFlows) });
        // Beyond flow: a JetStream set's warning must name what the consumers found missing; an
        // undetermined verdict must be on a cycle.
        expect(
          result.disagreements.filter(
            (d) => d.account === s.target.account && d.imp.name === s.target.name && d.judge === s.judge,
          ),
        ).toEqual([]);
      } else {
        // Still open: the server does what was recorded, and the documented class still covers it.
        expect(flows).toEqual(flows.map(() => s.flows));
        // A fix made elsewhere must not break the suite: it is reported here, to be marked "fixed".
        const open = result.disagreements.filter(
          (d) => d.account === s.target.account && d.imp.name === s.target.name && d.judge === s.judge,
        );
        if (open.length === 0)
          console.warn(`fuzz scenario ${s.name} now agrees with the server: mark it "fixed" and drop its open class`);
        const cls = OPEN_CLASSES.find((c) => c.id === s.open_class)!;
        expect(open.every((d) => cls.matches(d, s.deployment))).toBe(true);
      }
    },
    60_000,
  );
});
