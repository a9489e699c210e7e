/**
 * A rolling upgrade under the live service: the server restarts on a newer line with the same
 * store, and the service, reconnecting, judges the JWTs by the new line's rules (docs/servers.md).
 * The deployment works on one line and not the other: the importer maps its requests with
 * `{{random(1)}}`, which 2.10 does not know (the mapping is left out, requests reach the exporter)
 * and 2.12 on installs (requests go to `gone.0`, where nobody answers).
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { NatsConnection } from "@nats-io/nats-core";
import type { InsightsApp } from "../../src/app.js";
import { TestOperator, type TestAccount } from "../support/deployment.js";
import { serviceFlows } from "../support/flow.js";
import { checkUntil, startService, stopStarted } from "../support/live-service.js";
import { connectSystem, pushAll, startServer, type RunningServer } from "../support/nats-server.js";
import { pinnedServers, toolPath } from "../support/tools.js";

const oldest = pinnedServers()[0]!;

describe.skipIf(!toolPath("nats-server") || !oldest.bin)(
  `a rolling upgrade from ${oldest.version} to the newest line`,
  () => {
    let server: RunningServer;
    let app: InsightsApp;
    let sys: NatsConnection;
    let dir: string;
    let op: TestOperator;
    let exporter: TestAccount;
    let importer: TestAccount;

    const verdict = (reply: Awaited<ReturnType<typeof checkUntil>>) =>
      reply.imports.filter((d) => d.account === importer.id).map((d) => [d.status, d.cause]);

    beforeAll(async () => {
      op = await TestOperator.create({ signingKey: true });
      dir = mkdtempSync(join(tmpdir(), "insights-upgrade-"));
      exporter = await op.account("EXP", { exports: [{ name: "svc", subject: "svc.*", type: "service" }] });
      importer = await op.account("IMP", {
        imports: [{ name: "svc", account: exporter.id, subject: "svc.*", type: "service" }],
        mappings: { "svc.*": [{ subject: "gone.{{random(1)}}" }] },
      });
      server = await startServer(op, { bin: oldest.bin! });
      await pushAll(server, [exporter, importer]);
      app = await startService(op, server.url, dir, "1");
      sys = await connectSystem(server, op);
    }, 60_000);

    afterAll(() => stopStarted({ app, sys, server, dir }));

    it("the verdict follows the line the server runs, as the requests through the import do", async () => {
      expect(await serviceFlows(server, exporter, importer, "svc.*", "svc.x")).toBe(true);
      const before = verdict(await checkUntil(sys, (r) => verdict(r).length === 1));
      expect(before).toEqual([["active", null]]);

      const port = Number(new URL(server.url).port);
      await sys.close();
      await server.stop();
      server = await startServer(op, {
        port,
        stored: [exporter, importer].map((a) => ({ id: a.id, jwt: a.jwt })),
      });
      sys = await connectSystem(server, op);
      expect(await serviceFlows(server, exporter, importer, "svc.*", "svc.x")).toBe(false);
      const after = await checkUntil(sys, (r) => verdict(r)[0]?.[0] !== "active", 30_000);
      expect(verdict(after)).toEqual([["inactive", "local_subject_mapped"]]);
    }, 90_000);
  },
);
