/**
 * Known, documented classes of disagreement that stay open: the bounded fuzz in the test suite
 * tolerates these and fails on anything else, and the long fuzz does not shrink them again. Each
 * names its minimised scenario under test/fuzz/scenarios/ (replayed by fuzz-scenarios.test.ts).
 */
import type { FuzzDeployment } from "./model.js";
import type { Disagreement } from "./run.js";

export interface OpenClass {
  id: string;
  description: string;
  /** File name under test/fuzz/scenarios/. */
  scenario: string;
  matches(d: Disagreement, deployment: FuzzDeployment): boolean;
}

export const OPEN_CLASSES: OpenClass[] = [
  {
    id: "server-view-service-to",
    description:
      "A service import with the deprecated `to` (subject = local, to = exporter side): the server lists it under its " +
      "exporter-side subject, the live service looks for the declared subject, finds nothing and reports server_state_stale " +
      "although the import flows.",
    scenario: "open-server-view-service-to.json",
    matches: (d) => d.judge === "live" && d.imp.type === "service" && d.imp.to !== undefined && d.verdict.cause === "server_state_stale",
  },
  {
    id: "stream-import-cycle",
    description:
      "Two accounts import each other's streams on overlapping subjects: the server refuses the stream import that would " +
      "close the cycle (streamImportFormsCycle), i.e. the import of whichever account it loads second; the engine calls " +
      "both active. Which one dies depends on load order.",
    scenario: "open-stream-import-cycle.json",
    matches: (d, deployment) =>
      d.judge !== "nodes" &&
      d.imp.type === "stream" &&
      d.imp.from !== "system" &&
      !d.truth[0]!.flows &&
      d.verdict.status !== "inactive" &&
      (deployment.accounts[d.imp.from]?.imports ?? []).some((back) => back.type === "stream" && back.from === d.account),
  },
];

export function openClassOf(d: Disagreement, deployment: FuzzDeployment): string | null {
  return OPEN_CLASSES.find((c) => c.matches(d, deployment))?.id ?? null;
}

/** The scenario file of an open class. */
export function openScenario(id: string): string {
  return OPEN_CLASSES.find((c) => c.id === id)!.scenario;
}
