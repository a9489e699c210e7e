/**
 * Object keys as nats-io/jwt reads them. jwt decodes a JWT's header and claims with Go's
 * encoding/json, which files an object key under the struct field whose tag is that key or, failing
 * that, under the field whose tag equals it case-insensitively (Unicode simple folding: "ſ" reads as
 * "s", the Kelvin sign as "k"); a later key for a field overwrites an earlier one. So `{"TYP":"JWT"}`
 * is a valid header, and `{"typ":"JWT","Typ":"JWS"}` is not. Measured on 2.10.29, 2.12.15 and
 * 2.15.2 (test/integration/json-key-case.test.ts). Here each object of a parsed header or claim set
 * is given the keys the engine reads under their tag names, so every reader sees what jwt sees.
 *
 * Left open: a key written twice exactly as well as in another case (`{"typ":…,"Typ":…,"typ":…}`):
 * JSON.parse keeps the last value of the exact key at its first position, so the order Go decides
 * by is lost.
 */

/** The struct fields the engine reads, by tag, and how to read the objects inside them. */
interface Shape {
  readonly fields: ReadonlySet<string>;
  /** Field → the shape of the object it holds, of each element of its list, or of each value of its map. */
  readonly inner: readonly [string, Inner][];
}
interface Inner {
  readonly of: "object" | "list" | "map";
  readonly shape: Shape;
}

const shape = (fields: string[], inner: Record<string, Inner> = {}): Shape => ({
  fields: new Set(fields),
  inner: Object.entries(inner),
});

export const HEADER_SHAPE = shape(["typ", "alg"]);

const TIER = shape(["mem_storage", "disk_storage"]);
const LIMITS = shape(["imports", "exports", "wildcards", "mem_storage", "disk_storage", "tiered_limits"], {
  tiered_limits: { of: "map", shape: TIER },
});
const IMPORT = shape(["name", "type", "subject", "account", "token", "to", "local_subject", "share", "allow_trace"]);
const EXPORT = shape([
  "name",
  "type",
  "subject",
  "token_req",
  "account_token_position",
  "revocations",
  "response_type",
  "allow_trace",
]);
const DESTINATION = shape(["subject", "weight", "cluster"]);
/**
 * A scoped signing key: jwt's SigningKeys.UnmarshalJSON decodes the list into Go maps and looks up
 * `kind` by its exact name (any other spelling is an unknown scope, and the JWT is refused); only
 * then is the object read as a struct, so `key` is read in any case.
 */
const SCOPE = shape(["key"]);
/** The `nats` object of every claim kind the engine reads (their tags do not collide). */
const NATS = shape(
  [
    "type",
    "version",
    "signing_keys",
    "imports",
    "exports",
    "mappings",
    "limits",
    "cluster_traffic",
    "system_account",
    "strict_signing_key_usage",
    "operator_service_urls",
    "issuer_account",
    "subject",
    "kind",
  ],
  {
    imports: { of: "list", shape: IMPORT },
    exports: { of: "list", shape: EXPORT },
    limits: { of: "object", shape: LIMITS },
    // Each mapping: a subject (a map key, never renamed) and its list of destinations.
    mappings: { of: "map", shape: DESTINATION },
    signing_keys: { of: "list", shape: SCOPE },
  },
);
export const CLAIMS_SHAPE = shape(["iss", "sub", "name", "iat", "exp", "nbf", "type", "nats"], {
  nats: { of: "object", shape: NATS },
});

/**
 * A key as Go compares it with a tag (all tags are lower-case ASCII): simple case folding, where
 * besides case only "ſ" (U+017F) and the Kelvin sign (U+212A, which toLowerCase makes "k") fold
 * onto ASCII letters.
 */
const fold = (key: string): string => key.replace(/\u017f/g, "s").toLowerCase();

type Obj = Record<string, unknown>;
const isObject = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * Give `o`'s keys their tag names where jwt would (in place: `o` is freshly parsed) and do the same
 * inside. Returns `o`.
 */
export function withGoKeys(o: Obj, s: Shape): Obj {
  if (needsRenaming(o, s)) renameKeys(o, s);
  for (const [field, { of, shape: inner }] of s.inner) {
    const value = o[field];
    if (of === "object") {
      if (isObject(value)) withGoKeys(value, inner);
    } else if (of === "list") {
      if (Array.isArray(value)) eachObject(value, inner);
    }
    // A map's values: an object each (tiers), or a list of objects each (a mapping's destinations).
    else if (isObject(value))
      for (const v of Object.values(value)) {
        if (Array.isArray(v)) eachObject(v, inner);
        else if (isObject(v)) withGoKeys(v, inner);
      }
  }
  return o;
}

/**
 * Whether some key of `o` other than a tag folds onto one. Nearly every object has none: this
 * looks without making the list of keys, and folds only a key with a character that can fold onto
 * an ASCII letter (A-Z, "ſ", the Kelvin sign); any other key folds onto itself or onto something
 * with a character outside ASCII, neither of them a tag.
 */
function needsRenaming(o: Obj, s: Shape): boolean {
  for (const key in o) if (!s.fields.has(key) && mayFold(key) && s.fields.has(fold(key))) return true;
  return false;
}

function mayFold(key: string): boolean {
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
    if ((c >= 0x41 && c <= 0x5a) || c === 0x17f || c === 0x212a) return true;
  }
  return false;
}

function renameKeys(o: Obj, s: Shape): void {
  const keys = Object.keys(o);
  for (const key of keys) {
    if (s.fields.has(key) || !Object.hasOwn(o, key)) continue;
    const field = fold(key);
    if (!s.fields.has(field)) continue;
    // Every key filed under this field: the last one wins, exact or not (JSON.parse keeps keys in order).
    const under = keys.filter((k) => k === field || (!s.fields.has(k) && fold(k) === field));
    o[field] = o[under.at(-1)!];
    for (const k of under) if (k !== field) delete o[k];
  }
}

function eachObject(values: readonly unknown[], s: Shape): void {
  for (const v of values) if (isObject(v)) withGoKeys(v, s);
}
