/**
 * `npm run demo`: a local nats-server in operator mode holding a deployment with one import of
 * every cause, the service watching it, and a readable report. Runs until Ctrl-C, then stops
 * everything it started and removes its temp files. Needs the tools of `bash scripts/setup.sh`.
 *
 * The deployment is the scenario catalogue the tests judge against the real server
 * (test/support/scenarios.ts), so what the demo shows is what the tests prove.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { InsightsApp } from "../src/app.js";
import { painter, renderReport } from "../src/cli/render.js";
import { loadConfig } from "../src/config.js";
import { accountErrors, summarize } from "../src/core/report.js";
import { createLogger } from "../src/shell/log.js";
import { TestOperator } from "../test/support/deployment.js";
import { connectSystem, pushWith, startServer } from "../test/support/nats-server.js";
import { SCENARIOS } from "../test/support/scenarios.js";
import { toolPath } from "../test/support/tools.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function main(): Promise<void> {
  if (!toolPath("nats-server")) throw new Error("no nats-server: run `bash scripts/setup.sh` first");
  const op = await TestOperator.create({ signingKey: true });
  const server = await startServer(op);
  const dir = mkdtempSync(join(tmpdir(), "nats-insights-demo-"));
  const creds = join(dir, "sys.creds");
  writeFileSync(creds, await op.system.userCreds(), { mode: 0o600 });

  let app: InsightsApp | null = null;
  const stop = async () => {
    console.log("\nstopping the service and nats-server, removing temp files…");
    await Promise.race([app?.stop(), sleep(1000)]);
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
    process.exit(0);
  };
  process.once("SIGINT", () => void stop());
  process.once("SIGTERM", () => void stop());

  console.log(`nats-server ${server.version} (operator mode, full resolver) on ${server.url}`);
  app = await InsightsApp.start(
    loadConfig(["--nats-url", server.url, "--creds", creds, "--log-level", "error"], {}),
    createLogger(process.env["DEMO_LOG"] ?? "error"),
  );

  // Pushed after the service started, so it sees the pushes the server rejects.
  const nc = await connectSystem(server, op);
  for (const scenario of SCENARIOS)
    for (const account of (await scenario.build(op)).accounts) await pushWith(nc, account.jwt);
  await nc.flush();
  await nc.close();
  await sleep(200); // the service hears the last pushes
  await app.settled(); // rejected pushes are known after ~1 s of asking the resolver

  const imports = app.diagnoses();
  const errors = accountErrors(app.monitor.directory);
  const report = {
    checked_at: new Date().toISOString(),
    summary: summarize(app.monitor.directory.size, imports),
    imports,
    account_errors: errors,
  };
  console.log(`\n${renderReport(report, painter(!!process.stdout.isTTY && !process.env["NO_COLOR"]))}\n`);

  const nats = toolPath("nats") ?? "nats";
  console.log("Try it (the service keeps watching; push a JWT or wait for a token to expire):");
  console.log(`  ${nats} --server ${server.url} --creds ${creds} req insights.imports.check '{"status":"inactive"}'`);
  console.log(`  ${nats} --server ${server.url} --creds ${creds} micro ls`);
  console.log(`  ${nats} --server ${server.url} --creds ${creds} sub 'insights.events.imports.>'`);
  console.log("Ctrl-C stops everything.");
}

main().catch((e: Error) => {
  console.error(`demo: ${e.message}`);
  process.exit(1);
});
