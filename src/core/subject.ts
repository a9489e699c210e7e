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
  // Token by token without splitting, like isSubsetMatch: splitting a subject that is kept for good
  // (shared(), so internalized) makes V8 internalize each of its tokens too, and cache the result.
  const mine = tokenCount(subject);
  const theirs = tokenCount(other);
  const lastIsFwc = other === FWC || other.endsWith(`.${FWC}`);
  if (mine > theirs && !lastIsFwc) return false;
  if (mine < theirs) return false;
  let i = 0;
  let j = 0;
  for (let k = 0; k < theirs; k++) {
    const ie = tokenEnd(subject, i);
    const je = tokenEnd(other, j);
    if (k === theirs - 1 && isToken(other, j, je, FWC_CODE)) return true;
    if (!isToken(other, j, je, PWC_CODE) && !sameToken(subject, i, ie - i, other, j, je - j)) return false;
    i = ie + 1;
    j = je + 1;
  }
  return true;
}

/** Where the token starting at `i` ends: the next "." or the end of the subject. */
function tokenEnd(subject: string, i: number): number {
  const end = subject.indexOf(".", i);
  return end < 0 ? subject.length : end;
}

/** Is the token [i, end) the single character `code`? */
function isToken(subject: string, i: number, end: number, code: number): boolean {
  return end - i === 1 && subject.charCodeAt(i) === code;
}

/** The number of tokens, empty ones included (what split(".") would give). */
function tokenCount(subject: string): number {
  let n = 1;
  for (let k = subject.indexOf("."); k >= 0; k = subject.indexOf(".", k + 1)) n++;
  return n;
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
  // Token by token without splitting (the cycle search runs it for every import of every account
  // it walks through); a position past the end means no token is left there.
  let i = 0;
  let j = 0;
  while (i <= a.length || j <= b.length) {
    const ie = i <= a.length ? tokenEnd(a, i) : -1;
    const je = j <= b.length ? tokenEnd(b, j) : -1;
    if ((ie >= 0 && isToken(a, i, ie, FWC_CODE)) || (je >= 0 && isToken(b, j, je, FWC_CODE))) return ie >= 0 && je >= 0;
    if (ie < 0 || je < 0) return false;
    if (!isToken(a, i, ie, PWC_CODE) && !isToken(b, j, je, PWC_CODE) && !sameToken(a, i, ie - i, b, j, je - j))
      return false;
    i = ie + 1;
    j = je + 1;
  }
  return true;
}
