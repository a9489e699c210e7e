/**
 * The CLI's report read by a reader that stops early (`nats-insights check --json | head`): the
 * closed pipe ends the output quietly, and the exit code is still the verdict.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAccount } from "@nats-io/nkeys";
import { TestOperator, signClaims } from "../support/deployment.js";
import { fast } from "../support/fast-keys.js";
import { ensureFreshDist, MAIN } from "../support/dist.js";

/** Runs the built CLI, reads its first chunk of stdout, then closes the pipe as `head -c 1` does. */
function runAndCloseEarly(args: string[]): Promise<{ code: number | null; first: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MAIN, ...args], {
      env: { PATH: process.env["PATH"] ?? "" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let first = "";
    let stderr = "";
    child.stdout.once("data", (chunk: Buffer) => {
      first = chunk.toString("utf8");
      child.stdout.destroy();
    });
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, first, stderr }));
  });
}

describe("check with its stdout closed early", () => {
  let dir: string;

  beforeAll(async () => {
    await ensureFreshDist();
    dir = mkdtempSync(join(tmpdir(), "closed-pipe-"));
    const op = await TestOperator.create();
    writeFileSync(join(dir, "operator.jwt"), op.jwt);
    // 300 accounts, each importing what nobody exports: a report of ~300 inactive imports, far more
    // than a pipe's buffer holds, so the CLI is still writing when the reader goes away.
    const limits = { imports: -1, exports: -1, subs: -1, data: -1, payload: -1, conn: -1, leaf: -1, wildcards: true };
    const source = fast(createAccount());
    const signer = fast(op.key);
    for (let i = 0; i < 300; i++) {
      const kp = i === 0 ? source : fast(createAccount());
      const imports = i === 0 ? [] : [{ account: source.getPublicKey(), subject: `nothing.${i}`, type: "stream" }];
      const jwt = await signClaims(
        { sub: kp.getPublicKey(), name: `A${i}`, nats: { type: "account", version: 2, limits, imports } },
        signer,
      );
      writeFileSync(join(dir, `${kp.getPublicKey()}.jwt`), jwt);
    }
  }, 130_000);

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("exits with the verdict (1) and says nothing of the pipe", async () => {
    const { code, first, stderr } = await runAndCloseEarly(["check", "--jwt-dir", dir, "--json"]);
    expect(first.startsWith("{")).toBe(true);
    expect(stderr).not.toMatch(/EPIPE|Unhandled 'error' event/);
    expect(code).toBe(1);
  });
});
