/** The monitor's time boundaries: the soonest one kept across changes agrees with a look at every account. */
import { describe, expect, it } from "vitest";
import { TimeBoundaries } from "../../src/core/boundaries.js";

/** A small deterministic generator (the sequence must be the same on every run). */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

describe("TimeBoundaries", () => {
  it("gives the soonest boundary after each set, removal and clear, and the accounts due", () => {
    const random = lcg(7);
    const b = new TimeBoundaries();
    const model = new Map<string, number>();
    const soonest = () => (model.size === 0 ? null : Math.min(...model.values()));
    for (let step = 0; step < 5000; step++) {
      const id = `A${Math.floor(random() * 40)}`;
      const r = random();
      if (r < 0.002) {
        b.clear();
        model.clear();
      } else if (r < 0.25) {
        b.set(id, null);
        model.delete(id);
      } else {
        // Few distinct instants, so that several accounts often share the soonest.
        const at = 1000 + Math.floor(random() * 30);
        b.set(id, at);
        model.set(id, at);
      }
      // Asked after some changes only: a change between two asks must not be lost either.
      if (random() < 0.5) expect(b.next()).toBe(soonest());
      if (random() < 0.1) {
        const now = 1000 + Math.floor(random() * 30);
        const due = [...model].filter(([, t]) => t <= now).map(([i]) => i);
        expect(b.due(now).sort()).toEqual(due.sort());
      }
    }
  });

  it("moves on when the account holding the soonest boundary moves later or goes", () => {
    const b = new TimeBoundaries();
    b.set("A", 10);
    b.set("B", 20);
    b.set("C", 30);
    expect(b.next()).toBe(10);
    b.set("A", 25);
    expect(b.next()).toBe(20);
    b.set("B", null);
    expect(b.next()).toBe(25);
    b.set("C", 5);
    expect(b.next()).toBe(5);
    expect(b.due(24)).toEqual(["C"]);
    b.clear();
    expect(b.next()).toBeNull();
    expect(b.due(100)).toEqual([]);
  });
});
