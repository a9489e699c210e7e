import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { checkoutEntries, newEntries } from "../support/checkout-clean.js";

describe("the checkout-clean guard", () => {
  const root = mkdtempSync(join(tmpdir(), "checkout-"));
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it("sees a new empty directory and a new file, and skips installed trees", () => {
    mkdirSync(join(root, "src"));
    writeFileSync(join(root, "src", "a.ts"), "");
    const before = checkoutEntries(root);
    mkdirSync(join(root, "jwt"));
    mkdirSync(join(root, "node_modules", "x"), { recursive: true });
    writeFileSync(join(root, "src", "b.ts"), "");
    expect(newEntries(before, checkoutEntries(root))).toEqual(["jwt/", "src/b.ts"]);
  });
});
