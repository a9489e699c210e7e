/**
 * npm run fuzz — differential fuzzing of the engine and the live service against a real
 * nats-server (options: USAGE below, or --help). Exit code 1 when a disagreement outside the
 * documented open classes was found, 2 for a bad option.
 */
import { parseArgs, type ParseArgsConfig } from "node:util";
import { randomInt } from "node:crypto";
import { fuzz } from "../test/fuzz/fuzz.js";

const USAGE =
  "usage: npm run fuzz -- [--seconds N] [--seed N] [--deployment-seed N] [--cluster] [--cluster-share F]\n" +
  "       [--jetstream-share F] [--supercluster-share F] [--memory-share F] [--json] [--server-bin PATH]\n" +
  "       [--out DIR] [--shrink-tries N] [--no-live]\n" +
  "  --cluster-share F       share of deployments on a 3-node cluster (default 0.2; --cluster: all)\n" +
  "  --supercluster-share F  share on a supercluster instead, clusters [2,1] or [1,1,1] joined by gateways (default 0)\n" +
  "  --memory-share F        share on a memory resolver, the JWTs preloaded instead of pushed (default 0)\n" +
  "  --jetstream-share F     share with a JetStream exporter and importers (default 0.2; on a 3-node JetStream\n" +
  "                          cluster when the cluster or supercluster share picks one, measured on every node)\n";

const { values } = parseOrExit({
  options: {
    seconds: { type: "string", default: "60" },
    seed: { type: "string" },
    "deployment-seed": { type: "string" },
    cluster: { type: "boolean", default: false },
    "cluster-share": { type: "string", default: "0.2" },
    "jetstream-share": { type: "string" },
    "supercluster-share": { type: "string", default: "0" },
    "memory-share": { type: "string", default: "0" },
    json: { type: "boolean", default: false },
    "server-bin": { type: "string" },
    out: { type: "string", default: "fuzz-found" },
    "shrink-tries": { type: "string", default: "30" },
    "no-live": { type: "boolean", default: false },
    help: { type: "boolean", short: "h", default: false },
  },
  strict: true,
});
if (values.help) {
  process.stdout.write(USAGE);
  process.exit(0);
}

/** parseArgs, with a one-line error and the usage for an unknown or malformed option (exit code 2). */
function parseOrExit<T extends ParseArgsConfig>(config: T): ReturnType<typeof parseArgs<T>> {
  try {
    return parseArgs(config);
  } catch (e) {
    process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n${USAGE}`);
    process.exit(2);
  }
}

const int = (name: string, raw: string, max: number): number => {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0 || n > max) {
    process.stderr.write(`--${name} must be an integer from 0 to ${max}, got "${raw}"\n`);
    process.exit(2);
  }
  return n;
};

if (values["server-bin"]) process.env["NATS_SERVER_BIN"] = values["server-bin"];
const seed = values.seed !== undefined ? int("seed", values.seed, 0xffffffff) : randomInt(0, 2 ** 32 - 1);
const share = Number(values["cluster-share"]);
const jsShare = values["jetstream-share"] !== undefined ? Number(values["jetstream-share"]) : NaN;
const fraction = (name: string, raw: string): number => {
  const f = Number(raw);
  if (!Number.isFinite(f) || f < 0 || f > 1) {
    process.stderr.write(`--${name} must be a number from 0 to 1, got "${raw}"\n`);
    process.exit(2);
  }
  return f;
};
const superclusterShare = fraction("supercluster-share", values["supercluster-share"]);
const memoryShare = fraction("memory-share", values["memory-share"]);
const log = (line: string) => process.stderr.write(`${line}\n`);
log(`fuzz seed ${seed}`);
const report = await fuzz({
  seed,
  seconds: int("seconds", values.seconds, 7 * 24 * 3600),
  cluster: values.cluster,
  clusterShare: Number.isFinite(share) ? Math.min(1, Math.max(0, share)) : 0.2,
  live: !values["no-live"],
  superclusterShare,
  memoryShare,
  outDir: values.out,
  shrinkTries: int("shrink-tries", values["shrink-tries"], 1000),
  log,
  ...(Number.isFinite(jsShare) ? { jetstreamShare: Math.min(1, Math.max(0, jsShare)) } : {}),
  ...(values["deployment-seed"] !== undefined
    ? { only: int("deployment-seed", values["deployment-seed"], 0xffffffff) }
    : {}),
});
if (values.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
else {
  process.stdout.write(
    `seed ${report.seed}, nats-server ${report.server_version}: ${report.deployments} deployments (${report.cluster_deployments} on a cluster, ${report.supercluster_deployments} of them a supercluster; ${report.memory_deployments} on a memory resolver; ${report.jetstream_deployments} with JetStream), ${report.imports} imports (${report.truth.jetstream} judged by JetStream consumers), ${report.disagreements.length} disagreements\n`,
  );
  for (const d of report.disagreements) {
    process.stdout.write(
      `  ${d.judge}: ${d.import.account} ${d.import.name} (${d.import.type} ${d.import.subject} from ${d.import.from}) [${d.topology}] flows=${d.truth.map((t) => t.flows).join("/")} verdict=${d.verdict.status}/${d.verdict.cause ?? "-"}${d.open_class ? ` [open: ${d.open_class}]` : ""} ${d.scenario ?? ""}\n`,
    );
  }
}
process.exit(report.disagreements.some((d) => !d.open_class) ? 1 : 0);
