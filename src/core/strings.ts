/**
 * Strings kept for as long as the service runs, in their cheapest form. V8 builds `a + b` and
 * template literals as trees of pieces (cons strings, 32 bytes a node) and `slice`/`trim`/`split`
 * results as views into the whole string they came from; a diagnosis message of ten pieces, or an
 * id sliced out of a message, costs several times its length for as long as it is kept.
 */

/**
 * One flat copy of `s`, the same copy for every equal string: V8 keeps a single internalized copy of
 * each property name, and the key of a one-property object is that copy. For strings kept by the
 * hundred thousand (account ids named by every import, subjects, diagnosis texts): equal ones are
 * stored once, and none holds pieces or a larger parent alive.
 *
 * The object has no prototype, so V8 keeps its properties in a dictionary. An object literal
 * (`{ [s]: 0 }`) would get a hidden class of its own per distinct key, each one a permanent branch
 * of the literal's class tree: at 100,000 accounts that was 14% of the cold evaluation's time on
 * the loading thread, and more in garbage collection.
 */
export function shared(s: string): string {
  const holder: Record<string, 0> = Object.create(null) as Record<string, 0>;
  holder[s] = 0;
  return Object.keys(holder)[0]!;
}
