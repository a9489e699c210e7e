/**
 * `nsc validate -A` on an nsc store holding the same JWTs, for comparison. The store is written
 * directly in nsc 2.12's layout (found by making a small store with the real nsc):
 *
 *   <stores>/<operator>/.nsc                     {"managed":false,"name":…,"kind":"operator","version":"1"}
 *   <stores>/<operator>/<operator>.jwt
 *   <stores>/<operator>/accounts/<name>/<name>.jwt
 *
 * and nsc runs fully isolated, in the test harness's environment (test/support/nsc.ts: HOME,
 * XDG_CONFIG_HOME, XDG_DATA_HOME, NSC_HOME, NKEYS_PATH in a temp dir), with `nsc.json` pointing at
 * that store. `validate` needs no keys.
 */
import { spawn } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Nsc } from "../test/support/nsc.js";
import type { Deployment } from "./generate.js";

export interface NscResult {
  nsc_validate_ms: number;
  /** nsc's exit code (it exits non-zero when it finds issues, which this deployment has on purpose). */
  nsc_exit_code: number | null;
}

const OPERATOR = "BENCH_OP";

export async function runNscValidate(nscBin: string, d: Deployment, timeoutMs: number): Promise<NscResult> {
  // The test harness's isolated nsc environment; the store is written into its data directory.
  const nsc = Nsc.create(nscBin);
  try {
    const stores = join(nsc.env["XDG_DATA_HOME"]!, "nats", "nsc", "stores");
    const opDir = join(stores, OPERATOR);
    mkdirSync(join(opDir, "accounts"), { recursive: true });
    writeFileSync(
      join(opDir, ".nsc"),
      JSON.stringify({ managed: false, name: OPERATOR, kind: "operator", version: "1" }),
    );
    writeFileSync(join(opDir, `${OPERATOR}.jwt`), d.operator.jwt);
    for (const a of d.accounts) {
      mkdirSync(join(opDir, "accounts", a.name));
      writeFileSync(join(opDir, "accounts", a.name, `${a.name}.jwt`), a.jwt);
    }
    writeFileSync(
      join(nsc.env["NSC_HOME"]!, "nsc.json"),
      JSON.stringify({ store_root: stores, operator: OPERATOR, account: "SYS", github_updates: "", last_update: 0 }),
    );
    const t0 = performance.now();
    const { code, out } = await new Promise<{ code: number | null; out: string }>((resolve, reject) => {
      // Timed here, not through nsc.run: validate exits non-zero on purpose, and only its run counts.
      const child = spawn(nsc.bin, ["validate", "-A"], {
        env: nsc.env,
        cwd: nsc.workDir,
        stdio: ["ignore", "pipe", "pipe"],
      });
      let out = "";
      let bytes = 0;
      const take = (b: Buffer) => {
        bytes += b.length;
        if (out.length < 4_000) out += b.toString();
      };
      child.stdout.on("data", take);
      child.stderr.on("data", take);
      const timer = setTimeout(() => {
        child.kill("SIGKILL");
        reject(new Error(`nsc validate -A did not finish within ${timeoutMs} ms`));
      }, timeoutMs);
      child.once("error", reject);
      child.once("close", (c) => {
        clearTimeout(timer);
        resolve({ code: c, out: bytes > 0 ? out : "" });
      });
    });
    const ms = performance.now() - t0;
    // nsc lists every account it validated; make sure it read the whole store.
    if (!out.includes('Account "') && !out.includes('Operator "'))
      throw new Error(`nsc validate -A said nothing recognisable (exit ${code}):\n${out}`);
    return { nsc_validate_ms: ms, nsc_exit_code: code };
  } finally {
    await nsc.cleanup();
  }
}
