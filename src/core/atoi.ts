/**
 * Go's strconv.Atoi as nats-server and the jwt library run it (64-bit platforms): an optional sign,
 * then decimal digits, and a value within int64; anything else is an error (null). Both read a
 * `$N` wildcard reference with it, and a `$` token whose number Atoi refuses is no reference but an
 * ordinary token: `$99999999999999999999` (past int64) is a literal to them (docs/decisions.md 26).
 */
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** The value, exact up to 2^53 (callers compare it with a subject's wildcard count), or null. */
export function atoi(text: string): number | null {
  if (!/^[+-]?\d+$/.test(text)) return null;
  const n = BigInt(text);
  return n < INT64_MIN || n > INT64_MAX ? null : Number(n);
}
