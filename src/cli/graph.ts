/**
 * `nats-insights graph`: the accounts and their imports from any source `check` reads, as Graphviz
 * DOT (the default), Mermaid, or a self-contained HTML page. Exit 0 when drawn, 2 on any error.
 */
import { writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { ConfigError } from "../config.js";
import { importGraph, toDot, toMermaid } from "../core/graph.js";
import { graphPage } from "../shell/graph-page.js";
import { audit } from "./audit.js";
import { oneSource, readSource, SOURCE_OPTIONS } from "./sources.js";

export const GRAPH_USAGE = `Usage: nats-insights graph [source] [--format dot|mermaid|html] [--output FILE]
  The accounts that import or are imported from, one edge per import from the source account to
  the importer: inactive red, warning orange, idle dashed. Sources as for check. The HTML page is
  self-contained (works offline); hovering or clicking an import shows its cause and its fix.
  --server-version V and --jetstream as for check.
  --format dot|mermaid|html   default dot
  --output FILE               write there instead of stdout
  --expiry-warning-days N     warn about tokens expiring within N days (default 7)`;

const FORMATS = ["dot", "mermaid", "html"] as const;

interface Io {
  stdout: { write(s: string): boolean };
  env: NodeJS.ProcessEnv;
}

export async function runGraph(argv: string[], io: Io): Promise<number> {
  let values: Record<string, unknown>;
  try {
    values = parseArgs({
      args: argv,
      options: {
        ...SOURCE_OPTIONS,
        format: { type: "string" },
        output: { type: "string" },
        "expiry-warning-days": { type: "string" },
      },
      strict: true,
      allowPositionals: false,
    }).values;
    oneSource(values);
  } catch (e) {
    if (e instanceof ConfigError) throw e;
    throw new ConfigError((e as Error).message.split("\n")[0]);
  }
  const format = (values["format"] as string | undefined) ?? "dot";
  if (!(FORMATS as readonly string[]).includes(format))
    throw new ConfigError(`--format must be one of ${FORMATS.join(", ")}, got "${format}"`);
  const days = Number(values["expiry-warning-days"] ?? "7");
  if (!Number.isFinite(days) || days <= 0) throw new ConfigError(`--expiry-warning-days must be a positive number`);
  const deployments = await readSource(values, io.env, () => {});
  const at = deployments[0]?.asOf ?? new Date();
  const graph = importGraph(audit(deployments, at, days * 86400).imports, at);
  const text = format === "dot" ? toDot(graph) : format === "mermaid" ? toMermaid(graph) : graphPage(graph);
  const output = values["output"] as string | undefined;
  if (output) {
    try {
      writeFileSync(output, text);
    } catch (e) {
      throw new ConfigError(`cannot write ${output}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
  } else io.stdout.write(text);
  return 0;
}
