/** `nats-insights serve` (what `npm start` runs): the live service until SIGINT/SIGTERM. */
import { InsightsApp, StartAbandoned } from "../app.js";
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
  let signalled: (signal: string) => void = () => {};
  const stopped = new Promise<string>((resolve) => (signalled = resolve));
  // Installed before start-up, so a signal while waiting for a server or loading ends the process cleanly.
  const shutdown = (signal: string) => {
    log.info({ signal }, "draining and stopping");
    signalled(signal);
    void (app ? app.stop() : Promise.resolve()).then(() => process.exit(0));
  };
  process.once("SIGINT", () => shutdown("SIGINT"));
  process.once("SIGTERM", () => shutdown("SIGTERM"));
  try {
    app = await InsightsApp.start(
      config,
      log,
      stopped.then(() => {}),
    );
  } catch (e) {
    if (e instanceof StartAbandoned) return null; // the signal handler exits
    throw e;
  }
  void app.nc.closed().then((err) => {
    if (err) log.error({ err: err.message }, "connection closed");
  });
  return null; // keeps running
}
