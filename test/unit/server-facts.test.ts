/** What the servers say of themselves (VARZ), and which line's rules that makes. */
import { describe, expect, it } from "vitest";
import { serversJudged } from "../../src/core/directory.js";
import { oldestVersion, rulesFor, versionNumbers } from "../../src/core/validate.js";
import { serverFactsOf } from "../../src/shell/resolver.js";

describe("serverFactsOf: the VARZ replies' data", () => {
  it("collects the operator JWTs once each, the versions sorted, and nothing from a reply that is no object", () => {
    const facts = serverFactsOf([
      { trusted_operators_jwt: ["op.a.b\n", "op.c.d"], version: "2.15.2" },
      { trusted_operators_jwt: ["op.a.b", 7, "x".repeat(1024 * 1024 + 1)], version: "2.10.29" },
      { version: "2.15.2" },
      null,
      "2.9.0",
      { version: 2.1, trusted_operators_jwt: "op.e.f" },
      { version: `2.12.1${"-x".repeat(40)}` },
    ]);
    expect(facts).toEqual({ operatorJwts: ["op.a.b", "op.c.d"], versions: ["2.10.29", "2.15.2"], jetStreamApi: false });
  });

  it.each([
    [{ jetstream: { config: { max_memory: 1 } } }, true],
    [{ jetstream: {} }, false],
    [{ cluster: { name: "C" } }, true],
    [{ cluster: { addr: "127.0.0.1" } }, true],
    [{ cluster: {} }, false],
    [{ gateway: { name: "G" } }, true],
    [{ gateway: { name: "" } }, false],
  ])("JetStream or a cluster exports the JetStream API: %j -> %s", (data, exported) => {
    expect(serverFactsOf([{ version: "2.15.2" }, data]).jetStreamApi).toBe(exported);
  });
});

describe("the line the JWTs are judged by", () => {
  it("compares versions by their numbers, not as text, and skips what is no version", () => {
    expect(versionNumbers("v2.12.1-RC.2")).toEqual([2, 12, 1]);
    expect(versionNumbers("2.12")).toBeNull();
    expect(oldestVersion(["2.15.2", "2.10.29", "2.10.3", "junk"])).toBe("2.10.3");
    expect(oldestVersion(["2.12.15", "v2.12.9"])).toBe("v2.12.9");
    expect(oldestVersion(["3.0.0", "2.16.1"])).toBe("2.16.1");
    expect(oldestVersion(["2.11.0", "2.10.99"])).toBe("2.10.99");
    expect(oldestVersion(["junk"])).toBeNull();
    expect(oldestVersion([])).toBeNull();
  });

  it("servers of several lines are judged by each line, the oldest first; none known, by the newest line", () => {
    expect(serversJudged(["2.15.2", "2.10.29"], true)).toEqual({
      rules: rulesFor("2.10.29"),
      otherLines: [rulesFor("2.15.2")],
      jetStreamApi: true,
    });
    // Versions of the same rules are one line; the oldest's rules are not repeated.
    expect(serversJudged(["2.10.29", "2.10.28", "2.15.2", "2.15.2"], false).otherLines).toEqual([rulesFor("2.15.2")]);
    expect(serversJudged([], false)).toEqual({ rules: rulesFor(null), otherLines: [], jetStreamApi: false });
    expect(serversJudged(["2.15.2"], false).rules).not.toEqual(rulesFor("2.10.29"));
  });
});
