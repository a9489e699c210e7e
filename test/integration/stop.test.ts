/** Stopping never hangs, not even when the server went away first and the client is reconnecting. */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { InsightsApp } from "../../src/app.js";
import { loadConfig } from "../../src/config.js";
import { createLogger } from "../../src/shell/log.js";
import { TestOperator } from "../support/deployment.js";
import { startServer } from "../support/nats-server.js";
import { toolPath } from "../support/tools.js";

describe.skipIf(!toolPath("nats-server"))("stop", () => {
  it("returns within a few seconds after the server is gone", async () => {
    const op = await TestOperator.create();
    const server = await startServer(op);
    const dir = mkdtempSync(join(tmpdir(), "stop-"));
    try {
      writeFileSync(join(dir, "sys.creds"), await op.system.userCreds());
      const app = await InsightsApp.start(
        loadConfig(["--nats-url", server.url, "--creds", join(dir, "sys.creds")], {}),
        createLogger("silent"),
      );
      const statuses = app.nc.status();
      await server.stop();
      for await (const s of statuses) if (s.type === "disconnect") break; // the client noticed and reconnects
      const started = Date.now();
      await app.stop();
      // Bounded by design (1 s for the service's goodbye, 3 s for the drain), not by luck.
      expect(Date.now() - started).toBeLessThan(8000);
      expect(app.nc.isClosed()).toBe(true);
    } finally {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 20_000);
});
