import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Rebuilds dist, so tests of the built code test the sources as they are (fresh-dist.ts), and
    // fails the run if it leaves anything in the checkout (checkout-clean.ts).
    // Says which nats-server harness runs; for containers, gets the engine and the image ready.
    globalSetup: ["test/support/fresh-dist.ts", "test/support/checkout-clean.ts", "test/support/docker-engine.ts"],
    // Integration tests start real nats-server processes; two cores, so keep forks modest.
    pool: "forks",
    maxWorkers: 2,
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
