import { describe, expect, it } from "vitest";
import { getHeapSpaceStatistics } from "node:v8";
import { collectGarbage, limitHeapGrowth } from "../../src/shell/gc.js";

const oldSpaceUsed = () => getHeapSpaceStatistics().find((s) => s.space_name === "old_space")!.space_used_size;

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

describe("limitHeapGrowth", () => {
  it("bounds the old generation's growth between full collections", () => {
    // ~70 MB kept, then ~1.5 GB of objects each kept across a few young collections (so they reach
    // the old generation) and dropped. V8's own growth let the old space reach ~6x the kept heap in
    // this loop; with 20 % it stays near 2x (its minimum step and the young generation's share).
    const kept = Array.from({ length: 1_000_000 }, (_, i) => ({ i, s: `kept${i}` }));
    try {
      limitHeapGrowth(20);
      collectGarbage();
      const base = oldSpaceUsed();
      let highest = 0;
      const window: unknown[][] = [];
      for (let round = 0; round < 300; round++) {
        window.push(Array.from({ length: 20_000 }, (_, i) => ({ i, round, pair: [i, round] })));
        if (window.length > 10) window.shift();
        highest = Math.max(highest, oldSpaceUsed());
      }
      expect(kept.length).toBe(1_000_000);
      expect(highest).toBeLessThan(base * 3.5);
    } finally {
      limitHeapGrowth(0);
    }
  });
});
