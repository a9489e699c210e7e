/** Replies must fit the server's max_payload: lists are shortened, and the reply says so. */

/** nats-server's default max_payload, for when the connection's own is not known. */
export const DEFAULT_MAX_PAYLOAD = 1024 * 1024;

/**
 * The reply as JSON no larger than `maxPayload`: while it is larger, every list named in `keys`
 * is cut to the same, smaller length and `truncated` is set. Counts elsewhere in the reply stay
 * the whole answer's.
 */
export function fitLists(reply: Record<string, unknown>, keys: string[], maxPayload: number): string {
  let body = JSON.stringify(reply);
  const lists = keys.map((k) => [k, (reply[k] as unknown[] | undefined) ?? []] as const);
  let keep = Math.max(0, ...lists.map(([, list]) => list.length));
  while (Buffer.byteLength(body) > maxPayload && keep > 0) {
    keep = Math.floor(keep * Math.min(0.9, maxPayload / Buffer.byteLength(body)));
    body = JSON.stringify({ ...reply, ...Object.fromEntries(lists.map(([k, list]) => [k, list.slice(0, keep)])), truncated: true });
  }
  return body;
}

/** One page of a sorted list, with the paging fields of the check reply. */
export function page<T>(all: T[], offset: number | undefined, limit: number | undefined, defaultLimit: number): { items: T[]; total: number; offset: number; truncated: boolean } {
  const from = offset ?? 0;
  const items = all.slice(from, from + (limit ?? defaultLimit));
  return { items, total: all.length, offset: from, truncated: from + items.length < all.length };
}
