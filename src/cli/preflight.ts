/**
 * `nats-insights preflight account.jwt`: what pushing this JWT would change, before `nsc push`.
 * Exit 0: nothing breaks; 1: the server would refuse it, or an import would stop working (or a
 * newly declared one would not work); 2: usage or configuration error.
 */
import { readFileSync, statSync } from "node:fs";
import { parseArgs } from "node:util";
import { ConfigError } from "../config.js";
import { MAX_TOKEN_BYTES, peekClaims } from "../core/jwt/decode.js";
import { preflight, type PreflightResult } from "../core/whatif/preflight.js";
import { loadDirectories } from "./audit.js";
import { oneSource, readSource, SOURCE_OPTIONS } from "./check.js";
import { painter } from "./render.js";

export const PREFLIGHT_USAGE = `Usage: nats-insights preflight ACCOUNT.jwt [source] [--json]
  What pushing ACCOUNT.jwt would change, against the same sources as check (default: nsc's store).
  Exit status: 0 nothing breaks, 1 the push would be refused or would break an import, 2 usage error.`;

interface Io {
  stdout: { write(s: string): boolean; isTTY?: boolean };
  env: NodeJS.ProcessEnv;
}

export async function runPreflight(argv: string[], io: Io): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: { ...SOURCE_OPTIONS, json: { type: "boolean" }, "expiry-warning-days": { type: "string" } }, strict: true, allowPositionals: true });
  } catch (e) {
    throw new ConfigError((e as Error).message.split("\n")[0]!);
  }
  const { values, positionals } = parsed;
  if (positionals.length !== 1) throw new ConfigError("give one account JWT file to pre-flight");
  oneSource(values);
  const jwt = readJwt(positionals[0]!);
  const deployments = await readSource(values, io.env, () => {});
  const loaded = loadDirectories(deployments);
  // The deployment whose operator signed the proposed JWT; else the first.
  const issuer = peekClaims(jwt)?.["iss"];
  const target = loaded.find((l) => typeof issuer === "string" && l.dir.trust.trusts(issuer)) ?? loaded[0]!;
  const days = Number(values["expiry-warning-days"] ?? "7");
  const outcome = preflight(target.dir, jwt, { now: Math.floor(Date.now() / 1000), expiryWarningSeconds: days * 86400 });
  if (!outcome.ok) throw new ConfigError(`${positionals[0]}: ${outcome.error}`);
  const r = outcome.result;
  io.stdout.write(values["json"] ? `${JSON.stringify(r, null, 2)}\n` : `${render(r, painter(!!io.stdout.isTTY && !io.env["NO_COLOR"]))}\n`);
  return !r.stored || r.breaks ? 1 : 0;
}

function readJwt(path: string): string {
  try {
    if (statSync(path).size > MAX_TOKEN_BYTES) throw new ConfigError(`${path} is larger than any JWT can be`);
    return readFileSync(path, "utf8").trim();
  } catch (e) {
    if (e instanceof ConfigError) throw e;
    throw new ConfigError(`cannot read ${path}`);
  }
}

function render(r: PreflightResult, paint: ReturnType<typeof painter>): string {
  const lines = [paint("1", `pre-flight of ${r.account_name ?? "(unnamed)"} ${paint("2", r.account)}`)];
  if (!r.stored) {
    lines.push(paint("31", `✗ the server would refuse this JWT: ${r.refusal}`));
    for (const d of r.refused_imports) lines.push(`  ${d.type} "${d.subject}" from ${d.source_account_name ?? d.source_account}: ${d.message}`);
  }
  for (const c of r.changes) {
    const colour = c.breaks ? "31" : c.status === "active" ? "32" : "33";
    const from = c.previous_status ? `${c.previous_status}${c.previous_cause ? ` (${c.previous_cause})` : ""}` : "new";
    lines.push(`  ${paint(colour, c.breaks ? "✗ breaks" : "~ changes")} ${c.account_name ?? c.account}: ${c.type} "${c.subject}" from ${c.source_account_name ?? c.source_account}: ${from} → ${c.status}${c.cause ? ` (${c.cause})` : ""}`);
    if (c.status !== "active") lines.push(`      ${c.message}`);
  }
  for (const d of r.removed) lines.push(`  - no longer declared: ${d.type} "${d.subject}" from ${d.source_account_name ?? d.source_account}`);
  for (const n of r.notes) lines.push(`  note: ${n}`);
  if (r.stored && r.changes.length === 0) lines.push(paint("32", "✓ no import would change"));
  lines.push(r.stored && !r.breaks ? paint("32", "safe to push") : paint("31", "do not push as is"));
  return lines.join("\n");
}
