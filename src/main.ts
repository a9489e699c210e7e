#!/usr/bin/env node
/**
 * The `nats-insights` command: `serve` (the default, what `npm start` runs), `check` (the offline
 * audit) or `preflight`. Errors end with one line on stderr and exit 2: for `check` and `preflight`
 * exit 1 means only "an import is broken", so every other failure (usage, configuration, connection,
 * credentials, anything unexpected) is 2; the service exits 1 only on an unexpected error.
 */
import { ConfigError, usage } from "./config.js";
import { CHECK_USAGE, runCheck } from "./cli/check.js";
import { GRAPH_USAGE, runGraph } from "./cli/graph.js";
import { HISTORY_USAGE, runHistory } from "./cli/history.js";
import { PREFLIGHT_USAGE, runPreflight } from "./cli/preflight.js";
import { runServe } from "./cli/serve.js";

const HELP = `Usage: nats-insights [serve] [options]    the live service (default)
       nats-insights check [options]      the offline audit; exit 1 when an import is inactive
       nats-insights preflight FILE       what pushing an account JWT would change; exit 1 if it breaks
       nats-insights graph [options]      the accounts and their imports as DOT, Mermaid or an HTML page
       nats-insights history --account X  when X's imports changed and why, from a running service

${usage()}

${CHECK_USAGE}

${PREFLIGHT_USAGE}

${GRAPH_USAGE}

${HISTORY_USAGE}`;

/** Commands whose exit 1 is a verdict: any failure to reach one is 2. */
const GATES = new Set(["check", "preflight"]);

/** Each offline command's own usage, for `nats-insights COMMAND --help`. */
const COMMAND_USAGE: Record<string, string> = {
  check: CHECK_USAGE,
  preflight: PREFLIGHT_USAGE,
  graph: GRAPH_USAGE,
  history: HISTORY_USAGE,
};

async function main(argv: string[]): Promise<number | null> {
  const [command, ...rest] = argv;
  const commandUsage = command !== undefined ? COMMAND_USAGE[command] : undefined;
  if (commandUsage !== undefined && (rest.includes("--help") || rest.includes("-h"))) {
    console.log(commandUsage);
    return 0;
  }
  switch (command) {
    case "check":
      return runCheck(rest, { stdout: process.stdout, stderr: process.stderr, env: process.env });
    case "preflight":
      return runPreflight(rest, { stdout: process.stdout, env: process.env });
    case "graph":
      return runGraph(rest, { stdout: process.stdout, env: process.env });
    case "history":
      return runHistory(rest, { stdout: process.stdout, env: process.env });
    case "serve":
      return runServe(rest);
    case "help":
    case "--help":
    case "-h":
      console.log(HELP);
      return 0;
    default:
      if (command !== undefined && !command.startsWith("-"))
        throw new ConfigError(`unknown command "${command}" (serve, check, preflight, graph, history, help)`);
      return runServe(argv);
  }
}

/** The one way a run ends on an error: one line on stderr, and 2 (or 1 for the service's unexpected ones). */
function fail(e: unknown): never {
  const message = e instanceof Error ? e.message : String(e);
  console.error(`nats-insights: ${message.split("\n")[0]}`);
  process.exit(e instanceof ConfigError || GATES.has(process.argv[2] ?? "") ? 2 : 1);
}

// A reader that stops early (`check --json | head`) closes the pipe: the rest of the report is not
// wanted, and the verdict is still the exit code. Without a listener Node throws the EPIPE as an
// uncaught 'error' event, with a stack trace, and exits 1 whatever the verdict.
process.stdout.on("error", (e: NodeJS.ErrnoException) => {
  if (e.code !== "EPIPE") fail(e);
});

main(process.argv.slice(2)).then((code) => {
  if (code !== null) process.exitCode = code;
}, fail);
