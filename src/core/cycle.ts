/**
 * Import cycles, as nats-server refuses them (ErrImportFormsCycle, server/accounts.go:
 * checkServiceImportsForCycles and checkStreamImportsForCycles, the same in every supported line).
 * Before it adds an import from E, the server walks E's imports already added whose subjects
 * collide with the new import's and follows them account by account; reaching an account already
 * on the way is a cycle, and the import is refused. Which import of a cycle is refused depends on
 * the order the accounts are loaded in: the one added last. The engine cannot know that order, so
 * it reports every import on a cycle; the servers' own view says which one each refuses.
 */
import { installedImports, type AccountDirectory, type AccountEntry } from "./directory.js";
import type { ImportClaim } from "./jwt/claims.js";
import { isSubsetMatch, subjectsCollide } from "./subject.js";

export interface CycleStep {
  account: AccountEntry;
  imp: ImportClaim;
}

/** The server's (from, to) of a declared import (updateAccountClaimsWithRefresh). */
export function serverSubjects(imp: ImportClaim): { from: string; to: string } {
  if (imp.type === "service") {
    if (imp.localSubject) return { from: imp.localSubject, to: imp.subject };
    return { from: imp.subject, to: imp.to ?? imp.subject };
  }
  if (imp.localSubject) return { from: imp.subject, to: imp.localSubject };
  // The deprecated stream `to` is a prefix.
  return { from: imp.subject, to: imp.to ? `${imp.to.replace(/\.$/, "")}.${imp.subject}` : imp.subject };
}

/** nats-server's MaxAccountCycleSearchDepth: the walk refuses the import once it holds this many accounts. */
export const MAX_CYCLE_SEARCH_DEPTH = 1024;

/**
 * What the server's walk before adding an import ends on, with the imports it followed (this one first):
 * - `cycle`: an import leads back into the importer (ErrImportFormsCycle; which import of the cycle
 *   a server refuses depends on its load order);
 * - `rejoin`: an import leads into an account the walk already went on from by another way, with no
 *   way back to the importer (a diamond of imports); the server reports a cycle all the same
 *   (ErrImportFormsCycle) and refuses the import on every load order;
 * - `depth`: the walk holds MAX_CYCLE_SEARCH_DEPTH accounts (ErrCycleSearchDepth): refused.
 */
export interface CycleFinding {
  kind: "cycle" | "rejoin" | "depth";
  steps: CycleStep[];
}

type Added = (account: AccountEntry, imp: ImportClaim) => boolean;

/**
 * What the server's walk finds before adding `imp`, or null. `approved(account, imp)` says whether
 * the server would have added another import if no walk refused it (every other check passes).
 * The server has walked each of those imports before adding it too: one its own walk refused
 * (`rejoin`, `depth`) is not there to follow, whatever order the accounts were loaded in, since
 * loading an account loads the accounts it imports from first. An import on a cycle stays
 * followed (which one of the cycle is missing is the load order's choice, see walk()).
 */
export function cycleOf(
  dir: AccountDirectory,
  importer: AccountEntry,
  imp: ImportClaim,
  approved: Added,
): CycleFinding | null {
  const found = search(dir, importer, imp, approved);
  // Refusals further on only take imports away, so a walk that finds nothing stays so.
  if (!found) return null;
  const approvals = new Map<ImportClaim, boolean>();
  const approvedOnce: Added = (account, other) => {
    let yes = approvals.get(other);
    if (yes === undefined) approvals.set(other, (yes = approved(account, other)));
    return yes;
  };
  const settled = new Map<ImportClaim, boolean>();
  const refusedByWalk = (account: AccountEntry, other: ImportClaim): boolean => {
    const known = settled.get(other);
    if (known !== undefined) return known;
    settled.set(other, false); // an import of a cycle met again on the way: followed, as said above
    const refused = search(dir, account, other, approvedOnce) !== null && isRefusal(search(dir, account, other, added));
    settled.set(other, refused);
    return refused;
  };
  const added: Added = (account, other) => approvedOnce(account, other) && !refusedByWalk(account, other);
  return search(dir, importer, imp, added);
}

function isRefusal(found: CycleFinding | null): boolean {
  return found !== null && found.kind !== "cycle";
}

function search(dir: AccountDirectory, importer: AccountEntry, imp: ImportClaim, added: Added): CycleFinding | null {
  const source = dir.get(imp.account);
  if (!source) return null;
  const { from, to } = serverSubjects(imp);
  const start = () => [{ account: importer, imp }];
  if (imp.type === "service") return walk(dir, source, from, new Set([importer.id]), start(), "service", added);
  // A stream import is checked on its local subject, then on the source's.
  return (
    walk(dir, source, to, new Set([importer.id]), start(), "stream", added) ??
    walk(dir, source, from, new Set([importer.id]), start(), "stream", added)
  );
}

/**
 * The server's walk: `visited` holds the importer and every account it went on from (never
 * emptied, as the server's map), and it gives up once that holds MAX_CYCLE_SEARCH_DEPTH accounts.
 */
function walk(
  dir: AccountDirectory,
  account: AccountEntry,
  subject: string,
  visited: Set<string>,
  path: CycleStep[],
  kind: "service" | "stream",
  added: Added,
): CycleFinding | null {
  if (visited.size >= MAX_CYCLE_SEARCH_DEPTH) return { kind: "depth", steps: [...path] };
  // A stream is only followed through an account that exports it.
  if (
    kind === "stream" &&
    !(dir.exportsOf(account.id)?.all ?? []).some((e) => e.type !== "service" && isSubsetMatch(subject, e.subject))
  )
    return null;
  const keepsNarrowing = dir.trust.rules.cycleWalkKeepsNarrowing;
  for (const other of installedImports(account)) {
    if ((other.type === "service") !== (kind === "service")) continue;
    // The subject a request or message reaches the other account on: its import's `to`.
    const { from, to } = serverSubjects(other);
    if (!subjectsCollide(subject, to) || !added(account, other)) continue;
    // `path` is shared down the walk (one array, not a copy per step): copied only into a finding.
    path.push({ account, imp: other });
    // The walk goes on with the import's own subject on this side where that is narrower.
    const own = kind === "service" ? from : to;
    const narrowed = isSubsetMatch(own, subject) ? own : subject;
    const found = follow(dir, other, narrowed, visited, path, kind, added);
    path.pop();
    if (found) return found;
    // Servers before 2.12.6 go on with the narrowed subject through this account's next imports too.
    if (keepsNarrowing) subject = narrowed;
  }
  return null;
}

/** The walk on through `other`, the last import of `path`. */
function follow(
  dir: AccountDirectory,
  other: ImportClaim,
  narrowed: string,
  visited: Set<string>,
  path: CycleStep[],
  kind: "service" | "stream",
  added: Added,
): CycleFinding | null {
  if (other.account === path[0]!.account.id) return { kind: "cycle", steps: [...path] };
  if (visited.has(other.account)) {
    // Back into an account on the way, but not to the importer: a cycle the import only leads into.
    // The server has refused one import of that cycle already (whichever it added last), so this
    // walk does not get round it, and the import is added.
    if (path.some((s) => s.account.id === other.account)) return null;
    // Into an account an earlier way went on from: the server calls that a cycle too.
    return { kind: "rejoin", steps: [...path] };
  }
  const next = dir.get(other.account);
  if (!next) return null;
  visited.add(path.at(-1)!.account.id); // the account `other` belongs to
  return walk(dir, next, narrowed, visited, path, kind, added);
}
