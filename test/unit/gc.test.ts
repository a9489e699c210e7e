import { describe, expect, it } from "vitest";
import { collectGarbage } from "../../src/shell/gc.js";

describe("collectGarbage", () => {
  it("returns the garbage of a load", () => {
    const held: { junk: { i: number; s: string }[] | null } = {
      junk: Array.from({ length: 500_000 }, (_, i) => ({ i, s: `x${i}` })),
    };
    const withJunk = process.memoryUsage().heapUsed;
    expect(held.junk?.length).toBe(500_000);
    held.junk = null;
    collectGarbage();
    // 500,000 objects and strings are tens of MB; what is left is the test runner.
    expect(process.memoryUsage().heapUsed).toBeLessThan(withJunk - 20 * 2 ** 20);
    expect((globalThis as { gc?: unknown }).gc).toBeUndefined();
  });

  it.runIf(Number(process.versions.node.split(".")[0]) >= 22)(
    "compacting gives back the pages the garbage took, which a plain collection keeps",
    () => {
      const held: { junk: { i: number; s: string }[] | null } = {
        junk: Array.from({ length: 1_000_000 }, (_, i) => ({ i, s: `x${i}` })),
      };
      expect(held.junk?.length).toBe(1_000_000);
      held.junk = null;
      collectGarbage();
      const kept = process.memoryUsage().heapTotal;
      collectGarbage(true);
      expect(process.memoryUsage().heapTotal).toBeLessThan(kept - 20 * 2 ** 20);
    },
  );
});
