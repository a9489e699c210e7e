/**
 * Subject matching, exactly as the two NATS components that decide an import do it.
 *
 * They do not agree with each other, and both must be followed:
 * - nats-server matches an import subject against export subjects with `isSubsetMatch`
 *   (server/sublist.go): `a.>` is NOT a subset of `a.*`.
 * - the jwt library checks an import subject against its activation token's subject with
 *   `Subject.IsContainedIn` (jwt/v2/types.go), a simpler token walk in which `a.>` IS contained
 *   in `a.*` and a token starting with `*` or `>` counts as a wildcard only when it is exactly that.
 */

const FWC = ">";
const PWC = "*";

/**
 * nats-server's isSubsetMatch: is every subject matched by `subject` also matched by `test`?
 * Note the server looks only at the first character of an export token to decide whether it is
 * a `*` wildcard; that quirk is kept.
 */
export function isSubsetMatch(subject: string, test: string): boolean {
  // Token by token without splitting (it runs for every import on every evaluation): [i, ie) is
  // the subject's current token, [j, je) the test's; i > n once the subject has no token left.
  const n = subject.length;
  const m = test.length;
  let i = 0;
  for (let j = 0; j <= m;) {
    let je = test.indexOf(".", j);
    if (je < 0) je = m;
    if (i > n) return false;
    const t2len = je - j;
    if (t2len === 0) return false;
    const t2c = test.charCodeAt(j);
    if (t2len === 1 && t2c === FWC_CODE) return true;
    let ie = subject.indexOf(".", i);
    if (ie < 0) ie = n;
    const t1len = ie - i;
    if (t1len === 0) return false;
    const t1c = subject.charCodeAt(i);
    if (t1len === 1 && t1c === FWC_CODE) return false;
    if (t1len === 1 && t1c === PWC_CODE) {
      if (!(t2len === 1 && t2c === PWC_CODE)) return false;
    } else if (t2c !== PWC_CODE && !sameToken(subject, i, t1len, test, j, t2len)) {
      return false;
    }
    i = ie + 1;
    j = je + 1;
  }
  return i > n;
}

const FWC_CODE = 62; // ">"
const PWC_CODE = 42; // "*"

function sameToken(a: string, ai: number, alen: number, b: string, bj: number, blen: number): boolean {
  if (alen !== blen) return false;
  for (let k = 0; k < alen; k++) if (a.charCodeAt(ai + k) !== b.charCodeAt(bj + k)) return false;
  return true;
}

/** The jwt library's Subject.IsContainedIn, used for the activation-token subject check. */
export function isContainedIn(subject: string, other: string): boolean {
  const otherTokens = other.split(".");
  const myTokens = subject.split(".");
  const last = otherTokens[otherTokens.length - 1];
  if (myTokens.length > otherTokens.length && last !== FWC) return false;
  if (myTokens.length < otherTokens.length) return false;
  for (let i = 0; i < otherTokens.length; i++) {
    const tok = otherTokens[i]!;
    if (i === otherTokens.length - 1 && tok === FWC) return true;
    if (tok !== myTokens[i] && tok !== PWC) return false;
  }
  return true;
}

/** nats-server's IsValidSubject (non-strict): non-empty tokens, no whitespace, `>` only last. */
export function isValidSubject(subject: string): boolean {
  if (subject === "") return false;
  // One pass: no whitespace, no empty token, and a lone `>` only as the last token (`>abc` is an
  // ordinary token).
  let start = 0;
  for (let k = 0; k <= subject.length; k++) {
    const c = k < subject.length ? subject.charCodeAt(k) : 46;
    if (c === 32 || c === 9 || c === 10 || c === 12 || c === 13) return false;
    if (c !== 46) continue;
    if (k === start) return false;
    if (k < subject.length && k - start === 1 && subject.charCodeAt(start) === FWC_CODE) return false;
    start = k + 1;
  }
  return true;
}

/** The jwt library's Subject.Validate: the reasons a subject in a JWT is rejected, if any. */
export function subjectErrors(subject: string): string[] {
  if (subject === "") return ["subject cannot be empty"];
  const errors: string[] = [];
  if (subject.includes(" ")) errors.push(`subject "${subject}" cannot have spaces`);
  if (subject.startsWith(".") || subject.endsWith(".")) {
    errors.push(`subject "${subject}" cannot start or end with a '.'`);
  }
  if (subject.includes("..")) errors.push(`subject "${subject}" cannot contain consecutive '.'`);
  return errors;
}

/** Does the subject contain a wildcard token? */
export function hasWildcard(subject: string): boolean {
  return subject.split(".").some((t) => t === PWC || t === FWC);
}

/** Does some subject match both (nats-server's SubjectsCollide)? */
export function subjectsCollide(a: string, b: string): boolean {
  const ta = a.split(".");
  const tb = b.split(".");
  for (let i = 0; i < Math.max(ta.length, tb.length); i++) {
    const x = ta[i];
    const y = tb[i];
    if (x === ">" || y === ">") return x !== undefined && y !== undefined;
    if (x === undefined || y === undefined) return false;
    if (x !== y && x !== "*" && y !== "*") return false;
  }
  return true;
}
