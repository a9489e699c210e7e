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
      (d.verdict.cause === "import_cycle"
        ? d.truth[0]!.flows
        : !d.truth[0]!.flows && d.verdict.status !== "inactive") &&
      (deployment.accounts[d.imp.from]?.imports ?? []).some(
        (back) => back.type === d.imp.type && back.from === d.account,
      ),
  },
  {
    id: "deleted-source-stays-registered",
    description:
      "The source account is deleted ($SYS.REQ.CLAIMS.DELETE) after the importer was loaded: the server disables the deleted " +
      "account (its users are refused, its clients disconnected) but leaves the importer's import registered and valid in the " +
      "importer's account view, where the fuzzer's truth falls back to (no client of the exporter can connect to send a probe). " +
      "The engine and the live service say source_account_not_found. Nothing the deleted account's clients send can cross; " +
      "pushing the account again revives the import without re-signing the importer.",
    scenario: "open-deleted-source-stays-registered.json",
    matches: (d, deployment) =>
      d.judge !== "nodes" &&
      d.imp.from !== "system" &&
      deployment.accounts[d.imp.from]?.deleted === true &&
      d.verdict.cause === "source_account_not_found" &&
      d.truth.every((t) => t.flows && t.basis === "account-info"),
  },
];

export function openClassOf(d: Disagreement, deployment: FuzzDeployment): string | null {
  return OPEN_CLASSES.find((c) => c.matches(d, deployment))?.id ?? null;
}

/** The scenario file of an open class. */
export function openScenario(id: string): string {
  return OPEN_CLASSES.find((c) => c.id === id)!.scenario;
}
