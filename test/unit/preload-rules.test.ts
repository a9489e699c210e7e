/**
 * The rules of JWTs a server loaded without a push (a memory resolver's preload): nats-server
 * 2.15.2 refuses a pushed account JWT with a mapping it cannot install, but loads the same JWT from
 * its preload and leaves the mapping out (measured by the fuzzer's memory-resolver mode,
 * test/fuzz/scenarios/fixed-mapping-left-out-of-preload*.json).
 */
import { describe, expect, it } from "vitest";
import type { MappingClaim } from "../../src/core/jwt/claims.js";
import { rulesForLoaded } from "../../src/core/push-refusal.js";
import { rulesFor, validateAccount } from "../../src/core/validate.js";
import { accountClaims } from "../support/claims.js";

const account = (mappings: MappingClaim[]) =>
  accountClaims({ subject: "AD6LE5XKCEAM4WPC5WAKHDI4XLCYSDZET2YHF5YIE7RJAQJX4VUF6KEZ", mappings });

/** A destination with a `*`, which the server cannot build (the fuzzer's l.b10.> -> m.b9.*.>). */
const uninstallable: MappingClaim = {
  source: "l.b10.>",
  destinations: [{ subject: "m.b9.*.>", weight: 100, written: 0, cluster: null }],
};

describe("rulesForLoaded: a preloaded JWT skips the push's mapping check", () => {
  it("2.15.2 refuses the JWT on a push, and stores it once loaded from a preload", () => {
    expect(validateAccount(account([uninstallable]), rulesFor("2.15.2")).other).toEqual([
      expect.stringContaining('mapping "l.b10.>": the server cannot install it'),
    ]);
    expect(validateAccount(account([uninstallable]), rulesForLoaded(rulesFor("2.15.2"))).other).toEqual([]);
  });

  it("changes nothing else, and nothing on the lines without the check", () => {
    expect(rulesForLoaded(rulesFor("2.15.2"))).toEqual({
      ...rulesFor("2.15.2"),
      refusesUninstallableMappings: false,
    });
    for (const v of ["2.10.29", "2.12.15", "2.15.0"]) expect(rulesForLoaded(rulesFor(v))).toBe(rulesFor(v));
  });
});
