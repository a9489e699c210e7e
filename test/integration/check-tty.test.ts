/**
 * `nats-insights check` on a real terminal (a pseudo-terminal from util-linux `script`): colour,
 * and a progress indicator on stderr for a large load; neither when NO_COLOR is set or off a terminal.
 */
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAccount } from "@nats-io/nkeys";
import { TestOperator, signClaims } from "../support/deployment.js";
import { fast } from "../support/fast-keys.js";
import { REPO_ROOT } from "../support/tools.js";

const execFileP = promisify(execFile);
const CLI = join(REPO_ROOT, "dist", "src", "main.js");
const hasScript = existsSync("/usr/bin/script");

describe.skipIf(!hasScript)("check on a terminal", () => {
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "tty-"));
    const op = await TestOperator.create();
    writeFileSync(join(dir, "operator.jwt"), op.jwt);
    // 1,000 accounts, one of which imports what nobody exports: a large load with one failure.
    const limits = { imports: -1, exports: -1, subs: -1, data: -1, payload: -1, conn: -1, leaf: -1, wildcards: true };
    // fast(): node:crypto derives each public key once (tweetnacl takes milliseconds per key, each time it is asked).
    const first = fast(createAccount());
    const signer = fast(op.key);
    for (let i = 0; i < 1000; i++) {
      const kp = i === 0 ? first : fast(createAccount());
      const imports = i === 1 ? [{ account: first.getPublicKey(), subject: "nothing.here", type: "stream" }] : [];
      const jwt = await signClaims(
        { sub: kp.getPublicKey(), name: `A${i}`, nats: { type: "account", version: 2, limits, imports } },
        signer,
      );
      writeFileSync(join(dir, `${kp.getPublicKey()}.jwt`), jwt);
    }
  }, 120_000);

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** Run the CLI under a pseudo-terminal; `script` merges stdout and stderr into its output. */
  async function onTerminal(env: Record<string, string> = {}): Promise<{ code: number; out: string }> {
    const command = `${process.execPath} ${CLI} check --jwt-dir ${dir}`;
    try {
      const { stdout } = await execFileP("script", ["-qec", command, "/dev/null"], {
        env: { PATH: process.env["PATH"] ?? "", TERM: "xterm", ...env },
      });
      return { code: 0, out: stdout };
    } catch (e) {
      const err = e as { code: number; stdout: string };
      return { code: err.code, out: err.stdout };
    }
  }

  it("colours the report and shows progress for a large load", async () => {
    const { code, out } = await onTerminal();
    expect(code).toBe(1);
    expect(out).toContain("evaluating 1000 accounts…");
    expect(out).toContain("\x1b[31m✗ inactive\x1b[0m");
  });

  it("honours NO_COLOR", async () => {
    const { out } = await onTerminal({ NO_COLOR: "1" });
    expect(out).toContain("✗ inactive");
    expect(out).not.toContain("\x1b[31m");
  });
});
