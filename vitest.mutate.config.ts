import { defineConfig } from "vitest/config";

/**
 * The tests Stryker runs against each mutant of src/core (npm run mutate): the engine's own tests,
 * which need no server and no build. The real-server scenarios judge the surviving mutants
 * separately (docs/decisions.md, "Mutation testing").
 */
export default defineConfig({
  test: {
    // The first tier of a tiered pass 2 (scripts/mutate.ts --confirm-first) names its files here, not
    // with Stryker's --testFiles: with that option Stryker activates a static mutant only once the
    // tests start, after the module that holds it has loaded, so no test can kill it.
    include: process.env["MUTATE_TEST_FILES"]?.split(",") ?? ["test/unit/**/*.test.ts"],
    // Pass 2 of npm run mutate runs every mutant against every related test (see the file).
    setupFiles: ["test/support/mutate-every-test.ts"],
    // Instrumented code with per-test coverage runs several times slower than npm test's.
    testTimeout: 180_000,
    hookTimeout: 180_000,
  },
});
