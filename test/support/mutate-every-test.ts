/**
 * Pass 2 of `npm run mutate` (scripts/mutate.ts sets MUTATE_EVERY_TEST=1; docs/decisions.md 26).
 * Stryker's vitest runner always records which test covers which mutant, through the current-test
 * id the instrumented code reads, and then runs a mutant against those tests only, whatever
 * `coverageAnalysis` says. The core's memos run code only in the first test that reaches it, so that
 * list can miss the test that kills a mutant. With the id kept unset, every mutant a test reaches
 * counts as "static", and Stryker runs a static mutant against every unit test related to its file.
 */
if (process.env["MUTATE_EVERY_TEST"] === "1") {
  const global = globalThis as { __stryker__?: object };
  const ns = (global.__stryker__ ??= {});
  Object.defineProperty(ns, "currentTestId", { configurable: true, get: () => undefined, set: () => undefined });
}
