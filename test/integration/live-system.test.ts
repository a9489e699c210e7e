/**
 * The system account's own exports and imports through the live service, on a server that runs
 * JetStream (so the system account also exports `$JS.API.>`): each verdict is judged by a real
 * request through the import, which nats-server itself answers.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { NatsConnection } from "@nats-io/nats-core";
import { createAccount } from "@nats-io/jwt";
import type { InsightsApp } from "../../src/app.js";
import { startService, stopStarted } from "../support/live-service.js";
import { TestOperator, type TestAccount } from "../support/deployment.js";
import { serviceAnswered } from "../support/flow.js";
import { connectAs, connectSystem, pushAll, startServer, type RunningServer } from "../support/nats-server.js";
import { toolPath } from "../support/tools.js";

interface Diagnosis {
  local_subject: string | null;
  subject: string;
  cause: string | null;
  status: string;
}

describe.skipIf(!toolPath("nats-server"))(
  "the system account's own exports and imports, live, on a JetStream server",
  () => {
    let server: RunningServer;
    let sys: NatsConnection;
    let app: InsightsApp;
    let dir: string;
    let importer: TestAccount;
    const pinned: NatsConnection[] = [];

    beforeAll(async () => {
      const op = await TestOperator.create({ signingKey: true });
      dir = mkdtempSync(join(tmpdir(), "insights-sys-"));
      server = await startServer(op, { extraConfig: `jetstream: { store_dir: ${JSON.stringify(join(dir, "js"))} }` });
      importer = await op.account("ORDINARY");
      const stranger = createAccount().getPublicKey();
      await importer.reissue({
        imports: [
          { name: "js", account: op.system.id, subject: "$JS.API.INFO", type: "service", local_subject: "js.info" },
          {
            name: "own",
            account: op.system.id,
            subject: `$SYS.REQ.ACCOUNT.${importer.id}.CONNZ`,
            type: "service",
            local_subject: "my.connz",
          },
          { name: "ping", account: op.system.id, subject: "$SYS.REQ.SERVER.PING.CONNZ", type: "service" },
          {
            name: "other",
            account: op.system.id,
            subject: `$SYS.REQ.ACCOUNT.${stranger}.CONNZ`,
            type: "service",
            local_subject: "their.connz",
          },
        ],
      });
      await pushAll(server, [importer]);
      pinned.push(await connectAs(server, importer)); // loaded, so the servers' view is cross-checked
      sys = await connectSystem(server, op);
      app = await startService(op, server.url, dir, "1");
    }, 60_000);

    afterAll(() => stopStarted({ app, pinned, sys, server, dir }));

    it("the service's verdicts are what the requests through each import get", async () => {
      const reply = (
        await sys.request("insights.imports.check", JSON.stringify({ account: importer.id }), { timeout: 5000 })
      ).json<{ imports: Diagnosis[] }>();
      const verdicts = Object.fromEntries(
        reply.imports.map((d) => [d.local_subject ?? d.subject, [d.status, d.cause]]),
      );
      const flows: Record<string, boolean> = {};
      for (const subject of Object.keys(verdicts)) flows[subject] = await serviceAnswered(server, importer, subject);
      expect(verdicts).toEqual({
        "js.info": ["active", null],
        "my.connz": ["active", null],
        "$SYS.REQ.SERVER.PING.CONNZ": ["active", null],
        "their.connz": ["inactive", "account_token_position_mismatch"],
      });
      expect(flows).toEqual({
        "js.info": true,
        "my.connz": true,
        "$SYS.REQ.SERVER.PING.CONNZ": true,
        "their.connz": false,
      });
    });
  },
);
