/** Account filters in requests: a public key or a JWT name, or a 404 naming the field (as the check endpoint does). */
import type { AccountDirectory } from "../core/directory.js";
import { namedAccount } from "../core/result.js";
import { serviceError } from "./refusal.js";

/** The id of the named account, undefined when no filter is given; throws ServiceError(404) for an unknown one. */
export function resolveAccount(dir: AccountDirectory, keyOrName: string | undefined): string | undefined {
  if (keyOrName === undefined) return undefined;
  const named = namedAccount(dir, keyOrName);
  if (!named.ok) throw serviceError(named);
  return named.entry.id;
}
