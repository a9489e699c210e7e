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
 * - the first installed mapping whose source matches the published subject decides (the order is
 *   Go's map order, so overlapping sources are not relied upon here); one step only, a mapped
 *   subject is not mapped again;
 * - each destination has a weight (0 reads as 100); when the weights of a mapping sum to less than
 *   100 the rest stays on the subject itself, unless the source is itself listed as a destination:
 *   then the rest is dropped;
 * - a mapping the server cannot build (a `*` in the destination, `>` on one side only, a wildcard
 *   reference out of range, an unknown function) is logged and not installed.
 * Stream imports are not touched: delivery into the importer is not a client publish. The
 * exporter's mappings move what its clients publish and where a request through the import lands
 * in the exporter (its responders must listen on the mapped subject); they do not starve the import.
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

/** The server's mapping functions (its own regular expressions), and whether one can yield several tokens. */
const FUNCTIONS: { re: RegExp; wildcard?: true; many: boolean }[] = [
  { re: /^{{\s*[wW]ildcard\s*\((.*)\)\s*}}$/, wildcard: true, many: false },
  { re: /^{{\s*[pP]artition\s*\((.*)\)\s*}}$/, many: false },
  { re: /^{{\s*[rR]andom\s*\((.*)\)\s*}}$/, many: false },
  { re: /^{{\s*[lL]eft\s*\((.*)\)\s*}}$/, many: false },
  { re: /^{{\s*[rR]ight\s*\((.*)\)\s*}}$/, many: false },
  { re: /^{{\s*[sS]plit\s*\((.*)\)\s*}}$/, many: true },
  { re: /^{{\s*[sS]plit[fF]rom[lL]eft\s*\((.*)\)\s*}}$/, many: true },
  { re: /^{{\s*[sS]plit[fF]rom[rR]ight\s*\((.*)\)\s*}}$/, many: true },
  { re: /^{{\s*[sS]lice[fF]rom[lL]eft\s*\((.*)\)\s*}}$/, many: true },
  { re: /^{{\s*[sS]lice[fF]rom[rR]ight\s*\((.*)\)\s*}}$/, many: true },
];

/** A destination token as the server's indexPlaceHolders reads it; null: the server refuses it. */
function destToken(token: string): DestToken | null {
  if (token === ">") return { kind: "rest" };
  if (token.length > 1 && token[0] === "$") {
    // the legacy $N reference; any other $ token (a number Atoi refuses too: past int64) is ordinary
    const n = atoi(token.slice(1));
    if (n === null) return { kind: "literal", text: token };
    return n >= 1 ? { kind: "wildcard", index: n } : { kind: "opaque", many: false };
  }
  if (token.length > 4 && token.startsWith("{{") && token.endsWith("}}")) {
    for (const f of FUNCTIONS) {
      const m = f.re.exec(token);
      if (!m) continue;
      if (!f.wildcard) return { kind: "opaque", many: f.many };
      const arg = m[1]!.trim();
      const n = atoi(arg);
      if (n === null) return null;
      return n >= 1 ? { kind: "wildcard", index: n } : { kind: "opaque", many: false };
    }
    return null;
  }
  return { kind: "literal", text: token };
}

/** A destination the server would build for `source`, as tokens; null when it refuses it. */
function parseDestination(source: string, subject: string): DestToken[] | null {
  if (!isValidSubject(subject)) return null;
  const tokens = subject.split(".").map(destToken);
  if (tokens.some((t) => t === null || (t.kind === "literal" && t.text === "*"))) return null;
  const parsed = tokens as DestToken[];
  const srcTokens = source.split(".");
  const stars = srcTokens.filter((t) => t === "*").length;
  const srcRest = srcTokens.at(-1) === ">";
  if (srcRest !== parsed.some((t) => t.kind === "rest")) return null;
  if (stars === 0 && !srcRest && parsed.some((t) => t.kind === "wildcard" || (t.kind === "opaque" && t.many)))
    return null;
  if (parsed.some((t) => t.kind === "wildcard" && t.index > stars)) return null;
  return parsed;
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

/** The server's AddWeightedMappings: null when it refuses the mapping (it logs and goes on). */
export function install(claim: MappingClaim): InstalledMapping | null {
  if (!isValidSubject(claim.source)) return null;
  const seen = new Set<string>();
  const destinations: InstalledMapping["destinations"] = [];
  for (const d of claim.destinations) {
    if (seen.has(d.subject)) return null;
    seen.add(d.subject);
    const tokens = parseDestination(claim.source, d.subject);
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
  | { kind: "through"; mapping: MappingClaim; via: MappingClaim };

/** Does the destination land inside `local` for the requests `local` stands for: yes, no, or null (cannot tell)? */
function lands(m: InstalledMapping, d: InstalledMapping["destinations"][number], local: string): boolean | null {
  // the subject stays where it was, inside the local subject
  if (d.identity) return true;
  if (!subjectsCollide(pattern(d.tokens), local)) return false;
  if (!isLiteral(local)) return null;
  const out = transform(d.tokens, m.claim.source, local);
  return out === null ? null : isSubsetMatch(out, local);
}

/** What the account's `mappings` do to requests on `local` (the service import's local subject). */
export function mappingReach(mappings: readonly MappingClaim[], local: string): MappingReach {
  const installed = mappings.map(install).filter((m): m is InstalledMapping => m !== null);
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
  // Several mappings share these subjects: which one decides is Go's map order. Not followed.
  if (colliding.length > 1) return { kind: "untouched" };
  const percent = verdicts.filter((v) => v.in).reduce((sum, v) => sum + v.d.weight, 0);
  return percent >= 100 ? { kind: "untouched" } : { kind: "partial", mapping: covering.claim, percent, to };
}

/** The single literal subject a literal local subject is always mapped to, if there is one (a new local subject that keeps the mapping). */
export function soleDestination(reach: MappingReach, local: string): string | null {
  if (reach.kind !== "away" || !isLiteral(local)) return null;
  const m = install(reach.mapping);
  if (!m || m.destinations.length !== 1 || m.dropped > 0) return null;
  const out = transform(m.destinations[0]!.tokens, m.claim.source, local);
  return out !== null && isLiteral(out) ? out : null;
}
