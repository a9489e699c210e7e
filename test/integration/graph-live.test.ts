/**
 * The live service serves the import graph page at / on its HTTP port, and the page redraws when a
 * verdict changes: a push that fixes a broken import turns its red edge green in Chromium.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { InsightsApp } from "../../src/app.js";
import { loadConfig } from "../../src/config.js";
import type { ImportGraph } from "../../src/core/graph.js";
import { createLogger } from "../../src/shell/log.js";
import { hasChromium, launchChromium, type Browser } from "../support/browser.js";
import { freePort } from "../support/cluster.js";
import { TestOperator, activation, type TestAccount } from "../support/deployment.js";
import { pushAccount, pushAll, startServer, type RunningServer } from "../support/nats-server.js";
import { toolPath } from "../support/tools.js";

describe.skipIf(!toolPath("nats-server") || !hasChromium())("the live graph page at /", () => {
  let server: RunningServer;
  let app: InsightsApp;
  let browser: Browser;
  let dir: string;
  let port: number;
  let exporter: TestAccount;
  let importer: TestAccount;

  beforeAll(async () => {
    const op = await TestOperator.create();
    server = await startServer(op);
    exporter = await op.account("ORDERS", {
      exports: [{ name: "orders", subject: "orders.>", type: "stream", token_req: true }],
    });
    importer = await op.account("BILLING", {
      imports: [{ name: "orders", account: exporter.id, subject: "orders.eu", type: "stream" }],
    });
    await pushAll(server, [exporter, importer]);
    dir = mkdtempSync(join(tmpdir(), "graph-live-"));
    writeFileSync(join(dir, "sys.creds"), await op.system.userCreds());
    port = await freePort();
    app = await InsightsApp.start(
      loadConfig(["--nats-url", server.url, "--creds", join(dir, "sys.creds"), "--metrics-port", String(port)], {}),
      createLogger(process.env["TEST_LOG"] ?? "silent"),
    );
    browser = await launchChromium();
  }, 90_000);

  afterAll(async () => {
    await browser?.close();
    await app?.stop();
    await server?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const edgeStatus = `g.edge[data-to]`;

  it("shows the live verdicts, and redraws when a push fixes an import", async () => {
    const json = (await (await fetch(`http://127.0.0.1:${port}/graph.json`)).json()) as ImportGraph;
    expect(json.edges.map((e) => [e.from, e.to, e.status, e.cause])).toEqual([
      [exporter.id, importer.id, "inactive", "missing_activation_token"],
    ]);

    const tab = await browser.context.newPage();
    const response = await tab.goto(`http://127.0.0.1:${port}/`);
    expect(response?.headers()["content-security-policy"]).toContain("default-src 'none'");
    await tab.waitForSelector("body[data-rendered]");
    expect(
      (
        await tab.$$eval("g.node text", (ts) => ts.map((t) => (t as unknown as { textContent: string }).textContent))
      ).sort(),
    ).toEqual(["BILLING", "ORDERS"]);
    const stroke = () =>
      tab.$eval(
        `${edgeStatus} path.line`,
        (p) =>
          (globalThis as unknown as { getComputedStyle(e: unknown): { stroke: string } }).getComputedStyle(p).stroke,
      );
    expect(await stroke()).toBe("rgb(255, 0, 0)");

    await importer.reissue({
      imports: [
        {
          name: "orders",
          account: exporter.id,
          subject: "orders.eu",
          type: "stream",
          token: await activation(exporter, importer.id, "orders.eu", "stream"),
        },
      ],
    });
    await pushAccount(server, importer.operator, importer.jwt);
    // The page re-reads graph.json by itself: wait for its edge to turn active, no reload.
    await tab.waitForSelector(`${edgeStatus}[data-status="active"]`, { timeout: 30_000 });
    expect(await stroke()).toBe("rgb(47, 125, 50)");
    await tab.close();
  }, 60_000);
});
