/**
 * `npm test` (scripts/test.sh) runs the suite on each maintained Node line scripts/setup.sh pins,
 * and says which in INSIGHTS_TEST_NODE_LINE: the workers running the tests must be on that line.
 * Run otherwise (`npx vitest` on whatever node is first on PATH) there is nothing to check.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { REPO_ROOT } from "../support/tools.js";

const line = process.env["INSIGHTS_TEST_NODE_LINE"];

describe.skipIf(!line)("the Node line npm test asked for", () => {
  it("is the one these tests run on, and one the set-up pins", () => {
    const pinned = /^NODE_VERSIONS="([^"]+)"/m
      .exec(readFileSync(join(REPO_ROOT, "scripts/setup.sh"), "utf8"))![1]!
      .split(" ");
    expect(process.versions.node.split(".")[0]).toBe(line);
    expect(pinned.map((v) => v.split(".")[0])).toContain(line);
  });
});
