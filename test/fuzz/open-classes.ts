/**
 * Known, documented classes of disagreement that stay open: the bounded fuzz in the test suite
 * tolerates these and fails on anything else. Each names its scenario file under
 * test/fuzz/scenarios/ and why it is open.
 */
import type { FuzzDeployment } from "./model.js";
import type { Disagreement } from "./run.js";

export interface OpenClass {
  id: string;
  description: string;
  scenario: string;
  matches(d: Disagreement, deployment: FuzzDeployment): boolean;
}

export const OPEN_CLASSES: OpenClass[] = [];

export function openClassOf(d: Disagreement, deployment: FuzzDeployment): string | null {
  return OPEN_CLASSES.find((c) => c.matches(d, deployment))?.id ?? null;
}
