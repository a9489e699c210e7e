import { defineConfig } from "vitest/config";

/**
 * The tests Stryker runs against each mutant of src/core (npm run mutate): the engine's own tests,
 * which need no server and no build. The real-server scenarios judge the surviving mutants
 * separately (docs/decisions.md, "Mutation testing").
 */
export default defineConfig({
  test: {
    include: ["test/unit/**/*.test.ts"],
    // Pass 2 of npm run mutate runs every mutant against every related test (see the file).
    setupFiles: ["test/support/mutate-every-test.ts"],
    // Instrumented code with per-test coverage runs several times slower than npm test's.
    testTimeout: 180_000,
    hookTimeout: 180_000,
  },
});
