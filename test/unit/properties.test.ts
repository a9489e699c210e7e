/**
 * Property-based tests (fast-check): subject matching against an independent reference written
 * here from the definitions, not from the code under test; JWT decoding never throws and never
 * accepts what was not signed.
 */
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { createAccount } from "@nats-io/nkeys";
import { decodeJwt } from "../../src/core/jwt/decode.js";
import { parseAccount } from "../../src/core/jwt/claims.js";
import { isContainedIn, isSubsetMatch, subjectsCollide } from "../../src/core/subject.js";
import { signClaims } from "../support/deployment.js";

// ---- an independent reference for subject matching ---------------------------------------------

/** Does pattern `p` (tokens, with * and a trailing >) match the literal subject `s`? */
function matchesLiteral(p: string[], s: string[]): boolean {
  for (let i = 0; i < p.length; i++) {
    if (p[i] === ">") return s.length > i;
    if (i >= s.length || (p[i] !== "*" && p[i] !== s[i])) return false;
  }
  return p.length === s.length;
}

const ALPHABET = ["a", "b"];
/** Every literal subject of up to `max` tokens over a tiny alphabet (plus a fresh token "z"). */
function literals(max: number): string[][] {
  let level: string[][] = [[]];
  const all: string[][] = [];
  for (let n = 1; n <= max; n++) {
    level = level.flatMap((prefix) => [...ALPHABET, "z"].map((t) => [...prefix, t]));
    all.push(...level);
  }
  return all;
}
const UNIVERSE = literals(4);

/**
 * `a ⊆ b` by definition: every literal that a matches, b matches. Over a universe of subjects one
 * token longer than either pattern, with a token ("z") neither pattern names, this is exact.
 */
function subsetByDefinition(a: string[], b: string[]): boolean {
  return UNIVERSE.every((s) => !matchesLiteral(a, s) || matchesLiteral(b, s));
}

const token = fc.constantFrom("a", "b", "*");
const pattern = fc
  .tuple(fc.array(token, { minLength: 1, maxLength: 3 }), fc.boolean())
  .map(([tokens, fwc]) => (fwc ? [...tokens.slice(0, 2), ">"] : tokens));

describe("subject matching, against the definition", () => {
  it("isSubsetMatch(a, b) holds exactly when every subject a matches, b matches", () => {
    fc.assert(
      fc.property(pattern, pattern, (a, b) => {
        expect(isSubsetMatch(a.join("."), b.join("."))).toBe(subsetByDefinition(a, b));
      }),
      { numRuns: 2000 },
    );
  });

  it("the jwt library's containment is never stricter than the server's (it only adds a.> ⊆ a.*)", () => {
    fc.assert(
      fc.property(pattern, pattern, (a, b) => {
        if (isSubsetMatch(a.join("."), b.join("."))) expect(isContainedIn(a.join("."), b.join("."))).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });
});

/**
 * The jwt library's Subject.IsContainedIn and nats-server's SubjectsCollide as their Go code reads,
 * on the split tokens: the project's versions walk the subjects without splitting them.
 */
function containedInOnTokens(mine: string[], theirs: string[]): boolean {
  const last = theirs[theirs.length - 1];
  if (mine.length > theirs.length && last !== ">") return false;
  if (mine.length < theirs.length) return false;
  for (let i = 0; i < theirs.length; i++) {
    if (i === theirs.length - 1 && theirs[i] === ">") return true;
    if (theirs[i] !== mine[i] && theirs[i] !== "*") return false;
  }
  return true;
}

function collideOnTokens(a: string[], b: string[]): boolean {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const x = a[i];
    const y = b[i];
    if (x === ">" || y === ">") return x !== undefined && y !== undefined;
    if (x === undefined || y === undefined) return false;
    if (x !== y && x !== "*" && y !== "*") return false;
  }
  return true;
}

// Any token, malformed ones too: empty, wildcards glued to text, a > before the end.
const anyToken = fc.constantFrom("", "a", "b", "ab", "*", ">", "*a", ">a", "a*");
const anySubject = fc.array(anyToken, { minLength: 1, maxLength: 5 }).map((t) => t.join("."));

describe("containment and collision, token by token", () => {
  it("isContainedIn and subjectsCollide answer as on the split tokens, for any subjects", () => {
    fc.assert(
      fc.property(anySubject, anySubject, (a, b) => {
        expect(isContainedIn(a, b)).toBe(containedInOnTokens(a.split("."), b.split(".")));
        expect(subjectsCollide(a, b)).toBe(collideOnTokens(a.split("."), b.split(".")));
      }),
      { numRuns: 5000 },
    );
  });
});

// ---- JWT decoding ---------------------------------------------------------------------------------

describe("JWT decoding", () => {
  it("never throws on arbitrary strings, and rejects them", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), (s) => {
        expect(decodeJwt(s).ok).toBe(false);
        expect(parseAccount(s).ok).toBe(false);
      }),
      { numRuns: 3000 },
    );
  });

  it("never throws on three base64url chunks of arbitrary JSON, and rejects unsigned ones", () => {
    const chunk = (v: unknown) => Buffer.from(JSON.stringify(v)).toString("base64url");
    fc.assert(
      fc.property(fc.jsonValue(), fc.jsonValue(), fc.string({ maxLength: 90 }), (h, p, sig) => {
        const token = `${chunk(h)}.${chunk(p)}.${Buffer.from(sig).toString("base64url")}`;
        expect(decodeJwt(token).ok).toBe(false);
      }),
      { numRuns: 1000 },
    );
  });

  it("accepts any well-typed account claims the operator signed, and nothing once a byte changes", async () => {
    const op = (await import("@nats-io/nkeys")).createOperator();
    const acct = createAccount();
    await fc.assert(
      fc.asyncProperty(
        fc.string({ maxLength: 20 }),
        fc.array(fc.string({ maxLength: 12 }), { maxLength: 3 }),
        fc.nat(),
        async (name, subjects, flip) => {
          const jwt = await signClaims(
            {
              sub: acct.getPublicKey(),
              name,
              nats: { type: "account", version: 2, exports: subjects.map((subject) => ({ subject, type: "stream" })) },
            },
            op,
          );
          const parsed = parseAccount(jwt);
          expect(parsed.ok).toBe(true);
          if (parsed.ok) expect(parsed.claims.exports.map((e) => e.subject)).toEqual(subjects);
          const i = flip % jwt.length;
          const swapped = jwt[i] === "A" ? "B" : "A";
          const tampered = jwt.slice(0, i) + swapped + jwt.slice(i + 1);
          // The signature's last base64 character carries padding bits that no decoder (Go's
          // included) reads, so a change there alone may leave the signature as it was.
          if (jwt[i] !== "." && i !== jwt.length - 1) expect(decodeJwt(tampered).ok).toBe(false);
        },
      ),
      { numRuns: 200 },
    );
    // 200 signatures through the pure-JS signer: ~6 s on an idle core, several times that on busy ones.
  }, 120_000);
});
