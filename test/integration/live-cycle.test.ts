/**
 * An import cycle through the live service: the engine alone calls both imports of the cycle
 * `import_cycle`; the servers' own view says which one they refused. The account loaded first
 * loses its import (inactive); the other's import is honoured, so the service makes it a warning
 * (it works now, and would die if the accounts were loaded the other way round), never a
 * "security exposure".
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { NatsConnection } from "@nats-io/nats-core";
import type { InsightsApp } from "../../src/app.js";
import { startService, stopStarted } from "../support/live-service.js";
import { TestOperator, type TestAccount } from "../support/deployment.js";
import { streamFlows } from "../support/flow.js";
import { connectAs, connectSystem, pushAll, startServer, type RunningServer } from "../support/nats-server.js";
import { toolPath } from "../support/tools.js";

interface Diagnosis {
  account: string;
  cause: string | null;
  status: string;
  message: string;
}

describe.skipIf(!toolPath("nats-server"))("an import cycle seen by the live service", () => {
  let server: RunningServer;
  let sys: NatsConnection;
  let app: InsightsApp;
  let dir: string;
  let first: TestAccount;
  let second: TestAccount;
  const pinned: NatsConnection[] = [];

  beforeAll(async () => {
    const op = await TestOperator.create({ signingKey: true });
    server = await startServer(op);
    first = await op.account("FIRST");
    second = await op.account("SECOND");
    await first.reissue({
      exports: [{ subject: "loop.>", type: "stream" }],
      imports: [{ account: second.id, subject: "loop.>", type: "stream" }],
    });
    await second.reissue({
      exports: [{ subject: "loop.>", type: "stream" }],
      imports: [{ account: first.id, subject: "loop.>", type: "stream" }],
    });
    await pushAll(server, [first, second]);
    // FIRST is loaded first (loading it loads SECOND, whose import is added before FIRST's).
    pinned.push(await connectAs(server, first), await connectAs(server, second));
    sys = await connectSystem(server, op);
    dir = mkdtempSync(join(tmpdir(), "insights-cycle-"));
    app = await startService(op, server.url, dir, "1");
  }, 60_000);

  afterAll(() => stopStarted({ app, pinned, sys, server, dir }));

  const diagnosisOf = async (account: TestAccount): Promise<Diagnosis> => {
    const reply = (
      await sys.request("insights.imports.check", JSON.stringify({ account: account.id }), { timeout: 5000 })
    ).json<{ imports: Diagnosis[] }>();
    return reply.imports[0]!;
  };

  it("the refused import is inactive import_cycle; the honoured one a warning, as the flow says", async () => {
    // The server's view comes with the service's cross-checks: wait until it has been applied.
    let honoured = await diagnosisOf(second);
    for (let i = 0; i < 100 && honoured.status !== "warning"; i++) {
      await new Promise((r) => setTimeout(r, 100));
      honoured = await diagnosisOf(second);
    }
    const refused = await diagnosisOf(first);
    expect({ cause: refused.cause, status: refused.status }).toEqual({ cause: "import_cycle", status: "inactive" });
    expect({ cause: honoured.cause, status: honoured.status }).toEqual({ cause: "import_cycle", status: "warning" });
    expect(honoured.message).toMatch(/another import of the cycle is the refused one/);
    expect(honoured.message).not.toMatch(/security exposure/);
    // The judge: messages cross SECOND's import (from FIRST) and not FIRST's (from SECOND).
    expect(await streamFlows(server, first, second, "loop.a", "loop.a", 0)).toBe(true);
    expect(await streamFlows(server, second, first, "loop.b", "loop.b", 0)).toBe(false);
  }, 30_000);
});
