/**
 * An account's subject mappings (JWT `mappings`) and what they do to its service imports.
 *
 * nats-server maps the subject of every message a client (or leaf node) of the account publishes
 * before anything else routes it (parser.go, selectMappedSubject), and a request arriving through
 * a service import the account exports is mapped the same way. A service import is a subscription
 * on its local subject in the importer's account: a request reaches it only if the subject *after*
 * mapping matches. So a mapping that takes the local subject elsewhere starves the import, while the
 * server still lists it as valid. Measured on every pinned line: test/integration/mappings.test.ts.
 *
 * What the server does, and the model follows:
 * - the first installed mapping whose source matches the published subject decides; one step only,
 *   a mapped subject is not mapped again. The server installs a JWT's mappings in Go's map order,
 *   random on each load, so where two sources overlap on the local subject and would keep different
 *   shares on it, the JWTs do not decide the share ("contested");
 * - each destination has a weight (0 reads as 100); when the weights of a mapping sum to less than
 *   100 the rest stays on the subject itself, unless the source is itself listed as a destination:
 *   then the rest is dropped;
 * - a mapping the server cannot build (a `*` in the destination, `>` on one side only, a wildcard
 *   reference out of range in any function, an unknown function or one with bad arguments, a
 *   function the line does not know: `MappingFunctions`) is logged and not installed.
 * Stream imports are not touched: delivery into the importer is not a client publish. The
 * exporter's mappings move what its clients publish and where a request through the import lands
 * in the exporter (its responders must listen on the mapped subject); they do not starve the
 * requests. Both accounts' mappings can take the replies away (replies.ts).
 */
import type { MappingClaim, MappingDestination } from "./jwt/claims.js";
import { isSubsetMatch, isValidSubject, subjectsCollide } from "./subject.js";
import { atoi } from "./atoi.js";

/** One destination token: a literal, the n-th `*` of the source, the source's `>` tail, or a function this model does not follow. */
type DestToken =
  | { kind: "literal"; text: string }
  | { kind: "wildcard"; index: number }
  | { kind: "rest" }
  | { kind: "opaque"; many: boolean };

/**
 * The mapping rules of a server line, measured on each pinned one (test/integration/mapping-functions.test.ts):
 * "2.10" knows no `random`, needs a `partition` to name tokens, and allows no function (nor `$N`)
 * in a mapping whose source has no `*`; "2.12" lifts all three (`partition` and `random` from a
 * literal source, any function whose references are at most 0 from a source with only `>`) and
 * bounds the second number of the index functions to int32; "2.15.2" also installs `left` and
 * `right` (2.14.7 and 2.15.0 on, by their source), which the earlier lines leave out (their
 * ValidateMapping does not list them). "2.11.8" is "2.10" with only the index functions' number
 * bounded to int32 (nats-server 97dbe4d, 2.11.8 on; measured on 2.11.17); 2.11 before it is "2.10"
 * (measured on 2.11.4).
 */
export type MappingFunctions = "2.10" | "2.11.8" | "2.12" | "2.15.2";
/** The lines before 2.12: no `random`, and functions only fed by a source's `*`. */
const before212 = (functions: MappingFunctions) => functions === "2.10" || functions === "2.11.8";
export const CURRENT_MAPPING_FUNCTIONS: MappingFunctions = "2.15.2";

/** What a function token is to the server: which function, and the source wildcards it reads. */
interface Placeholder {
  fn: "wildcard" | "partition" | "random" | "index";
  indexes: number[];
  many: boolean;
}

/** Go's regexp `\s` and `.` (no `\n`): JavaScript's are wider. The server's patterns are not anchored. */
export const fnRe = (name: string) =>
  new RegExp(`{{[\\t\\n\\f\\r ]*${name}[\\t\\n\\f\\r ]*\\(([^\\n]*)\\)[\\t\\n\\f\\r ]*}}`);
const RE = {
  wildcard: fnRe("[wW]ildcard"),
  partition: fnRe("[pP]artition"),
  splitFromLeft: fnRe("[sS]plit[fF]rom[lL]eft"),
  splitFromRight: fnRe("[sS]plit[fF]rom[rR]ight"),
  sliceFromLeft: fnRe("[sS]lice[fF]rom[lL]eft"),
  sliceFromRight: fnRe("[sS]lice[fF]rom[rR]ight"),
  right: fnRe("[rR]ight"),
  left: fnRe("[lL]eft"),
  split: fnRe("[sS]plit"),
  random: fnRe("[rR]andom"),
};
const COMMA = /,[\t\n\f\r ]*/;
const INT32_MAX = 2 ** 31 - 1;
const INT32_MIN = -(2 ** 31);

/** The functions ValidateMapping lets through, by line: a `{{…}}` token matching none of them is refused. */
function knownFunctions(functions: MappingFunctions): RegExp[] {
  const common = [
    RE.partition,
    RE.wildcard,
    RE.splitFromLeft,
    RE.splitFromRight,
    RE.sliceFromLeft,
    RE.sliceFromRight,
    RE.split,
  ];
  if (before212(functions)) return common;
  return functions === "2.12" ? [...common, RE.random] : [...common, RE.random, RE.left, RE.right];
}

/** The arguments as getMappingFunctionArgs splits them (null: the function does not match), each trimmed of spaces as the server does. */
function argsOf(re: RegExp, token: string): string[] | null {
  const m = re.exec(token);
  return m ? m[1]!.split(COMMA) : null;
}
const trimSpaces = (s: string) => s.replace(/^ +| +$/g, "");
const intArg = (s: string) => atoi(trimSpaces(s));

/** The index functions' (index, number) arguments: the number is an int64 on 2.10, an int32 from 2.11.8. */
function indexAndNumber(args: string[], functions: MappingFunctions, many: boolean): Placeholder | null {
  if (args.length !== 2) return null;
  const index = intArg(args[0]!);
  const n = intArg(args[1]!);
  if (index === null || n === null) return null;
  if (functions !== "2.10" && (n > INT32_MAX || n < INT32_MIN)) return null;
  return { fn: "index", indexes: [index], many };
}

/** A `{{…}}` token as the server's indexPlaceHolders reads it, in its order; null: it refuses it. */
function functionToken(token: string, functions: MappingFunctions): Placeholder | null {
  if (!knownFunctions(functions).some((re) => re.test(token))) return null;
  let args = argsOf(RE.wildcard, token);
  if (args) {
    const index = args.length === 1 ? intArg(args[0]!) : null;
    return index === null ? null : { fn: "wildcard", indexes: [index], many: false };
  }
  args = argsOf(RE.partition, token);
  if (args) {
    const n = intArg(args[0]!);
    if (n === null || (!before212(functions) && n > INT32_MAX)) return null;
    if (args.length === 1 && before212(functions)) return null;
    const indexes = args.slice(1).map(intArg);
    return indexes.includes(null) ? null : { fn: "partition", indexes: indexes as number[], many: false };
  }
  for (const [re, many] of [
    [RE.splitFromLeft, true],
    [RE.splitFromRight, true],
    [RE.sliceFromLeft, true],
    [RE.sliceFromRight, true],
    [RE.right, false],
    [RE.left, false],
  ] as const) {
    args = argsOf(re, token);
    if (args) return indexAndNumber(args, functions, many);
  }
  args = argsOf(RE.split, token);
  if (args) {
    // nor a dot in the delimiter, which cannot be written inside one token
    if (args.length !== 2 || args[1]!.includes(" ")) return null;
    const index = intArg(args[0]!);
    return index === null ? null : { fn: "index", indexes: [index], many: true };
  }
  // reached only past every other function: on 2.10, only by a token ValidateMapping already refused
  args = argsOf(RE.random, token);
  if (args) {
    const n = args.length === 1 ? intArg(args[0]!) : null;
    return n === null || n > INT32_MAX ? null : { fn: "random", indexes: [], many: false };
  }
  return null;
}

/** A destination token as ValidateMapping and indexPlaceHolders read it: a literal (no function), a function, or null (refused). */
function placeholder(token: string, functions: MappingFunctions): Placeholder | "literal" | null {
  if (token.length > 4 && token.startsWith("{{") && token.endsWith("}}")) return functionToken(token, functions);
  // whitespace is refused only outside a function token (those skip the check)
  if (/[\t\n\f\r ]/.test(token)) return null;
  if (token.startsWith("$")) {
    // the legacy $N reference; any other $ token (a lone $, a number Atoi refuses: past int64) is ordinary
    const n = atoi(token.slice(1));
    return n === null ? "literal" : { fn: "wildcard", indexes: [n], many: false };
  }
  return "literal";
}

/** May the source's wildcards feed this function (NewSubjectTransform)? */
function fedBySource(p: Placeholder, stars: number, srcRest: boolean, functions: MappingFunctions): boolean {
  if (stars === 0 && !srcRest) return !before212(functions) && (p.fn === "partition" || p.fn === "random");
  if (before212(functions) && stars === 0) return false;
  // random reads no wildcard
  return p.indexes.every((i) => i <= stars);
}

/** A destination the server would build for `source`, as tokens; null when it refuses it. */
function parseDestination(source: string, subject: string, functions: MappingFunctions): DestToken[] | null {
  const raw = subject.split(".");
  // empty tokens, `>` before the end, a `*` (ValidateMapping, subjectInfo)
  if (raw.some((t, i) => t === "" || t === "*" || (t === ">" && i < raw.length - 1))) return null;
  const srcTokens = source.split(".");
  const stars = srcTokens.filter((t) => t === "*").length;
  const srcRest = srcTokens.at(-1) === ">";
  if (srcRest !== (raw.at(-1) === ">")) return null;
  const tokens: DestToken[] = [];
  for (const t of raw) {
    if (t === ">") {
      tokens.push({ kind: "rest" });
      continue;
    }
    const p = placeholder(t, functions);
    if (p === null) return null;
    if (p === "literal") tokens.push({ kind: "literal", text: t });
    else if (!fedBySource(p, stars, srcRest, functions)) return null;
    // a reference to wildcard 0 or below reads the source's first token: not followed
    else if (p.fn === "wildcard" && p.indexes[0]! >= 1) tokens.push({ kind: "wildcard", index: p.indexes[0]! });
    else tokens.push({ kind: "opaque", many: p.many });
  }
  return tokens;
}

/** A mapping as the server installs it: destinations with cumulative semantics left aside, weights as used. */
export interface InstalledMapping {
  claim: MappingClaim;
  /** Destinations everywhere (no cluster), with the rest the server adds itself. */
  destinations: { subject: string; tokens: DestToken[]; weight: number; identity: boolean }[];
  /** Share of messages dropped: weights under 100 with the source itself listed. */
  dropped: number;
  /** Destinations only some clusters use: this model does not know the server's cluster. */
  clusterScoped: boolean;
}

/** The server's AddWeightedMappings: null when it refuses the mapping (it logs and goes on), a weight over 100 too. */
export function install(
  claim: MappingClaim,
  functions: MappingFunctions = CURRENT_MAPPING_FUNCTIONS,
): InstalledMapping | null {
  if (!isValidSubject(claim.source)) return null;
  const seen = new Set<string>();
  const destinations: InstalledMapping["destinations"] = [];
  // Reached only where jwt lets a weight past (before v2.8.1: validate.ts's mappingWeightsInUint8).
  const clusterWeights = new Map<string | null, number>();
  for (const d of claim.destinations) {
    if (seen.has(d.subject)) return null;
    seen.add(d.subject);
    const clusterWeight = (clusterWeights.get(d.cluster) ?? 0) + d.weight;
    if (d.weight > 100 || clusterWeight > 100) return null;
    clusterWeights.set(d.cluster, clusterWeight);
    const tokens = parseDestination(claim.source, d.subject, functions);
    if (!tokens) return null;
    if (d.cluster === null)
      destinations.push({
        subject: d.subject,
        tokens,
        weight: d.weight,
        identity: d.subject === claim.source && !claim.source.includes("*"),
      });
  }
  const total = destinations.reduce((sum, d) => sum + d.weight, 0);
  let dropped = 0;
  if (total < 100) {
    if (seen.has(claim.source)) dropped = 100 - total;
    else
      destinations.push({
        subject: claim.source,
        tokens: identityTokens(claim.source),
        weight: 100 - total,
        identity: true,
      });
  }
  return {
    claim,
    destinations,
    dropped,
    clusterScoped: claim.destinations.some((d: MappingDestination) => d.cluster !== null),
  };
}

function identityTokens(source: string): DestToken[] {
  let n = 0;
  return source
    .split(".")
    .map((t) =>
      t === "*" ? { kind: "wildcard", index: ++n } : t === ">" ? { kind: "rest" } : { kind: "literal", text: t },
    );
}

/** Every subject the destination can yield, as a pattern (wider than the truth where functions are involved). */
function pattern(tokens: DestToken[]): string {
  const out: string[] = [];
  for (const t of tokens) {
    if (t.kind === "literal") out.push(t.text);
    else if (t.kind === "wildcard" || (t.kind === "opaque" && !t.many)) out.push("*");
    else return [...out, ">"].join(".");
  }
  return out.join(".");
}

/** The destination for a literal subject the source matches; null where a function decides. */
function transform(tokens: DestToken[], source: string, subject: string): string | null {
  const src = source.split(".");
  const sub = subject.split(".");
  const starAt = src.flatMap((t, i) => (t === "*" ? [i] : []));
  const out: string[] = [];
  for (const t of tokens) {
    if (t.kind === "literal") out.push(t.text);
    else if (t.kind === "wildcard") out.push(sub[starAt[t.index - 1]!]!);
    else if (t.kind === "rest") out.push(...sub.slice(src.length - 1));
    else return null;
  }
  return out.join(".");
}

const isLiteral = (subject: string) => !subject.split(".").some((t) => t === "*" || t === ">");

/** What the importer's own mappings do to requests on a service import's local subject. */
export type MappingReach =
  /** No mapping decides these requests, or the model cannot tell: as if there were none. */
  | { kind: "untouched" }
  /** Every request on the local subject is mapped elsewhere and nothing is mapped onto it. */
  | { kind: "away"; mapping: MappingClaim; to: string[] }
  /** Only `percent` of the requests on the local subject stay on it. */
  | { kind: "partial"; mapping: MappingClaim; percent: number; to: string[] }
  /** Requests on the local subject go elsewhere, but requests on `via`'s source are mapped onto it. */
  | { kind: "through"; mapping: MappingClaim; via: MappingClaim }
  /**
   * Several mappings take requests on the local subject and would keep different shares on it:
   * which one decides is the order the server installed them in (each share, most kept first).
   */
  | { kind: "contested"; shares: { mapping: MappingClaim; percent: number }[] };

/** Does the destination land inside `local` for the requests `local` stands for: yes, no, or null (cannot tell)? */
function lands(m: InstalledMapping, d: InstalledMapping["destinations"][number], local: string): boolean | null {
  // the subject stays where it was, inside the local subject
  if (d.identity) return true;
  if (!subjectsCollide(pattern(d.tokens), local)) return false;
  if (!isLiteral(local)) return null;
  const out = transform(d.tokens, m.claim.source, local);
  return out === null ? null : isSubsetMatch(out, local);
}

/** The share of requests (percent) a mapping keeps inside the local subject, given where each destination lands. */
function shareKept(
  m: InstalledMapping,
  verdicts: { m: InstalledMapping; d: { weight: number }; in: boolean | null }[],
): number {
  return verdicts.filter((v) => v.m === m && v.in).reduce((sum, v) => sum + v.d.weight, 0);
}

/** What the account's `mappings` do to requests on `local` (the service import's local subject). */
export function mappingReach(
  mappings: readonly MappingClaim[],
  local: string,
  functions: MappingFunctions = CURRENT_MAPPING_FUNCTIONS,
): MappingReach {
  const installed = mappings.map((m) => install(m, functions)).filter((m): m is InstalledMapping => m !== null);
  const colliding = installed.filter((m) => subjectsCollide(m.claim.source, local));
  const covering = colliding.find((m) => isSubsetMatch(local, m.claim.source));
  if (!covering || colliding.some((m) => m.clusterScoped)) return { kind: "untouched" };
  const verdicts = colliding.flatMap((m) => m.destinations.map((d) => ({ m, d, in: lands(m, d, local) })));
  if (verdicts.some((v) => v.in === null)) return { kind: "untouched" };
  const to = covering.destinations.filter((d) => !d.identity).map((d) => d.subject);
  if (verdicts.every((v) => v.in === false)) {
    const via = installed.find(
      (m) =>
        m.destinations.some((d) => !d.identity && subjectsCollide(pattern(d.tokens), local)) && !colliding.includes(m),
    );
    return via
      ? { kind: "through", mapping: covering.claim, via: via.claim }
      : { kind: "away", mapping: covering.claim, to };
  }
  const shares = colliding
    .map((m) => ({ mapping: m.claim, percent: shareKept(m, verdicts) }))
    .sort((a, b) => b.percent - a.percent);
  // Which of several mappings decides is the order the server installed them in: only shares that
  // agree leave the JWTs deciding.
  if (shares[0]!.percent !== shares.at(-1)!.percent) return { kind: "contested", shares };
  const percent = shares[0]!.percent;
  return percent >= 100 ? { kind: "untouched" } : { kind: "partial", mapping: covering.claim, percent, to };
}

/** The single literal subject a literal local subject is always mapped to, if there is one (a new local subject that keeps the mapping). */
export function soleDestination(
  reach: MappingReach,
  local: string,
  functions: MappingFunctions = CURRENT_MAPPING_FUNCTIONS,
): string | null {
  if (reach.kind !== "away" || !isLiteral(local)) return null;
  const m = install(reach.mapping, functions);
  if (!m || m.destinations.length !== 1 || m.dropped > 0) return null;
  const out = transform(m.destinations[0]!.tokens, m.claim.source, local);
  return out !== null && isLiteral(out) ? out : null;
}
