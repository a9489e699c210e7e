/**
 * A full garbage collection on demand. The first load of a large deployment leaves several times
 * the live heap behind as garbage (every JWT string of the resolver's pack, parsed claim sets,
 * intermediate diagnoses: at 10,000 accounts 457 MB used for 175 MB live). V8 collects it only
 * when the old generation reaches its limit or its memory reducer decides the process is idle,
 * which a service answering requests and timers may never look like; until then the garbage is
 * resident memory. One collection right after the load returns it.
 *
 * A plain full collection frees the garbage for reuse but keeps the pages it lived on: the heap
 * stays the size of the load's peak. A compacting one (V8's "last resort": all the garbage, every
 * page compacted, what is empty given back) returns them, at about three times the pause
 * (measured at 10,000 accounts, core state only, Node 24: heap committed 297 MB after a plain
 * collection, 105 MB after a compacting one, 2.5 s against 0.8 s on the loaded machine). Node 22
 * and later take the option; Node 20 ignores it (a plain collection).
 */
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";

/**
 * After the first load, how far (per cent of the live heap after a full collection) the old
 * generation may grow before the next full collection (V8's --heap-growing-percent; 0 is V8's own
 * choice). V8 otherwise picks up to 4x from how fast it collects against how fast the program
 * allocates: at 100,000 accounts the start-up's events took the heap from ~700 MB live to
 * ~1.4 GB before a collection (the RSS peak), and after the compacting collection of the start-up
 * the memory reducer left the limit only ~60 MB above the live heap, which the pushes filled in
 * ~150 pushes: a full collection of that heap among them (docs/decisions.md 41).
 */
const HEAP_GROWTH_PERCENT = 25;

/**
 * During the first load (from its pack on, until it is read and applied): how far the old
 * generation may grow between full collections. V8's own choice there was up to ~2.5x the live
 * heap, and the load's garbage filled it: at 100,000 accounts the heap reached ~1.26 GB used for
 * ~0.6 GB live after it, the RSS peak of the whole run (docs/decisions.md 41). Bounded at 50 %, it
 * stayed under ~0.85 GB; the collections it adds come while the heap is small or the pack is
 * streaming.
 */
export const LOAD_HEAP_GROWTH_PERCENT = 50;

type Gc = (options?: { type: "major"; execution: "sync"; flavor?: "regular" | "last-resort" }) => void;
let gc: Gc | null | undefined;

/**
 * Collect all garbage now (blocks this thread for the collection); a no-op where V8 refuses to
 * expose gc. `compact`: also give the emptied pages back (a longer pause; off the start-up's path).
 */
export function collectGarbage(compact = false): void {
  if (gc === undefined) gc = exposedGc();
  // No argument at all for a plain one: V8 reads any argument, undefined too, as options.
  if (compact) gc?.({ type: "major", execution: "sync", flavor: "last-resort" });
  else gc?.();
}

function exposedGc(): Gc | null {
  const existing = (globalThis as { gc?: Gc }).gc;
  if (typeof existing === "function") return existing;
  try {
    // The flag takes effect for contexts created after it: a new one carries `gc`.
    setFlagsFromString("--expose-gc");
    const fn: unknown = runInNewContext("gc");
    return typeof fn === "function" ? (fn as Gc) : null;
  } catch {
    return null;
  }
}

/**
 * From now on the old generation grows by at most `percent` of the live heap between full
 * collections (HEAP_GROWTH_PERCENT; 0 gives V8 its own choice back). Called with
 * LOAD_HEAP_GROWTH_PERCENT as the first load starts and with HEAP_GROWTH_PERCENT once it is read and
 * applied: 25 % through the load meant a full collection of a growing heap every few seconds (a
 * 100,000-account start-up 211 → 320 s on the loaded machine, when the load also kept every JWT's
 * text to its end). V8 reads the flag at each full collection; flags it cannot take are ignored.
 * A --heap-growing-percent given to node (its arguments or NODE_OPTIONS) is the operator's and stays.
 */
export function limitHeapGrowth(percent: number = HEAP_GROWTH_PERCENT): void {
  if (operatorSetsHeapGrowth()) return;
  try {
    setFlagsFromString(`--heap-growing-percent=${Math.max(0, Math.floor(percent))}`);
  } catch {
    /* a runtime without the flag: V8's own growth */
  }
}

function operatorSetsHeapGrowth(): boolean {
  const given = [...process.execArgv, ...(process.env["NODE_OPTIONS"] ?? "").split(/\s+/)];
  return given.some((a) => /^--heap[-_]growing[-_]percent\b/.test(a));
}
