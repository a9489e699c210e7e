/**
 * The model of an importer's subject mappings (src/core/mapping.ts). The behaviours it rests on
 * are measured on the real servers in test/integration/mappings.test.ts; the catalogue's mapping
 * scenarios are judged by message flow in test/integration/scenarios.test.ts.
 */
import { describe, expect, it } from "vitest";
import { install, mappingReach, soleDestination, type MappingFunctions } from "../../src/core/mapping.js";
import { parseAccount } from "../../src/core/jwt/claims.js";
import { rulesFor, validateAccount } from "../../src/core/validate.js";
import { TestOperator } from "../support/deployment.js";
import { LINES, MEASURED_LINES, PROBES, expected } from "../support/mapping-probes.js";
import { mappingClaim } from "../support/claims.js";

const m = mappingClaim;

describe("which mappings the server installs", () => {
  it.each([
    ["a literal mapping", m("a", ["b"]), true],
    ["a wildcard reference in range", m("a.*", ["b.{{wildcard(1)}}"]), true],
    ["the legacy $1", m("a.*", ["b.$1"]), true],
    ["a reference past the source's wildcards", m("a.*", ["b.{{wildcard(2)}}"]), false],
    ["a * in the destination", m("a.*", ["b.*"]), false],
    [">` on one side only", m("a.>", ["b.c"]), false],
    ["> on both sides", m("a.>", ["b.>"]), true],
    ["a wildcard reference from a literal source", m("a", ["b.{{wildcard(1)}}"]), false],
    ["an unknown function", m("a.*", ["b.{{nosuch(1)}}"]), false],
    ["a duplicate destination", m("a", ["b", 50], ["b", 50]), false],
    ["a partition function", m("a.*", ["b.{{partition(3,1)}}"]), true],
    // Atoi refuses a number past int64: no reference, an ordinary token (measured, all lines)
    ["a $ number past int64", m("a.*", ["b.$1.$99999999999999999999"]), true],
    ["a $ number past int64 from a literal source", m("a", ["b.$9223372036854775808"]), true],
    ["the largest int64 as a $ reference (past the source's wildcards)", m("a.*", ["b.$9223372036854775807"]), false],
    [
      "a wildcard() number past int64 (2.15.2 refuses the JWT)",
      m("a.*", ["b.{{wildcard(99999999999999999999)}}"]),
      false,
    ],
  ])("%s", (_name, mapping, installed) => {
    expect(install(mapping) !== null).toBe(installed);
  });

  it("weights under 100 leave the rest on the source, or drop it when the source is listed", () => {
    expect(install(m("a", ["b", 60]))!.destinations.map((d) => [d.subject, d.weight, d.identity])).toEqual([
      ["b", 60, false],
      ["a", 40, true],
    ]);
    expect(install(m("a", ["b", 30], ["a", 30]))!.dropped).toBe(40);
  });
});

describe("what an importer's mappings do to requests on a service import's local subject", () => {
  it("no mapping, or one that does not touch it: untouched", () => {
    expect(mappingReach([], "svc.a").kind).toBe("untouched");
    expect(mappingReach([m("other", ["x"])], "svc.a").kind).toBe("untouched");
  });

  it("a mapping of the local subject elsewhere: away, with where the requests go", () => {
    const reach = mappingReach([m("loc.a", ["gone.a"])], "loc.a");
    expect(reach).toMatchObject({ kind: "away", to: ["gone.a"] });
    expect(soleDestination(reach, "loc.a")).toBe("gone.a");
  });

  it("a $ number past int64 stays in the destination as it is (the server delivers on mn.a.$99999999999999999999)", () => {
    const reach = mappingReach([m("svc.*", ["x.$1.$99999999999999999999"])], "svc.a");
    expect(soleDestination(reach, "svc.a")).toBe("x.a.$99999999999999999999");
  });

  it("a wildcard mapping covering it: away, with the transformed destination", () => {
    const reach = mappingReach([m("svc.*", ["x.{{wildcard(1)}}"])], "svc.a");
    expect(reach.kind).toBe("away");
    expect(soleDestination(reach, "svc.a")).toBe("x.a");
    expect(mappingReach([m("svc.*", ["x.{{wildcard(1)}}"])], "svc.*").kind).toBe("away");
  });

  it("a mapping that lands back inside a wildcard local subject: untouched", () => {
    expect(mappingReach([m("svc.h.*", ["svc.h.{{wildcard(1)}}.v2"])], "svc.h.>").kind).toBe("untouched");
  });

  it("a mapping narrower than a wildcard local subject: untouched (other subjects still reach it)", () => {
    expect(mappingReach([m("svc.i.x", ["gone.x"])], "svc.i.*").kind).toBe("untouched");
  });

  it("weights under 100: partial, with the share that stays", () => {
    expect(mappingReach([m("svc.d", ["gone.d", 60])], "svc.d")).toMatchObject({ kind: "partial", percent: 40 });
    expect(mappingReach([m("svc.e", ["gone.e", 30], ["svc.e", 30])], "svc.e")).toMatchObject({
      kind: "partial",
      percent: 30,
    });
    expect(mappingReach([m("svc.f", ["gone.f", 30])], "svc.*")).toMatchObject({ kind: "untouched" });
  });

  it("all weight back on the subject itself: untouched", () => {
    expect(mappingReach([m("svc.g", ["svc.g", 100])], "svc.g").kind).toBe("untouched");
  });

  it("another mapping onto the local subject: reached through it", () => {
    expect(mappingReach([m("svc.c", ["gone.c"]), m("ask.c", ["svc.c"])], "svc.c")).toMatchObject({
      kind: "through",
      via: { source: "ask.c" },
    });
  });

  it("a mapping the server refuses is no mapping", () => {
    expect(mappingReach([m("svc.a", ["gone.*"])], "svc.a").kind).toBe("untouched");
  });

  it("cluster-scoped destinations or functions it cannot follow: untouched (the model does not guess)", () => {
    expect(mappingReach([m("svc.a", ["gone.a"], ["svc.a", 100, "east"])], "svc.a").kind).toBe("untouched");
    expect(mappingReach([m("svc.*", ["svc.{{partition(2,1)}}"])], "svc.a").kind).toBe("untouched");
    // a function whose pattern cannot land in the local subject still sends everything away
    expect(mappingReach([m("svc.*", ["q.{{partition(2,1)}}"])], "svc.a").kind).toBe("away");
  });
});

describe("mappings in the account JWT", () => {
  it("are read with a weight of 0 as 100; the jwt library's rules make a bad one a blocking error", async () => {
    const op = await TestOperator.create();
    const acc = await op.account("M", {
      mappings: {
        "a.*": [
          { subject: "b.$1", weight: 0 },
          { subject: "c.$1", cluster: "east" },
        ],
        z: [
          { subject: "y", weight: 60 },
          { subject: "x", weight: 50 },
        ],
      },
    });
    const claims = parseAccount(acc.jwt);
    expect(claims.ok).toBe(true);
    if (!claims.ok) return;
    expect(claims.claims.mappings).toEqual([
      {
        source: "a.*",
        destinations: [
          { subject: "b.$1", weight: 100, written: 0, cluster: null },
          { subject: "c.$1", weight: 100, written: 0, cluster: "east" },
        ],
      },
      {
        source: "z",
        destinations: [
          { subject: "y", weight: 60, written: 60, cluster: null },
          { subject: "x", weight: 50, written: 50, cluster: null },
        ],
      },
    ]);
    expect(validateAccount(claims.claims).other).toEqual(['mapping "z" exceeds 100% among its weighted destinations']);
  });

  it("a weight that is no uint8 makes the JWT undecodable, as Go's json.Unmarshal does", async () => {
    const op = await TestOperator.create();
    const acc = await op.account("W", { mappings: { a: [{ subject: "b", weight: 300 }] } });
    expect(parseAccount(acc.jwt)).toMatchObject({ ok: false, error: expect.stringContaining("weight") });
  });
});

describe("a mapping the server cannot install, by server line", () => {
  it("rejects the whole JWT from 2.15.2 on (claimValidate); before, the server leaves it out", async () => {
    const op = await TestOperator.create();
    const acc = await op.account("B", { mappings: { "svc.u": [{ subject: "gone.*" }], ok: [{ subject: "fine" }] } });
    const claims = parseAccount(acc.jwt);
    if (!claims.ok) throw new Error(claims.error);
    expect(validateAccount(claims.claims, rulesFor("2.15.2")).other).toEqual([
      'mapping "svc.u": the server cannot install it (a destination it cannot build, or one listed twice)',
    ]);
    for (const version of ["2.15.0", "2.12.15", "2.10.29"])
      expect(validateAccount(claims.claims, rulesFor(version)).other, version).toEqual([]);
    expect(rulesFor("2.16.0").refusesUninstallableMappings).toBe(true);
  });
});

describe("each step of the reach (src/core/mapping.ts; the server's behaviour: docs/decisions.md 27)", () => {
  it("a cluster-scoped destination is left out of the mapping installed everywhere (the rest stays on the source)", () => {
    const installed = install(m("a", ["b", 100, "east"]))!;
    expect(installed.destinations.map((d) => [d.subject, d.weight])).toEqual([["a", 100]]);
    expect(installed.clusterScoped).toBe(true);
  });

  it("a partial mapping names only where the rest goes, not the source listed among its destinations", () => {
    expect(mappingReach([m("svc.e", ["gone.e", 30], ["svc.e", 30])], "svc.e")).toMatchObject({
      kind: "partial",
      percent: 30,
      to: ["gone.e"],
    });
  });

  it("a wildcard local subject keeps the share a mapping leaves on the source", () => {
    expect(mappingReach([m("svc.*", ["x.{{wildcard(1)}}", 60])], "svc.*")).toMatchObject({
      kind: "partial",
      percent: 40,
    });
  });

  it("wildcards swapped by the mapping send a literal subject elsewhere; a wildcard local subject is not followed", () => {
    const swap = m("svc.*.*", ["svc.{{wildcard(2)}}.{{wildcard(1)}}"]);
    expect(mappingReach([swap], "svc.a.b")).toMatchObject({
      kind: "away",
      to: ["svc.{{wildcard(2)}}.{{wildcard(1)}}"],
    });
    expect(soleDestination(mappingReach([swap], "svc.a.b"), "svc.a.b")).toBe("svc.b.a");
    expect(mappingReach([swap], "svc.*.b").kind).toBe("untouched");
  });

  it("a cluster-scoped mapping among several over the local subject: untouched (the model does not know the cluster)", () => {
    const scoped = m("svc.*", ["x.{{wildcard(1)}}"], ["y.{{wildcard(1)}}", 100, "east"]);
    expect(mappingReach([m("svc.a", ["gone.a"]), scoped], "svc.a").kind).toBe("untouched");
  });

  it("a destination a function decides, beside the rest on the source: untouched", () => {
    expect(mappingReach([m("svc.*", ["svc.{{partition(2,1)}}", 50])], "svc.a").kind).toBe("untouched");
  });

  it("several mappings over the local subject that keep different shares: contested (the server's install order decides), most kept first", () => {
    expect(mappingReach([m("svc.a", ["gone.a"]), m("svc.*", ["x.{{wildcard(1)}}", 50])], "svc.a")).toEqual({
      kind: "contested",
      shares: [
        { mapping: { source: "svc.*", destinations: expect.any(Array) }, percent: 50 },
        { mapping: { source: "svc.a", destinations: expect.any(Array) }, percent: 0 },
      ],
    });
    // found by the fuzzer (deployment seed 436369193): one takes everything, the other 40 %
    const fuzzed = [m("l.c19.>", ["m.c6.>"]), m("l.*.>", ["m.b0.{{wildcard(1)}}.>", 40])];
    expect(mappingReach(fuzzed, "l.c19.>")).toMatchObject({
      kind: "contested",
      shares: [{ percent: 60 }, { percent: 0 }],
    });
    // one that keeps every request beside one that keeps none
    expect(mappingReach([m("svc.o.1", ["gone.o"]), m("svc.o.*", ["svc.o.{{wildcard(1)}}"])], "svc.o.1")).toMatchObject({
      kind: "contested",
      shares: [{ percent: 100 }, { percent: 0 }],
    });
  });

  it("a narrower mapping inside a wildcard local subject beside a covering one: contested where their shares differ", () => {
    const narrower = m("svc.i.x", ["gone.x"]);
    expect(mappingReach([narrower, m("svc.i.*", ["x.{{wildcard(1)}}", 50])], "svc.i.*").kind).toBe("contested");
    expect(mappingReach([narrower, m("svc.i.*", ["x.{{wildcard(1)}}"])], "svc.i.*").kind).toBe("away");
  });

  it("several mappings over the local subject that keep the same share: the order does not matter", () => {
    expect(mappingReach([m("svc.*", ["x.{{wildcard(1)}}", 50]), m("svc.a", ["gone.a", 50])], "svc.a")).toMatchObject({
      kind: "partial",
      percent: 50,
    });
    expect(mappingReach([m("svc.*", ["svc.{{wildcard(1)}}"]), m("svc.a", ["svc.a"])], "svc.a").kind).toBe("untouched");
  });

  it("through: only a mapping with a destination onto the local subject, some of its destinations suffice", () => {
    expect(mappingReach([m("loc.a", ["gone.a"]), m("other", ["x"])], "loc.a").kind).toBe("away");
    expect(mappingReach([m("svc.c", ["gone.c"]), m("ask.c", ["svc.c", 50], ["else.c", 50])], "svc.c")).toMatchObject({
      kind: "through",
      via: { source: "ask.c" },
    });
  });

  it("requests split between two destinations elsewhere: away, with no single subject to move the import to", () => {
    const reach = mappingReach([m("loc.a", ["gone.a", 50], ["far.a", 50])], "loc.a");
    expect(reach).toMatchObject({ kind: "away", to: ["gone.a", "far.a"] });
    expect(soleDestination(reach, "loc.a")).toBeNull();
  });

  it("which subjects a destination can yield: a wildcard one token, `>` and a multi-token function the rest", () => {
    const away = m("loc.a.b", ["gone"]);
    expect(mappingReach([away, m("ask.*", ["loc.{{wildcard(1)}}.x"])], "loc.a.b").kind).toBe("away");
    expect(mappingReach([away, m("ask.*", ["loc.a.{{wildcard(1)}}"])], "loc.a.b").kind).toBe("through");
    expect(mappingReach([away, m("ask.>", ["loc.>"])], "loc.a.b").kind).toBe("through");
    expect(mappingReach([away, m("ask.*", ["loc.{{splitFromLeft(1,2)}}"])], "loc.a.b").kind).toBe("through");
  });

  it("a `>` destination carries the subject's tail after the wildcards it moves", () => {
    const reach = mappingReach([m("a.*.*.>", ["a.{{wildcard(2)}}.{{wildcard(1)}}.>"])], "a.p.q.r.s");
    expect(reach.kind).toBe("away");
    expect(soleDestination(reach, "a.p.q.r.s")).toBe("a.q.p.r.s");
  });
});

describe("the destination parser follows each line's ValidateMapping and indexPlaceHolders (measured: test/integration/mapping-functions.test.ts)", () => {
  const installs = (source: string, dest: string, functions?: MappingFunctions) =>
    install(m(source, [dest]), functions) !== null;

  for (const version of [...LINES, ...MEASURED_LINES]) {
    const functions = rulesFor(version).mappingFunctions;
    it.each(PROBES.map((p) => [`${p.source} -> ${p.dest}`, p] as const))(`v${version}: %s`, (_name, p) => {
      expect(installs(p.source, p.dest, functions)).toBe(expected(p, version) !== null);
    });
  }

  it("the current line's rules by default", () => {
    expect(installs("a.*", "b.{{left(1,1)}}")).toBe(true);
    expect(installs("a.*", "b.{{left(1,1)}}", "2.12")).toBe(false);
  });

  // spaces cannot be written in a JWT's mapping (the jwt library refuses them); the server's rules for them all the same
  it.each([
    ["b.{{wildcard( 1 )}}", true],
    ["b.{{wildcard(  1  )}}", true],
    ["b.{{wildcard(1 1)}}", false],
    ["b.{{partition(1 1)}}", false],
    ["b.{{partition( 2 , 1 )}}", true],
    ["b.{{splitFromLeft( 1 , 1 )}}", true],
    ["b.{{random( 2 )}}", true],
    ["b.{{split( 1 ,x)}}", true],
    ["b.{{split(1,x y)}}", false],
    ["b.{{split(1,x )}}", false],
    ["b.{{ wildcard(1) }}", true],
    ["b.x y", false],
    ["b.$1 ", false],
  ])("spaces: %s", (dest, ok) => {
    expect(installs("a.*", dest)).toBe(ok);
  });

  it.each([
    ["b.{{partition(2147483647,1)}}", [true, true, true]],
    ["b.{{partition(2147483648,1)}}", [true, false, false]],
    ["b.{{partition(-2147483649,1)}}", [true, true, true]],
    ["b.{{splitFromLeft(1,2147483647)}}", [true, true, true]],
    ["b.{{splitFromLeft(1,2147483648)}}", [true, false, false]],
    ["b.{{splitFromLeft(1,-2147483648)}}", [true, true, true]],
    ["b.{{splitFromLeft(1,-2147483649)}}", [true, false, false]],
    ["b.{{random(2147483647)}}", [false, true, true]],
    ["b.{{random(2147483648)}}", [false, false, false]],
    ["b.{{random(-1)}}", [false, true, true]],
  ] as const)("number bounds: %s", (dest, byLine) => {
    expect((["2.10", "2.12", "2.15.2"] as const).map((f) => installs("a.*", dest, f))).toEqual(byLine);
  });

  it.each([
    ["b.$", true],
    ["b.{{}}", true],
    ["b.{{x}}", false],
    ["b.{{wildcard(1)}}.{{wildcard(1)}}", true],
    ["b.{{partition(2,1,1)}}", true],
    ["b.{{partition(2,1,x)}}", false],
    ["b.{{sliceFromLeft(1)}}", false],
    ["b.{{sliceFromRight(1,1,1)}}", false],
    ["b.{{splitFromRight(x,1)}}", false],
    ["b.{{right(1,x)}}", false],
    ["b..c", false],
    ["b.>", false],
  ])("tokens: %s", (dest, ok) => {
    expect(installs("a.*", dest)).toBe(ok);
  });

  it("a local subject is literal by its tokens: svc.a*.b has no wildcard, its swapped wildcards send it away", () => {
    const reach = mappingReach([m("svc.*.*", ["svc.{{wildcard(2)}}.{{wildcard(1)}}"])], "svc.a*.b");
    expect(reach.kind).toBe("away");
    expect(soleDestination(reach, "svc.a*.b")).toBe("svc.b.a*");
  });

  it("a reference to wildcard 0 is one token (measured: b.{{wildcard(0)}} delivers on b.a): a subject mapped past the local one is away", () => {
    for (const dest of ["svc.{{wildcard(0)}}.x", "svc.$0.x"])
      expect(mappingReach([m("svc.*", [dest])], "svc.a").kind, dest).toBe("away");
  });

  it("a reference to wildcard 0 or below is not followed (the server reads the source's first token)", () => {
    for (const dest of ["svc.{{wildcard(0)}}", "svc.$0", "svc.$-1"]) {
      const reach = mappingReach([m("svc.*", [dest])], "svc.a");
      expect(reach.kind, dest).toBe("untouched");
    }
  });

  it("left, right, partition and random yield one token; split and the split and slice functions one or more", () => {
    for (const fn of ["left(1,1)", "right(1,1)", "partition(2,1)", "random(3)", "wildcard(1)"])
      expect(mappingReach([m("svc.*", [`svc.{{${fn}}}.x`])], "svc.a").kind, fn).toBe("away");
    for (const fn of [
      "split(1,-)",
      "splitFromLeft(1,1)",
      "splitFromRight(1,1)",
      "sliceFromLeft(1,1)",
      "sliceFromRight(1,1)",
    ])
      expect(mappingReach([m("svc.*", [`svc.{{${fn}}}.x`])], "svc.a").kind, fn).toBe("untouched");
  });

  it("a function decides where its token goes, never the subject's tail: partition(1, …) keeps svc.0.x on svc.0.x (measured: b.{{partition(1,1)}} delivers on b.0)", () => {
    expect(mappingReach([m("svc.*.x", ["svc.{{partition(1,1)}}.x"])], "svc.0.x").kind).toBe("untouched");
  });

  it("a mapping a line does not install starves nothing there (random before 2.12, left before 2.15.2)", () => {
    const random = [m("svc.a", ["q.{{random(3)}}"])];
    expect(mappingReach(random, "svc.a", "2.10").kind).toBe("untouched");
    expect(mappingReach(random, "svc.a", "2.12").kind).toBe("away");
    const left = [m("svc.*", ["q.{{left(1,1)}}"])];
    expect(mappingReach(left, "svc.a", "2.12").kind).toBe("untouched");
    const reach = mappingReach(left, "svc.a", "2.15.2");
    expect(reach.kind).toBe("away");
    expect(soleDestination(reach, "svc.a", "2.15.2")).toBeNull();
    const moved = mappingReach([m("svc.*", ["q.$1"])], "svc.a", "2.10");
    expect(soleDestination(moved, "svc.a", "2.10")).toBe("q.a");
  });

  it("a reference past the source's wildcards is refused in every function, not only wildcard()", () => {
    expect(installs("svc.*", "x.{{partition(2,2)}}")).toBe(false);
    expect(installs("svc.*.*", "x.{{partition(2,2)}}")).toBe(true);
    expect(installs("svc.*", "x.{{split(2,-)}}")).toBe(false);
    expect(installs("svc.*.*", "x.{{split(2,-)}}")).toBe(true);
  });
});

describe("what the server refuses to install starves nothing (AddWeightedMappings; docs/decisions.md 26)", () => {
  it("a source the server's IsValidSubject refuses (the jwt library lets a.>.b through)", () => {
    expect(install(m("a.>.b", ["x"]))).toBeNull();
    expect(mappingReach([m("a.>.b", ["x"])], "a.c.b").kind).toBe("untouched");
  });

  it("so 2.15.2 refuses a JWT with such a source, the lines before load it without the mapping (measured: test/integration/mappings.test.ts)", async () => {
    const op = await TestOperator.create();
    const acc = await op.account("S", { mappings: { "a.>.b": [{ subject: "x" }] } });
    const claims = parseAccount(acc.jwt);
    if (!claims.ok) throw new Error(claims.error);
    expect(validateAccount(claims.claims, rulesFor("2.15.2")).other).toEqual([
      'mapping "a.>.b": the server cannot install it (a destination it cannot build, or one listed twice)',
    ]);
    for (const version of ["2.12.15", "2.10.29"])
      expect(validateAccount(claims.claims, rulesFor(version)).other, version).toEqual([]);
  });

  it("weights of 100 each that sum past 100 (an old jwt sums them in a uint8: 300 passes as 44)", () => {
    const over = m("a.b", ["x", 100], ["y", 100], ["z", 100]);
    expect(install(over, "2.10")).toBeNull();
    expect(mappingReach([over], "a.b", "2.10").kind).toBe("untouched");
    // the same sum inside one cluster and outside it are counted apart
    expect(install(m("a.b", ["x", 100, "c1"], ["y", 100]), "2.10")).not.toBeNull();
  });

  it("a local subject ending in > is not followed through the transform: a.> to > sends a.b away but keeps a.a.x", () => {
    // requests on a.a.x are mapped to a.x, inside a.>: not every request leaves it
    expect(mappingReach([m("a.>", [">"])], "a.>").kind).toBe("untouched");
    expect(mappingReach([m("a.>", [">"])], "a.b")).toMatchObject({ kind: "away", to: [">"] });
  });
});
