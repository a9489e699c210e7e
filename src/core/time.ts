/** Instants as the API and the messages show them. */

/** Unix seconds as an ISO-8601 UTC time, as replies, events and messages carry it. */
export function iso(unixSeconds: number): string {
  return new Date(unixSeconds * 1000).toISOString();
}
