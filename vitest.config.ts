import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Fails the run if it leaves anything in the checkout (test/support/checkout-clean.ts).
    globalSetup: ["test/support/checkout-clean.ts"],
    // Integration tests start real nats-server processes; two cores, so keep forks modest.
    pool: "forks",
    maxWorkers: 2,
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
