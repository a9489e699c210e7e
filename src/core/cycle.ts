/**
 * Import cycles, as nats-server refuses them (ErrImportFormsCycle, server/accounts.go:
 * checkServiceImportsForCycles and checkStreamImportsForCycles, the same in every supported line).
 * Before it adds an import from E, the server walks E's imports already added whose subjects
 * collide with the new import's and follows them account by account; reaching an account already
 * on the way is a cycle, and the import is refused. Which import of a cycle is refused depends on
 * the order the accounts are loaded in: the one added last. The engine cannot know that order, so
 * it reports every import on a cycle; the servers' own view says which one each refuses.
 */
import type { AccountDirectory, AccountEntry } from "./directory.js";
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

/**
 * The cycle an import closes, starting with the import itself, or null. `added(account, imp)`
 * says whether the server would have added another import (every check but this one passes).
 */
export function cycleOf(
  dir: AccountDirectory,
  importer: AccountEntry,
  imp: ImportClaim,
  added: (account: AccountEntry, imp: ImportClaim) => boolean,
): CycleStep[] | null {
  const source = dir.get(imp.account);
  if (!source) return null;
  const { from, to } = serverSubjects(imp);
  const start = [{ account: importer, imp }];
  if (imp.type === "service") return walk(dir, source, from, new Set([importer.id]), start, "service", added);
  // A stream import is checked on its local subject, then on the source's.
  return (
    walk(dir, source, to, new Set([importer.id]), start, "stream", added) ??
    walk(dir, source, from, new Set([importer.id]), start, "stream", added)
  );
}

function walk(
  dir: AccountDirectory,
  account: AccountEntry,
  subject: string,
  visited: Set<string>,
  path: CycleStep[],
  kind: "service" | "stream",
  added: (account: AccountEntry, imp: ImportClaim) => boolean,
): CycleStep[] | null {
  if (path.length > 1024) return null; // the server's MaxAccountCycleSearchDepth
  // A stream is only followed through an account that exports it.
  if (
    kind === "stream" &&
    !(dir.exportsOf(account.id)?.all ?? []).some((e) => e.type !== "service" && isSubsetMatch(subject, e.subject))
  )
    return null;
  for (const other of account.claims?.imports ?? []) {
    if ((other.type === "service") !== (kind === "service")) continue;
    // The subject a request or message reaches the other account on: its import's `to`.
    const { from, to } = serverSubjects(other);
    if (!subjectsCollide(subject, to) || !added(account, other)) continue;
    const step = [...path, { account, imp: other }];
    if (other.account === path[0]!.account.id) return step;
    // Back into an account on the way, but not to the importer: a cycle the import only leads into.
    // The server has refused one import of that cycle already (whichever it added last), so this
    // walk does not get round it, and the import is added.
    if (visited.has(other.account)) continue;
    const next = dir.get(other.account);
    if (!next) continue;
    visited.add(account.id);
    const narrowed =
      kind === "service" ? (isSubsetMatch(from, subject) ? from : subject) : isSubsetMatch(to, subject) ? to : subject;
    const found = walk(dir, next, narrowed, visited, step, kind, added);
    if (found) return found;
  }
  return null;
}
