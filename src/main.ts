#!/usr/bin/env node
/** `npm start`: run the live service until SIGINT/SIGTERM. */
import { InsightsApp } from "./app.js";
import { ConfigError, loadConfig, usage } from "./config.js";
import { createLogger } from "./shell/log.js";

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv.includes("--help") || argv.includes("-h")) {
    console.log(usage());
    return;
  }
  const config = loadConfig(argv, process.env);
  const log = createLogger(config.logLevel);
  const app = await InsightsApp.start(config, log);
  const shutdown = (signal: string) => {
    log.info({ signal }, "draining and stopping");
    void app.stop().then(() => process.exit(0));
  };
  process.once("SIGINT", () => shutdown("SIGINT"));
  process.once("SIGTERM", () => shutdown("SIGTERM"));
  void app.nc.closed().then((err) => {
    if (err) log.error({ err: err.message }, "connection closed");
  });
}

main().catch((e: unknown) => {
  const message = e instanceof Error ? e.message : String(e);
  console.error(`nats-insights: ${message.split("\n")[0]}`);
  process.exit(e instanceof ConfigError ? 2 : 1);
});
