/**
 * The benchmark's deployment cache is reused while the clock is within REUSABLE_FOR_S of the
 * deployment's base: over that whole window every import must keep the verdict it had at the base
 * (the expiry-related causes are what they are meant to be), and the cache must not be reused
 * before the base or after the window.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { OperatorTrust } from "../../src/core/directory.js";
import { ImportMonitor } from "../../src/core/monitor.js";
import { dayStart, deployment, generate, REUSABLE_FOR_S, reusableAt } from "../../bench/generate.js";

const BASE = dayStart(Date.UTC(2026, 0, 15, 9) / 1000);
const d = generate(120, 1, BASE);

function verdicts(now: number): string[] {
  const trust = new OperatorTrust();
  trust.addOperator(d.operator.jwt);
  const monitor = new ImportMonitor(trust, 7 * 86_400);
  monitor.replaceAll(new Map(d.accounts.map((a) => [a.id, a.jwt])), now);
  return monitor
    .keyed()
    .map(([key, diag]) => `${key} ${diag.status} ${diag.cause ?? ""}`)
    .sort();
}

describe("bench deployment cache", () => {
  const dir = mkdtempSync(join(tmpdir(), "bench-cache-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("gives the base's verdicts over the whole reuse window, and other ones after it", () => {
    const atBase = verdicts(BASE);
    expect(atBase.some((v) => v.endsWith(" activation_expiring_soon"))).toBe(true);
    expect(verdicts(BASE + REUSABLE_FOR_S - 1)).toEqual(atBase);
    // A day after the window the expiring-soon tokens have expired: the window is not too short by much.
    expect(verdicts(BASE + REUSABLE_FOR_S + 86_400)).not.toEqual(atBase);
  });

  it("reuses a cached deployment within the window only", () => {
    expect(reusableAt(BASE, BASE)).toBe(true);
    expect(reusableAt(BASE, BASE + REUSABLE_FOR_S - 1)).toBe(true);
    expect(reusableAt(BASE, BASE - 1)).toBe(false);
    expect(reusableAt(BASE, BASE + REUSABLE_FOR_S)).toBe(false);
    const first = deployment(dir, 120, 2, BASE + 3600);
    expect(first.cached).toBe(false);
    expect(first.deployment.base).toBe(BASE);
    const later = deployment(dir, 120, 2, BASE + REUSABLE_FOR_S - 1);
    expect(later.cached).toBe(true);
    expect(later.deployment.base).toBe(BASE);
    const after = deployment(dir, 120, 2, BASE + REUSABLE_FOR_S);
    expect(after.cached).toBe(false);
    expect(after.deployment.base).toBe(dayStart(BASE + REUSABLE_FOR_S));
    expect(after.path).toBe(first.path);
  });
});
