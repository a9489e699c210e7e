/**
 * `nats-insights preflight account.jwt`: what pushing this JWT would change, before `nsc push`.
 * Exit 0: nothing breaks; 1: the server would refuse it, or an import would stop working (or a
 * newly declared one would not work); 2: usage or configuration error.
 */
import { readFileSync, statSync } from "node:fs";
import { parseArgs } from "node:util";
import { ConfigError } from "../config.js";
import { jwtDigest, MAX_TOKEN_BYTES, peekClaims } from "../core/jwt/decode.js";
import { preflight, type PreflightResult } from "../core/whatif/preflight.js";
import type { Deployment } from "./deployment.js";
import { isLive, loadDirectories, oneSource, readSource, SOURCE_OPTIONS } from "./sources.js";
import type { AccountDirectory } from "../core/directory.js";
import { painter } from "./render.js";

export const PREFLIGHT_USAGE = `Usage: nats-insights preflight ACCOUNT.jwt [source] [--json]
  What pushing ACCOUNT.jwt would change, compared with one source as check reads them (default:
  nsc's store). Compare with what the servers hold: --server URL or --context NAME (with the
  system-account credentials). \`nsc edit\` writes the edited JWT into the store, so the store is
  no baseline for it: a JWT identical to the baseline's, read from an nsc store, is refused.
  Judged by the rules of the servers' line, as check says (--server-version V, --jetstream).
  Exit status: 0 nothing breaks, 1 the push would be refused or would break an import,
  2 no verdict (usage, connection or credential error, or nothing to compare with).`;

interface Io {
  stdout: { write(s: string): boolean; isTTY?: boolean };
  env: NodeJS.ProcessEnv;
}

/** What the proposed JWT was compared with, said in every answer. */
export interface Baseline {
  source: string;
  /** The baseline's JWT for this account: the same token, another one, or none. */
  account_jwt: "identical" | "different" | "none";
  /** `iat` of the baseline's JWT for this account, ISO 8601, when there is one. */
  account_jwt_issued_at: string | null;
}

export async function runPreflight(argv: string[], io: Io): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: { ...SOURCE_OPTIONS, json: { type: "boolean" }, "expiry-warning-days": { type: "string" } },
      strict: true,
      allowPositionals: true,
    });
  } catch (e) {
    throw new ConfigError((e as Error).message.split("\n")[0]);
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
  const baseline = baselineOf(target.deployment.origin, target.dir, jwt);
  if (baseline.account_jwt === "identical" && !isLive(values) && !values["jwt-dir"]) {
    throw new ConfigError(
      `${positionals[0]}: ${target.deployment.origin} already holds this exact JWT (nsc edit writes it there), so there is nothing to compare it with; compare with the servers: --server URL or --context NAME${serviceUrlHint(target.deployment)}`,
    );
  }
  const days = Number(values["expiry-warning-days"] ?? "7");
  const outcome = preflight(target.dir, jwt, {
    now: Math.floor(Date.now() / 1000),
    expiryWarningSeconds: days * 86400,
  });
  if (!outcome.ok) throw new ConfigError(`${positionals[0]}: ${outcome.error}`);
  const r = outcome.result;
  io.stdout.write(
    values["json"]
      ? `${JSON.stringify({ ...r, compared_with: baseline }, null, 2)}\n`
      : `${render(r, baseline, painter(!!io.stdout.isTTY && !io.env["NO_COLOR"]))}\n`,
  );
  return !r.stored || r.breaks ? 1 : 0;
}

function baselineOf(source: string, dir: AccountDirectory, jwt: string): Baseline {
  const id = peekClaims(jwt)?.["sub"];
  const current = typeof id === "string" ? dir.get(id) : undefined;
  const iat = current?.claims?.issuedAt;
  return {
    source,
    account_jwt: !current ? "none" : current.digest === jwtDigest(jwt) ? "identical" : "different",
    account_jwt_issued_at: typeof iat === "number" ? new Date(iat * 1000).toISOString() : null,
  };
}

/** nsc push sends to the operator's service URLs; name them as the servers to compare with. */
function serviceUrlHint(d: Deployment): string {
  const urls = d.operatorJwts.flatMap((op) => {
    const nats = peekClaims(op)?.["nats"] as { operator_service_urls?: unknown } | undefined;
    return Array.isArray(nats?.operator_service_urls)
      ? nats.operator_service_urls.filter((u): u is string => typeof u === "string")
      : [];
  });
  return urls.length > 0 ? ` (the operator names ${urls.slice(0, 3).join(", ")})` : "";
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

function render(r: PreflightResult, baseline: Baseline, paint: ReturnType<typeof painter>): string {
  const held = {
    identical: "this same JWT",
    different: `a JWT issued ${baseline.account_jwt_issued_at ?? "(no iat)"}`,
    none: "no JWT for this account",
  }[baseline.account_jwt];
  const lines = [
    paint("1", `pre-flight of ${r.account_name ?? "(unnamed)"} ${paint("2", r.account)}`),
    `  compared with ${baseline.source}, which holds ${held}`,
  ];
  if (!r.stored) {
    lines.push(paint("31", `✗ the server would refuse this JWT: ${r.refusal}`));
    for (const d of r.refused_imports)
      lines.push(`  ${d.type} "${d.subject}" from ${d.source_account_name ?? d.source_account}: ${d.message}`);
  }
  for (const c of r.changes) {
    const colour = c.breaks ? "31" : c.status === "active" ? "32" : "33";
    const from = c.previous_status ? `${c.previous_status}${c.previous_cause ? ` (${c.previous_cause})` : ""}` : "new";
    lines.push(
      `  ${paint(colour, c.breaks ? "✗ breaks" : "~ changes")} ${c.account_name ?? c.account}: ${c.type} "${c.subject}" from ${c.source_account_name ?? c.source_account}: ${from} → ${c.status}${c.cause ? ` (${c.cause})` : ""}`,
    );
    if (c.status !== "active") lines.push(`      ${c.message}`);
  }
  for (const d of r.removed)
    lines.push(`  - no longer declared: ${d.type} "${d.subject}" from ${d.source_account_name ?? d.source_account}`);
  for (const n of r.notes) lines.push(`  note: ${n}`);
  if (r.stored && r.changes.length === 0) lines.push(paint("32", "✓ no import would change"));
  lines.push(r.stored && !r.breaks ? paint("32", "safe to push") : paint("31", "do not push as is"));
  return lines.join("\n");
}
