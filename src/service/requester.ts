/**
 * Who asked. The endpoints listen in the system account; an ordinary account reaches them only
 * through a service import the system account exports (tenant self-service, README). On such a
 * request nats-server sets the `Nats-Request-Info` header to the requesting client's info, whose
 * `acc` is the requesting account: it removes the `Nats-Request-Info` the client sent before it
 * sets its own (`processServiceImport`, on every supported line; leaf connections too, where the
 * import leads into the system account), so an account cannot claim to be another. 2.10 removes
 * only the first of several: a second forged one arrives beside the server's, so more than one is
 * no proof (`test/integration/tenant.test.ts` sends forged ones on each line). Only the exact
 * header name is read, which is how the server writes it.
 *
 * A request without the header was published in the system account itself: only a system user can
 * do that, and it may see everything. A system user who sends the header gets that account's view,
 * never more. A header that does not name an account is not proof of anything: such a request gets
 * nothing (403).
 */
import { isPublicKey } from "../core/jwt/nkey.js";

export const REQUEST_INFO_HEADER = "Nats-Request-Info";
/** The server's client info is small; a larger header is not the server's. */
const MAX_REQUEST_INFO_BYTES = 16 * 1024;

export type Requester =
  { kind: "system" } | { kind: "account"; account: string } | { kind: "unproven"; reason: string };

/** The requester from the values of the request's `Nats-Request-Info` header (none: absent). */
export function requesterOf(requestInfo: readonly string[] | undefined): Requester {
  if (!requestInfo || requestInfo.length === 0) return { kind: "system" };
  if (requestInfo.length > 1)
    return { kind: "unproven", reason: `${REQUEST_INFO_HEADER} appears ${requestInfo.length} times` };
  const text = requestInfo[0]!;
  if (text.length > MAX_REQUEST_INFO_BYTES) return { kind: "unproven", reason: `${REQUEST_INFO_HEADER} is too long` };
  let info: unknown;
  try {
    info = JSON.parse(text);
  } catch {
    return { kind: "unproven", reason: `${REQUEST_INFO_HEADER} is not JSON` };
  }
  const account = info !== null && typeof info === "object" ? (info as Record<string, unknown>)["acc"] : undefined;
  if (typeof account !== "string" || !isPublicKey(account, "account"))
    return { kind: "unproven", reason: `${REQUEST_INFO_HEADER} names no account` };
  return { kind: "account", account };
}
