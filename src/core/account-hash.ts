/**
 * Account-scoped mapping functions: `{{account-hash()}}`, `{{account-hash-import()}}` (and
 * `{{account-hash-leaf-remote()}}`, for leaf node remotes only). nats-server 2.14.10 and 2.15.3 on
 * (by source: 2.14.9 and 2.15.2 lack them; `ServerRules.expandsAccountHash`) replace such a token,
 * once, when it installs an account's exports, imports and mappings, by an 8-character hash of an
 * account's public key (SHA-256, each of the first 8 bytes as a base-62 digit: the server's getHash).
 * In an export or a mapping `{{account-hash()}}` is the account's own hash; in an import it is the
 * importer's and `{{account-hash-import()}}` the source account's. jwt validates the subjects as
 * written, on push and at load; the server installs the expanded ones, checks an import's activation
 * token against its expanded subject, and checks mappings expanded when it validates a push.
 * A token the server cannot expand (arguments, a function not available there) leaves that export or
 * import out (logged), and a mapping's refuses the push. Lines without them read the text literally.
 * Measured: test/integration/account-hash.test.ts.
 */
import { createHash } from "node:crypto";
import type { AccountClaims, ExportClaim, ImportClaim, MappingClaim } from "./jwt/claims.js";
import { withSubjects } from "./jwt/claims.js";
import { fnRe } from "./mapping.js";

const DIGITS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/** The server's getHash of an account's public key: what `{{account-hash()}}` becomes. */
export function accountHash(id: string): string {
  const sum = createHash("sha256").update(id).digest();
  let out = "";
  for (let i = 0; i < 8; i++) out += DIGITS[sum[i]! % DIGITS.length];
  return out;
}

/** The accounts a subject's functions hash: its own, and in an import the source account. */
export interface HashContext {
  account: string;
  importAccount?: string;
}

/** In the server's order: the import function, the leaf remote one, then the plain one (its patterns are not anchored). */
const FUNCTIONS: { re: RegExp; value: (ctx: HashContext) => string | undefined }[] = [
  { re: fnRe("[aA]ccount-[hH]ash-[iI]mport"), value: (ctx) => ctx.importAccount },
  // only a leaf node remote's permissions know the remote account
  { re: fnRe("[aA]ccount-[hH]ash-[lL]eaf-[rR]emote"), value: () => undefined },
  { re: fnRe("[aA]ccount-[hH]ash"), value: (ctx) => ctx.account },
];
/** Go's strings.TrimSpace. */
const GO_SPACE =
  /^[\t\n\v\f\r \u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]+|[\t\n\v\f\r \u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]+$/g;

export type Expanded = { ok: true; subject: string } | { ok: false; error: string };

const isFunctionToken = (t: string) => t.length > 4 && t.startsWith("{{") && t.endsWith("}}");

/**
 * The server's expandSubjectPlaceholders: each token that is one of the account-scoped functions
 * becomes its account's hash; any other token (another function included) stays as written.
 */
export function expandAccountFunctions(subject: string, ctx: HashContext): Expanded {
  if (!subject.includes("{{")) return { ok: true, subject };
  const tokens = subject.split(".");
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i]!;
    if (!isFunctionToken(token)) continue;
    for (const f of FUNCTIONS) {
      const m = f.re.exec(token);
      if (!m) continue;
      const args = m[1]!.split(/,[\t\n\f\r ]*/);
      if (args.length > 1 || args[0]!.replace(GO_SPACE, "") !== "")
        return { ok: false, error: `${token}: the function takes no arguments` };
      const account = f.value(ctx);
      if (account === undefined) return { ok: false, error: `${token}: the function is not available here` };
      tokens[i] = accountHash(account);
      break;
    }
  }
  return { ok: true, subject: tokens.join(".") };
}

/** What the server installs of an account's JWT where it differs from what the JWT says. */
export interface Installed {
  imports: ImportClaim[];
  exports: ExportClaim[];
  mappings: MappingClaim[];
  /** Imports the server leaves out (it cannot expand a subject): index → why. */
  skipped: Map<number, string>;
}

const hasFunctionText = (s: string | null) => s !== null && s.includes("{{");

/**
 * The account's exports, imports and mappings as a server that expands the account-scoped functions
 * installs them; null when that is what the JWT says (no subject holds `{{`), the usual case.
 */
export function installedClaims(claims: AccountClaims): Installed | null {
  const any =
    claims.exports.some((e) => hasFunctionText(e.subject)) ||
    claims.imports.some(
      (i) => hasFunctionText(i.subject) || hasFunctionText(i.localSubject) || hasFunctionText(i.to),
    ) ||
    claims.mappings.some((m) => hasFunctionText(m.source) || m.destinations.some((d) => hasFunctionText(d.subject)));
  if (!any) return null;
  const own: HashContext = { account: claims.subject };
  const exports = claims.exports.flatMap((e) => {
    const x = expandAccountFunctions(e.subject, own);
    if (!x.ok) return [];
    return x.subject === e.subject ? [e] : [{ ...e, subject: x.subject }];
  });
  const mappings = claims.mappings.flatMap((m) => {
    const x = expandMapping(m, claims.subject);
    return x.ok ? [x.mapping] : [];
  });
  const skipped = new Map<number, string>();
  const imports = claims.imports.flatMap((imp) => {
    const ctx: HashContext = { account: claims.subject, importAccount: imp.account };
    const subject = expandAccountFunctions(imp.subject, ctx);
    const local = imp.localSubject === null ? null : expandAccountFunctions(imp.localSubject, ctx);
    const to = imp.to === null ? null : expandAccountFunctions(imp.to, ctx);
    const failed = [subject, local, to].find((x): x is { ok: false; error: string } => x !== null && !x.ok);
    if (failed) {
      skipped.set(imp.index, `the server cannot install it: ${failed.error}`);
      return [];
    }
    const expanded = {
      subject: (subject as { subject: string }).subject,
      localSubject: local && (local as { subject: string }).subject,
      to: to && (to as { subject: string }).subject,
    };
    const same =
      expanded.subject === imp.subject && expanded.localSubject === imp.localSubject && expanded.to === imp.to;
    return [same ? imp : withSubjects(imp, expanded)];
  });
  return { imports, exports, mappings, skipped };
}

/** A mapping with its source and destinations expanded for its account (the server's AddWeightedMappings and push check). */
export function expandMapping(
  m: MappingClaim,
  account: string,
): { ok: true; mapping: MappingClaim } | { ok: false; error: string } {
  const ctx: HashContext = { account };
  const source = expandAccountFunctions(m.source, ctx);
  if (!source.ok) return source;
  const destinations = [];
  for (const d of m.destinations) {
    const x = expandAccountFunctions(d.subject, ctx);
    if (!x.ok) return x;
    destinations.push(x.subject === d.subject ? d : { ...d, subject: x.subject });
  }
  const same = source.subject === m.source && destinations.every((d, i) => d === m.destinations[i]);
  return { ok: true, mapping: same ? m : { source: source.subject, destinations } };
}
