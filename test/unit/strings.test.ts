import { describe, expect, it } from "vitest";
import { shared } from "../../src/core/strings.js";

describe("shared strings", () => {
  it("gives back an equal string, whatever it looks like as a property name", () => {
    const big = JSON.stringify({ id: `A${"B".repeat(55)}`, pad: "p".repeat(4096) });
    const sliced = big.slice(7, 63);
    const built = ["stream ", "foo.", "bar", " from ", sliced].join("");
    for (const s of ["", "0", "42", "-1", "1e3", "__proto__", "constructor", "toString", "ünïcödé ✓", sliced, built]) {
      expect(shared(s)).toBe(s);
    }
  });
});
