/** `nats-insights serve` (what `npm start` runs): the live service until SIGINT/SIGTERM. */
import { InsightsApp } from "../app.js";
import { loadConfig, usage } from "../config.js";
import { createLogger } from "../shell/log.js";

export async function runServe(argv: string[]): Promise<number | null> {
  if (argv.includes("--help") || argv.includes("-h")) {
    console.log(usage());
    return 0;
  }
  const config = loadConfig(argv, process.env);
  const log = createLogger(config.logLevel);
  let app: InsightsApp | null = null;
  // Installed before start-up, so a signal while loading still ends the process cleanly.
  const shutdown = (signal: string) => {
    log.info({ signal }, "draining and stopping");
    void (app ? app.stop() : Promise.resolve()).then(() => process.exit(0));
  };
  process.once("SIGINT", () => shutdown("SIGINT"));
  process.once("SIGTERM", () => shutdown("SIGTERM"));
  app = await InsightsApp.start(config, log);
  void app.nc.closed().then((err) => {
    if (err) log.error({ err: err.message }, "connection closed");
  });
  return null; // keeps running
}
