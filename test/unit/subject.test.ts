import { describe, expect, it } from "vitest";
import { isContainedIn, isSubsetMatch, isValidSubject } from "../../src/core/subject.js";

describe("isSubsetMatch (nats-server export matching)", () => {
  const cases: [string, string, boolean][] = [
    ["orders.us.x", "orders.>", true],
    ["orders.*.x", "orders.>", true],
    ["orders.>", "orders.>", true],
    ["orders.>", "orders.us.>", false],
    ["a.>", "a.*", false],
    ["a.b", "a.*", true],
    ["a.*", "a.*", true],
    ["a.*", "a.b", false],
    ["a", "a.>", false],
    ["a.b.c", "a.*", false],
    ["a.b", "a.b.c", false],
    ["a.b", "*.*", true],
    ["x", ">", true],
    [">", ">", true],
    [">", "*", false],
    ["a.b", "a.*b", true], // the server looks only at the first character of an export token
    ["a.b", "a.c", false],
    ["a.x", "ab.x", false],
    ["ab.x", "a.x", false],
    ["a.", "a.>", true], // an empty last token is still a token to the server's walk, so > covers it
  ];
  it.each(cases)("%s ⊆ %s is %s", (subject, exported, expected) => {
    expect(isSubsetMatch(subject, exported)).toBe(expected);
  });
});

describe("isContainedIn (jwt activation-token subject check)", () => {
  const cases: [string, string, boolean][] = [
    ["orders.us", "orders.>", true],
    ["orders.us", "orders.*", true],
    ["orders.>", "orders.*", true], // the jwt library is looser than the server here
    ["orders", "orders.>", false],
    ["orders.us.x", "orders.*", false],
    ["a.b", "a.b", true],
    ["a.b", "a.c", false],
  ];
  it.each(cases)("%s in %s is %s", (subject, other, expected) => {
    expect(isContainedIn(subject, other)).toBe(expected);
  });
});

describe("isValidSubject (nats-server)", () => {
  it.each([
    ["a.b", true],
    ["a.>", true],
    ["a.>.b", false],
    ["a..b", false],
    ["", false],
    ["a b", false],
    ["a\tb", false],
    [">x.b", true],
    ["*", true],
    // the server's whitespace is exactly " \t\n\f\r", in a token of one character or more
    ...[" ", "\t", "\n", "\f", "\r"].flatMap((w): [string, boolean][] => [
      [`a.${w}`, false],
      [`a${w}b.c`, false],
    ]),
    ["a.\v", true],
    ["a\u00a0b", true],
  ] as [string, boolean][])("%j is %s", (subject, expected) => {
    expect(isValidSubject(subject)).toBe(expected);
  });
});
