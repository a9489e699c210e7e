/** Account filters in requests: a public key or a JWT name, or a 404 naming the field (as the check endpoint does). */
import { ServiceError } from "@nats-io/services";
import type { AccountDirectory } from "../core/directory.js";

/** The id of the named account, undefined when no filter is given; throws ServiceError(404) for an unknown one. */
export function resolveAccount(dir: AccountDirectory, keyOrName: string | undefined): string | undefined {
  if (keyOrName === undefined) return undefined;
  const entry = dir.resolve(keyOrName);
  if (!entry) throw new ServiceError(404, `account: no account "${keyOrName}" is known (give a public key or a JWT name)`);
  return entry.id;
}
