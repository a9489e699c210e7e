/** Replies must fit the server's max_payload: lists are shortened, and the reply says so. */

/** nats-server's default max_payload, for when the connection's own is not known. */
export const DEFAULT_MAX_PAYLOAD = 1024 * 1024;

/**
 * The reply as JSON no larger than `maxPayload`: while it is larger, every list named in `keys`
 * is cut to the same, smaller length and `truncated` is set. Counts elsewhere in the reply stay
 * the whole answer's.
 */
export function fitLists(reply: Record<string, unknown>, keys: readonly string[], maxPayload: number): string {
  let body = JSON.stringify(reply);
  const lists = keys.map((k) => [k, (reply[k] as unknown[] | undefined) ?? []] as const);
  let keep = Math.max(0, ...lists.map(([, list]) => list.length));
  while (Buffer.byteLength(body) > maxPayload && keep > 0) {
    keep = Math.floor(keep * Math.min(0.9, maxPayload / Buffer.byteLength(body)));
    body = JSON.stringify({
      ...reply,
      ...Object.fromEntries(lists.map(([k, list]) => [k, list.slice(0, keep)])),
      truncated: true,
    });
  }
  return body;
}

/** The paging fields of a request (check, expiring, orphaned). */
export interface Paging {
  limit?: number;
  offset?: number;
}

/** Items on a page when the request does not say. */
export const DEFAULT_PAGE_LIMIT = 500;

/** One page of a sorted list: its items, and the reply's paging fields (total, offset, truncated). */
export function page<T>(
  all: T[],
  paging: Paging,
): { items: T[]; fields: { total: number; offset: number; truncated: boolean } } {
  const offset = paging.offset ?? 0;
  const items = all.slice(offset, offset + (paging.limit ?? DEFAULT_PAGE_LIMIT));
  return { items, fields: { total: all.length, offset, truncated: offset + items.length < all.length } };
}
