/**
 * isSubsetMatch and isValidSubject walk subjects without splitting them (they run for every import
 * on every evaluation). Their answers must stay exactly those of the straightforward split-based
 * versions, which follow nats-server's code token by token: compared here on every pair of
 * subjects built from awkward tokens (wildcards, wildcard-looking tokens, empty tokens, whitespace).
 */
import { describe, expect, it } from "vitest";
import { isSubsetMatch, isValidSubject } from "../../src/core/subject.js";

/** nats-server's isSubsetMatch, as split-based TypeScript (the implementation it replaced). */
function referenceSubsetMatch(subject: string, test: string): boolean {
  const tokens = subject.split(".");
  const testTokens = test.split(".");
  for (let i = 0; i < testTokens.length; i++) {
    const t2 = testTokens[i]!;
    if (i >= tokens.length) return false;
    if (t2.length === 0) return false;
    if (t2 === ">") return true;
    const t1 = tokens[i]!;
    if (t1.length === 0 || t1 === ">") return false;
    if (t1 === "*") {
      if (t2 !== "*") return false;
      continue;
    }
    if (t2[0] !== "*" && t1 !== t2) return false;
  }
  return tokens.length === testTokens.length;
}

function referenceValidSubject(subject: string): boolean {
  if (subject === "" || /[\t\n\f\r ]/.test(subject)) return false;
  const tokens = subject.split(".");
  return tokens.every((t, i) => t.length > 0 && (t !== ">" || i === tokens.length - 1));
}

const TOKENS = ["a", "b", "ab", "*", ">", "*x", ">y", "", "a b", "\t", "x*"];

/** Every subject of one to three tokens from TOKENS. */
function subjects(): string[] {
  const out: string[] = [];
  const grow = (prefix: string[], depth: number) => {
    if (prefix.length > 0) out.push(prefix.join("."));
    if (depth === 0) return;
    for (const t of TOKENS) grow([...prefix, t], depth - 1);
  };
  grow([], 3);
  return out;
}

describe("subject matching without splitting", () => {
  const all = subjects();

  it("isSubsetMatch answers as the split-based version for every pair", () => {
    let differences = 0;
    for (const s of all) for (const t of all) if (isSubsetMatch(s, t) !== referenceSubsetMatch(s, t)) differences++;
    expect(differences).toBe(0);
    expect(all.length).toBeGreaterThan(1000);
  });

  it("isValidSubject answers as the split-based version for every subject", () => {
    for (const s of [...all, "", ".", "a.", ".a", "a..b", "a.>", ">.a", ">", "a.\f", "a.\v"]) {
      expect(isValidSubject(s), JSON.stringify(s)).toBe(referenceValidSubject(s));
    }
  });
});
