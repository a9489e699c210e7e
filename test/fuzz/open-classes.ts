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
    id: "import-cycle-load-order",
    description:
      "Two accounts import each other's streams or services on overlapping subjects: the server refuses the import " +
      "that would close the cycle, i.e. that of the account it loads second, and the other one flows. Which one dies " +
      "depends on load order, which the JWTs do not say; the engine calls both import_cycle (inactive).",
    scenario: "open-import-cycle-load-order.json",
    matches: (d, deployment) =>
      d.judge !== "nodes" &&
      d.imp.from !== "system" &&
      (d.verdict.cause === "import_cycle" ? d.truth[0]!.flows : !d.truth[0]!.flows && d.verdict.status !== "inactive") &&
      (deployment.accounts[d.imp.from]?.imports ?? []).some((back) => back.type === d.imp.type && back.from === d.account),
  },
];

export function openClassOf(d: Disagreement, deployment: FuzzDeployment): string | null {
  return OPEN_CLASSES.find((c) => c.matches(d, deployment))?.id ?? null;
}

/** The scenario file of an open class. */
export function openScenario(id: string): string {
  return OPEN_CLASSES.find((c) => c.id === id)!.scenario;
}
