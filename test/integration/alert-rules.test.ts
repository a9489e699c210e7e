/**
 * The Prometheus alert rules in deploy/prometheus, checked and unit-tested by the real promtool
 * (taken out of Debian's prometheus package into .tools/bin by scripts/setup.sh): the rules parse, and each alert
 * fires when it should and stays silent when it should not (alerts.test.yml, two instances as in
 * an HA set-up). test/integration/metrics.test.ts checks that the metrics they read are real.
 */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { REPO_ROOT } from "../support/tools.js";

const execFileP = promisify(execFile);
const promtool = [join(REPO_ROOT, ".tools/bin/promtool")].find((p) => existsSync(p));
const dir = join(REPO_ROOT, "deploy/prometheus");

describe.skipIf(!promtool)("the alert rules, by promtool", () => {
  it("pass promtool check rules", async () => {
    const { stdout } = await execFileP(promtool!, ["check", "rules", "alerts.yml"], { cwd: dir });
    expect(stdout).toMatch(/SUCCESS: 9 rules found/);
  });

  it("pass their unit tests (promtool test rules alerts.test.yml)", async () => {
    const run = await execFileP(promtool!, ["test", "rules", "alerts.test.yml"], { cwd: dir }).catch(
      (e: { stdout: string; stderr: string }) => e,
    );
    expect(`${run.stdout}${run.stderr}`).toMatch(/SUCCESS/);
    expect(`${run.stdout}${run.stderr}`).not.toMatch(/FAILED/);
  });
});
