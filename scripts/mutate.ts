/**
 * npm run mutate [-- <stryker options>]: mutation testing of src/core in two passes (docs/decisions.md 26).
 *
 * Pass 1 (stryker.config.json, incremental) runs each mutant against the tests that covered it in the
 * dry run. A kill there is a real kill (a test failed with the mutant active), but the core memoizes
 * (decoded JWTs, key caches, parse memos), so code often runs only in the first test that reaches it:
 * a mutant may "survive" or have "no coverage" only because the test that would kill it was left out.
 * Pass 2 runs just those again against every unit test related to their file
 * (test/support/mutate-every-test.ts: with Stryker's vitest runner, `coverageAnalysis` does not do
 * that). Its incremental file is pass 1's report without them, so Stryker reuses pass 1's kills and
 * compile errors and runs the rest afresh. Pass 2's report (reports/mutation/) is the final one; the
 * table printed at the end gives both passes per file.
 *
 * Options of this script (the others go to Stryker, in both passes):
 *   --no-confirm        pass 1 only
 *   --confirm-only      pass 2 only, from the last pass 1 (reports/mutation/pass1.json)
 *   --confirm-timeouts  also re-run pass 1's time-outs with every test (a time-out under load is no proof)
 *   --pass1-tests <a,b> pass 1 with these test files only (Stryker's --testFiles): quicker where the
 *                       related files load slowly; pass 2 still runs every related test
 *   --confirm-first <a,b> pass 2 in two tiers: first against these test files only (fast, targeted ones),
 *                       then whatever they did not kill against every related test. A kill by any test
 *                       is a real kill, so the final statuses are those of a plain pass 2; only the time
 *                       differs (a static mutant's run of the whole related set is what costs). The first
 *                       tier's report is kept as reports/mutation/confirm-first.json. Do not narrow pass 2
 *                       with Stryker's --testFiles: with it Stryker activates a static mutant only after
 *                       its module has loaded, so static mutants "survive" whatever the tests check.
 */
import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { matchesGlob, resolve } from "node:path";

interface Position {
  line: number;
  column: number;
}
interface Mutant {
  mutatorName: string;
  killedBy?: string[];
  replacement?: string;
  status: string;
  location: { start: Position; end: Position };
}
interface Report {
  files: Record<string, { source: string; mutants: Mutant[] }>;
  testFiles?: Record<string, { tests: { id: string; name: string }[] }>;
  [key: string]: unknown;
}

const OWN = new Set(["--no-confirm", "--confirm-only", "--confirm-timeouts"]);
/** This script's options that take a value (the next argument). */
const OWN_VALUED = new Set(["--pass1-tests", "--confirm-first"]);
const argv = process.argv.slice(2);
const own = new Set(argv.filter((a) => OWN.has(a)));
const valueOf = (option: string): string | null => {
  const at = argv.indexOf(option);
  return at >= 0 ? (argv[at + 1] ?? "") : null;
};
const pass1Files = valueOf("--pass1-tests");
const pass1Tests = pass1Files === null ? [] : ["--testFiles", pass1Files];
const firstTierFiles = valueOf("--confirm-first");
const strykerArgs = argv.filter((a, i) => !OWN.has(a) && !OWN_VALUED.has(a) && !OWN_VALUED.has(argv[i - 1] ?? ""));

const REPORT = "reports/mutation/mutation.json";
const PASS1 = "reports/mutation/pass1.json";
const CONFIRM = "reports/stryker-confirm.json";
const FIRST_TIER = "reports/mutation/confirm-first.json";
/**
 * What pass 1 settles: a test failed (Killed), or the mutant does not compile. Pass 1 ignores the
 * mutants only the loading of a module or a beforeAll reaches ("static"): pass 2 runs those.
 */
const PROVEN = new Set(["Killed", "CompileError", "RuntimeError"]);
if (!own.has("--confirm-timeouts")) PROVEN.add("Timeout");

function stryker(extra: string[], env: NodeJS.ProcessEnv = process.env): void {
  const bin = resolve("node_modules/.bin/stryker");
  const run = spawnSync(bin, ["run", ...strykerArgs, ...extra], { stdio: "inherit", env });
  if (run.status !== 0) {
    process.stderr.write(`stryker exited with ${run.status ?? run.signal}\n`);
    process.exit(1);
  }
}

/** The --mutate patterns of this run (the command line's, else the config's). */
function mutatePatterns(): string[] {
  const given: string[] = [];
  strykerArgs.forEach((a, i) => {
    if (a === "--mutate" || a === "-m") given.push(...(strykerArgs[i + 1] ?? "").split(","));
    else if (a.startsWith("--mutate=")) given.push(...a.slice("--mutate=".length).split(","));
  });
  if (given.length > 0) return given;
  const config = JSON.parse(readFileSync("stryker.config.json", "utf8")) as { mutate: string[] };
  return config.mutate;
}

/** Stryker's `path:line[:column]-line[:column]` range, in the report's terms (lines and columns from 1). */
interface Scope {
  glob: string;
  negated: boolean;
  range: { start: Position; end: Position } | null;
}

function scopeOf(pattern: string): Scope {
  const negated = pattern.startsWith("!");
  const body = negated ? pattern.slice(1) : pattern;
  const m = /^(.*?):(\d+)(?::(\d+))?-(\d+)(?::(\d+))?$/.exec(body);
  if (!m) return { glob: body, negated, range: null };
  // A column given to Stryker counts from 0; the report's count from 1.
  const range = {
    start: { line: Number(m[2]), column: m[3] === undefined ? 0 : Number(m[3]) + 1 },
    end: { line: Number(m[4]), column: m[5] === undefined ? Number.MAX_SAFE_INTEGER : Number(m[5]) + 1 },
  };
  return { glob: m[1] ?? "", negated, range };
}

const before = (a: Position, b: Position): boolean => a.line < b.line || (a.line === b.line && a.column <= b.column);

function inScope(scopes: Scope[], file: string, mutant: Mutant): boolean {
  const within = (s: Scope) =>
    matchesGlob(file, s.glob) &&
    (s.range === null || (before(s.range.start, mutant.location.start) && before(mutant.location.end, s.range.end)));
  return scopes.some((s) => !s.negated && within(s)) && !scopes.some((s) => s.negated && within(s));
}

const readReport = (path: string): Report => JSON.parse(readFileSync(path, "utf8")) as Report;

/** Pass 1's report less the mutants of this run's scope it did not prove: pass 2's incremental file. */
function confirmInput(pass1: Report, scopes: Scope[]): { report: Report; toRun: number } {
  let toRun = 0;
  const files: Report["files"] = {};
  for (const [file, entry] of Object.entries(pass1.files)) {
    const mutants = entry.mutants.filter((m) => !inScope(scopes, file, m) || PROVEN.has(m.status));
    toRun += entry.mutants.length - mutants.length;
    files[file] = { ...entry, mutants };
  }
  return { report: { ...pass1, files }, toRun };
}

/** A mutant as Stryker's incremental diff knows it across reports (ids are local to one report). */
const mutantKey = (file: string, m: Mutant): string =>
  `${file}@${m.location.start.line}:${m.location.start.column}-${m.location.end.line}:${m.location.end.column}` +
  `/${m.mutatorName}/${m.replacement ?? ""}`;

function mapMutants(report: Report, f: (file: string, m: Mutant) => Mutant): Report {
  const files: Report["files"] = {};
  for (const [file, entry] of Object.entries(report.files))
    files[file] = { ...entry, mutants: entry.mutants.map((m) => f(file, m)) };
  return { ...report, files };
}

/**
 * The first tier's incremental file. Stryker reuses a kill only if a test that made it runs again,
 * and the first tier runs a few files, so the kills pass 1 made with the others are marked timed out
 * there (a status Stryker reuses as long as no test is added, and pass 2 adds none: all its coverage
 * is static); `restoreKills` gives them back their pass 1 status before the second tier.
 */
function firstTierInput(input: Report, scopes: Scope[]): { report: Report; marked: Map<string, Mutant> } {
  const marked = new Map<string, Mutant>();
  const report = mapMutants(input, (file, m) => {
    if (!inScope(scopes, file, m) || m.status !== "Killed") return m;
    marked.set(mutantKey(file, m), m);
    return { ...m, status: "Timeout" };
  });
  return { report, marked };
}

/** A test's id in a report by its file and name, which are the same across reports. */
function testIds(report: Report): { idToName: Map<string, string>; nameToId: Map<string, string> } {
  const idToName = new Map<string, string>();
  const nameToId = new Map<string, string>();
  for (const [file, { tests }] of Object.entries(report.testFiles ?? {}))
    for (const t of tests) {
      idToName.set(t.id, `${file}\0${t.name}`);
      nameToId.set(`${file}\0${t.name}`, t.id);
    }
  return { idToName, nameToId };
}

/** The first tier's report with pass 1's kills as pass 1 made them, their tests named in this report's ids. */
function restoreKills(firstTier: Report, pass1: Report, marked: Map<string, Mutant>): Report {
  const from = testIds(pass1).idToName;
  const to = testIds(firstTier).nameToId;
  return mapMutants(firstTier, (file, m) => {
    const original = marked.get(mutantKey(file, m));
    if (original === undefined) return m;
    const killedBy = (original.killedBy ?? []).flatMap((id) => {
      const test = to.get(from.get(id) ?? "");
      return test === undefined ? [] : [test];
    });
    // A kill whose test cannot be named here is not reused by the second tier: it runs again there.
    return { ...m, status: original.status, killedBy };
  });
}

/** The first tier's report less the mutants of this run's scope still not proven: the second tier's input. */
function secondTierInput(
  firstTier: Report,
  scopes: Scope[],
  marked: Map<string, Mutant>,
): { report: Report; toRun: number } {
  let toRun = 0;
  const files: Report["files"] = {};
  for (const [file, entry] of Object.entries(firstTier.files)) {
    const mutants = entry.mutants.filter(
      (m) => !inScope(scopes, file, m) || PROVEN.has(m.status) || marked.has(mutantKey(file, m)),
    );
    toRun += entry.mutants.length - mutants.length;
    files[file] = { ...entry, mutants };
  }
  return { report: { ...firstTier, files }, toRun };
}

interface Counts {
  mutants: number;
  killed: number;
  timeout: number;
  survived: number;
  noCoverage: number;
  /** Static mutants pass 1 leaves to pass 2. */
  ignored: number;
  invalid: number;
}

function counts(report: Report, scopes: Scope[], file: string): Counts {
  const c: Counts = { mutants: 0, killed: 0, timeout: 0, survived: 0, noCoverage: 0, ignored: 0, invalid: 0 };
  for (const m of report.files[file]?.mutants ?? []) {
    if (!inScope(scopes, file, m)) continue;
    c.mutants++;
    if (m.status === "Killed") c.killed++;
    else if (m.status === "Timeout") c.timeout++;
    else if (m.status === "Survived") c.survived++;
    else if (m.status === "NoCoverage") c.noCoverage++;
    else if (m.status === "Ignored") c.ignored++;
    else c.invalid++;
  }
  return c;
}

function score(c: Counts): string {
  const valid = c.killed + c.timeout + c.survived + c.noCoverage;
  if (valid === 0) return "n/a";
  return `${((100 * (c.killed + c.timeout)) / valid).toFixed(2)} %`;
}

const figures = (c: Counts): string =>
  `${c.killed} + ${c.timeout} t/o / ${c.survived} / ${c.noCoverage}${c.ignored > 0 ? ` (${c.ignored} static)` : ""}`;

function summary(pass1: Report, final: Report, scopes: Scope[]): void {
  const files = Object.keys(final.files).filter((f) => counts(final, scopes, f).mutants > 0);
  console.log(
    "\nfile | mutants (do not compile) | pass 1: killed + timed out / survived / no coverage | final | score pass 1 → final",
  );
  for (const file of files.sort()) {
    const p = counts(pass1, scopes, file);
    const f = counts(final, scopes, file);
    console.log(`${file} | ${f.mutants} (${f.invalid}) | ${figures(p)} | ${figures(f)} | ${score(p)} → ${score(f)}`);
  }
  console.log("\nSurvivors and mutants without coverage after pass 2:");
  for (const file of files.sort()) {
    for (const m of final.files[file]?.mutants ?? []) {
      if (!inScope(scopes, file, m) || (m.status !== "Survived" && m.status !== "NoCoverage")) continue;
      const at = `${m.location.start.line}:${m.location.start.column}`;
      console.log(`  ${m.status} ${file}:${at} ${m.mutatorName}: ${JSON.stringify(m.replacement ?? "")}`);
    }
  }
}

const scopes = mutatePatterns().map(scopeOf);
if (!own.has("--confirm-only")) {
  stryker(["--ignoreStatic", ...pass1Tests]);
  copyFileSync(REPORT, PASS1);
}
if (!existsSync(PASS1)) {
  process.stderr.write(`no pass 1 report at ${PASS1}: run npm run mutate without --confirm-only first\n`);
  process.exit(1);
}
const pass1 = readReport(PASS1);
if (own.has("--no-confirm")) {
  summary(pass1, pass1, scopes);
  process.exit(0);
}
const force = strykerArgs.indexOf("--force");
if (force >= 0) strykerArgs.splice(force, 1); // pass 2 must reuse pass 1's kills
const everyTest = { ...process.env, MUTATE_EVERY_TEST: "1" };
let { report, toRun } = confirmInput(pass1, scopes);
const firstTier = toRun > 0 && firstTierFiles !== null;
if (firstTier) {
  const { report: input, marked } = firstTierInput(report, scopes);
  writeFileSync(CONFIRM, JSON.stringify(input));
  console.log(`\nPass 2, first tier: ${toRun} mutant(s) pass 1 did not prove killed, against ${firstTierFiles}`);
  // The files go to vitest.mutate.config.ts, not to Stryker's --testFiles (see there: static mutants).
  stryker(["--incremental", "--incrementalFile", CONFIRM], { ...everyTest, MUTATE_TEST_FILES: firstTierFiles });
  const tier1 = restoreKills(readReport(REPORT), pass1, marked);
  writeFileSync(FIRST_TIER, JSON.stringify(tier1));
  const before = toRun;
  ({ report, toRun } = secondTierInput(tier1, scopes, marked));
  console.log(`\nPass 2, first tier: ${before - toRun} of ${before} proven killed`);
  if (toRun === 0) writeFileSync(REPORT, JSON.stringify(tier1));
}
if (toRun > 0) {
  writeFileSync(CONFIRM, JSON.stringify(report));
  console.log(`\nPass 2: ${toRun} mutant(s) not yet proven killed, against every related unit test`);
  stryker(["--incremental", "--incrementalFile", CONFIRM], everyTest);
} else if (!firstTier) {
  copyFileSync(PASS1, REPORT);
}
summary(pass1, readReport(REPORT), scopes);
