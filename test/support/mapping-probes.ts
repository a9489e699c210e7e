/**
 * Mapping destinations and where each pinned server line delivers a message through them: the
 * table test/integration/mapping-functions.test.ts measures on the real servers and
 * test/unit/mapping.test.ts holds the engine's parser to.
 */

/**
 * One mapping (`source` to `dest`) and the subject published; `lands`: where the message arrives
 * on each line (2.10.29, 2.12.15, 2.15.2), or null where the server does not install the mapping
 * (the message stays on the subject published; 2.15.2 rejects the JWT). One string: the same on all
 * three. Expectations from nats-server's subject_transform.go (ValidateMapping, indexPlaceHolders,
 * NewSubjectTransform) and measured.
 */
export interface Probe {
  source: string;
  dest: string;
  publish: string;
  lands: string | null | [string | null, string | null, string | null];
  /** Releases inside a column that land otherwise: from `from` to `to` (both included; "2.11.x": the line's end). */
  except?: { from: string; to: string; lands: string | null };
}

export const PROBES: Probe[] = [
  { source: "a.*", dest: "b.{{wildcard(1)}}", publish: "a.x", lands: "b.x" },
  // the first letter of a function name in either case, the rest as written
  { source: "a.*", dest: "b.{{Wildcard(1)}}", publish: "a.x", lands: "b.x" },
  { source: "a.*", dest: "b.{{WILDCARD(1)}}", publish: "a.x", lands: null },
  { source: "a.*", dest: "b.{{SplitFromLeft(1,1)}}", publish: "a.xy", lands: "b.x.y" },
  { source: "a.*", dest: "b.{{splitfromleft(1,1)}}", publish: "a.xy", lands: "b.x.y" },
  { source: "a.*", dest: "b.{{splitFROMleft(1,1)}}", publish: "a.xy", lands: null },
  // the server's patterns are not anchored: a function anywhere in a {{…}} token counts
  { source: "a.*", dest: "b.{{wildcard(1)}}x}}", publish: "a.x", lands: "b.x" },
  { source: "a.*", dest: "b.{{x{{wildcard(1)}}", publish: "a.x", lands: "b.x" },
  { source: "a.*", dest: "b.{{wildcard(1)}", publish: "a.x", lands: "b.{{wildcard(1)}" },
  // whitespace: refused outside a function token, Go's \s inside one, spaces only trimmed from a number
  { source: "a.*", dest: "b.{{\twildcard(1)}}", publish: "a.x", lands: "b.x" },
  { source: "a.*", dest: "b.{{wildcard\t(1)\r}}", publish: "a.x", lands: "b.x" },
  { source: "a.*", dest: "b.{{\vwildcard(1)}}", publish: "a.x", lands: null },
  { source: "a.*", dest: "b.{{wildcard(1)}}\t", publish: "a.x", lands: null },
  { source: "a.*", dest: "b.$1\t", publish: "a.x", lands: null },
  { source: "a.*", dest: "b.{{wildcard(\t1)}}", publish: "a.x", lands: null },
  { source: "a.*", dest: "b.{{splitFromLeft(1,\t1)}}", publish: "a.xy", lands: "b.x.y" },
  // wildcard arguments
  { source: "a.*", dest: "b.{{wildcard()}}", publish: "a.x", lands: null },
  { source: "a.*", dest: "b.{{wildcard(1,1)}}", publish: "a.x", lands: null },
  { source: "a.*", dest: "b.{{wildcard(x)}}", publish: "a.x", lands: null },
  { source: "a.*", dest: "b.{{wildcard(+1)}}", publish: "a.x", lands: "b.x" },
  // a reference to wildcard 0 or below reads the source's first token
  { source: "a.*", dest: "b.{{wildcard(0)}}", publish: "a.x", lands: "b.a" },
  { source: "a.*", dest: "b.$0", publish: "a.x", lands: "b.a" },
  { source: "a.*", dest: "b.{{wildcard(-1)}}", publish: "a.x", lands: "b.a" },
  // partition(n, wildcard…): every argument a number, references in range; n alone from 2.12
  { source: "a.*", dest: "b.{{partition(2)}}", publish: "a.x", lands: [null, "b.0", "b.0"] },
  { source: "a.*", dest: "b.{{partition(2,1)}}", publish: "a.x", lands: "b.1" },
  { source: "a.*", dest: "b.{{Partition(2,\t1)}}", publish: "a.x", lands: "b.1" },
  { source: "a.*", dest: "b.{{partition(2,2)}}", publish: "a.x", lands: null },
  { source: "a.*", dest: "b.{{partition(x,1)}}", publish: "a.x", lands: null },
  { source: "a.*", dest: "b.{{partition(2,x)}}", publish: "a.x", lands: null },
  { source: "a.*", dest: "b.{{partition(2,0)}}", publish: "a.x", lands: "b.0" },
  // one partition: every subject lands in partition 0
  { source: "a.*", dest: "b.{{partition(1,1)}}", publish: "a.x", lands: "b.0" },
  { source: "a.*", dest: "b.{{partition()}}", publish: "a.x", lands: null },
  { source: "a.*", dest: "b.{{partition(9999999999)}}", publish: "a.x", lands: null },
  // the index functions: (wildcard, number), the number an int32 from 2.12
  { source: "a.*", dest: "b.{{splitFromLeft(1,1)}}", publish: "a.xy", lands: "b.x.y" },
  { source: "a.*", dest: "b.{{splitFromLeft(1)}}", publish: "a.xy", lands: null },
  { source: "a.*", dest: "b.{{splitFromLeft(1,1,1)}}", publish: "a.xy", lands: null },
  { source: "a.*", dest: "b.{{splitFromLeft(2,1)}}", publish: "a.xy", lands: null },
  { source: "a.*", dest: "b.{{splitFromLeft(x,1)}}", publish: "a.xy", lands: null },
  // ... and from 2.11.8 (nats-server 97dbe4d; measured: 2.11.4 installs, 2.11.17 leaves out)
  ...["b.{{splitFromLeft(1,99999999999)}}", "b.{{splitFromLeft(1,-2147483649)}}"].map((dest): Probe => ({
    source: "a.*",
    dest,
    publish: "a.xy",
    lands: ["b.xy", null, null],
    except: { from: "2.11.8", to: "2.11.x", lands: null },
  })),
  { source: "a.*", dest: "b.{{sliceFromRight(1,2147483647)}}", publish: "a.xy", lands: "b.xy" },
  { source: "a.*", dest: "b.{{splitFromRight(1,1)}}", publish: "a.xy", lands: "b.x.y" },
  { source: "a.*", dest: "b.{{sliceFromLeft(1,1)}}", publish: "a.xy", lands: "b.x.y" },
  { source: "a.*", dest: "b.{{sliceFromRight(1,1)}}", publish: "a.xy", lands: "b.x.y" },
  // split(wildcard, delimiter) (a delimiter with a space or a dot cannot be written: the JWT refuses spaces, a dot ends the token)
  { source: "a.*", dest: "b.{{split(1,y)}}", publish: "a.xyz", lands: "b.x.z" },
  { source: "a.*", dest: "b.{{split(1)}}", publish: "a.xyz", lands: null },
  { source: "a.*", dest: "b.{{split(1,y,z)}}", publish: "a.xyz", lands: null },
  { source: "a.*", dest: "b.{{split(x,y)}}", publish: "a.xyz", lands: null },
  // left and right: installed from 2.15.2 only
  { source: "a.*", dest: "b.{{left(1,1)}}", publish: "a.xy", lands: [null, null, "b.x"] },
  { source: "a.*", dest: "b.{{right(1,1)}}", publish: "a.xy", lands: [null, null, "b.y"] },
  { source: "a.*", dest: "b.{{left(1)}}", publish: "a.xy", lands: null },
  // random(n): from 2.12
  { source: "a.*", dest: "b.{{random(1)}}", publish: "a.x", lands: [null, "b.0", "b.0"] },
  { source: "a.*", dest: "b.{{random(x)}}", publish: "a.x", lands: null },
  { source: "a.*", dest: "b.{{random(1,1)}}", publish: "a.x", lands: null },
  { source: "a.*", dest: "b.{{nosuch(1)}}", publish: "a.x", lands: null },
  // a literal source: partition and random only, from 2.12
  { source: "a", dest: "b.{{partition(1)}}", publish: "a", lands: [null, "b.0", "b.0"] },
  { source: "a", dest: "b.{{partition(1,5)}}", publish: "a", lands: [null, "b.0", "b.0"] },
  { source: "a", dest: "b.{{random(1)}}", publish: "a", lands: [null, "b.0", "b.0"] },
  { source: "a", dest: "b.{{wildcard(0)}}", publish: "a", lands: null },
  { source: "a", dest: "b.$0", publish: "a", lands: null },
  { source: "a", dest: "b.{{splitFromLeft(0,1)}}", publish: "a", lands: null },
  // a source with `>` and no `*`: functions from 2.12, references at most 0
  { source: "a.>", dest: "b.{{partition(1)}}.>", publish: "a.x", lands: [null, "b.0.x", "b.0.x"] },
  { source: "a.>", dest: "b.{{wildcard(0)}}.>", publish: "a.x", lands: [null, "b.a.x", "b.a.x"] },
  { source: "a.>", dest: "b.$0.>", publish: "a.x", lands: [null, "b.a.x", "b.a.x"] },
  { source: "a.>", dest: "b.{{splitFromLeft(0,1)}}.>", publish: "a.x", lands: [null, "b.a.x", "b.a.x"] },
  { source: "a.>", dest: "b.{{splitFromLeft(1,1)}}.>", publish: "a.x", lands: null },
  { source: "a.>", dest: "b.{{random(1)}}.>", publish: "a.x", lands: [null, "b.0.x", "b.0.x"] },
  // `>` and `*` in the destination; only a lone `*` or `>` is a wildcard, in the source too
  { source: "a.>", dest: "b.>.c", publish: "a.x", lands: null },
  { source: "a.>", dest: "b.>.>", publish: "a.x", lands: null },
  { source: "a.x*", dest: "b.$1", publish: "a.x*", lands: null },
  { source: "a.x>", dest: "b.>", publish: "a.x>", lands: null },
  // a token is a function only between {{ and }}, a reference only after $
  { source: "a.*", dest: "b.xyz}}", publish: "a.x", lands: "b.xyz}}" },
  { source: "a", dest: "b.x1", publish: "a", lands: "b.x1" },
  { source: "a.*", dest: "b.*", publish: "a.x", lands: null },
];

export const LINES = ["2.10.29", "2.12.15", "2.15.2"];
/**
 * The column of `lands` a server version takes: before 2.12 2.10.29's; 2.12, 2.13 and 2.14.0-2.14.6
 * 2.12.15's; 2.14.7 on and 2.15 2.15.2's (ValidateMapping lists left and right there). Measured on
 * 2.10.20, 2.11.4, 2.11.17, 2.12.4, 2.14.10 and 2.15.3 besides the pinned three.
 */
function columnOf(version: string): number {
  const [major, minor, patch] = version.split(/[.-]/).slice(0, 3).map(Number) as [number, number, number];
  if (major < 2 || (major === 2 && minor < 12)) return 0;
  return major === 2 && (minor < 14 || (minor === 14 && patch < 7)) ? 1 : 2;
}
const versionNumbers = (v: string) =>
  v
    .split(/[.-]/)
    .slice(0, 3)
    .map((n) => (n === "x" ? Infinity : Number(n)));
function within(version: string, from: string, to: string): boolean {
  const cmp = (a: number[], b: number[]) => a.reduce((c, x, i) => c || Math.sign(x - b[i]!), 0);
  const v = versionNumbers(version);
  return cmp(v, versionNumbers(from)) >= 0 && cmp(v, versionNumbers(to)) <= 0;
}
export const expected = (p: Probe, version: string) => {
  if (p.except && within(version, p.except.from, p.except.to)) return p.except.lands;
  return Array.isArray(p.lands) ? p.lands[columnOf(version)]! : p.lands;
};
/** Releases measured besides the pinned lines (docs/servers.md), whose rules the unit tests hold to the table too. */
export const MEASURED_LINES = ["2.10.20", "2.11.4", "2.11.17", "2.12.4", "2.14.10", "2.15.3"];
