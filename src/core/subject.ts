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
  const tokens = subject.split(".");
  const testTokens = test.split(".");
  for (let i = 0; i < testTokens.length; i++) {
    const t2 = testTokens[i]!;
    if (i >= tokens.length) return false;
    if (t2.length === 0) return false;
    if (t2 === FWC) return true;
    const t1 = tokens[i]!;
    if (t1.length === 0 || t1 === FWC) return false;
    if (t1 === PWC) {
      if (t2 !== PWC) return false;
      continue;
    }
    if (t2[0] !== PWC && t1 !== t2) return false;
  }
  return tokens.length === testTokens.length;
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
  if (subject === "" || /[\t\n\f\r ]/.test(subject)) return false;
  const tokens = subject.split(".");
  // A lone `>` must be the last token; `>abc` is an ordinary token.
  return tokens.every((t, i) => t.length > 0 && (t !== FWC || i === tokens.length - 1));
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

/** Do two subjects overlap: is there a literal subject both match? (one-way subset either way is enough for jwt) */
export function subjectsOverlapForJwt(a: string, b: string): boolean {
  return isContainedIn(a, b) || isContainedIn(b, a);
}

/** Does the subject contain a wildcard token? */
export function hasWildcard(subject: string): boolean {
  return subject.split(".").some((t) => t === PWC || t === FWC);
}
