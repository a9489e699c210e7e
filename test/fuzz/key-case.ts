/**
 * JWTs written with their keys in another case. nats-io/jwt reads a JWT with Go's encoding/json,
 * which files a key under the struct field whose tag equals it case-insensitively (Unicode simple
 * folding, so "ſ" is an "s" and the Kelvin sign a "k"): `{"SUB": …}` is a `sub`. nats.js and nsc
 * always write the tags as they are, so only a hand-made or foreign tool's JWT looks like this; the
 * server takes it, and the engine must read it as the server does (src/core/jwt/go-keys.ts).
 */
import type { KeyPair } from "@nats-io/nkeys";
import { decodeUnverified } from "../support/deployment.js";
import type { FuzzKeyCase as KeyCase } from "./model.js";

/**
 * Fields whose value is a Go map: its keys are data (a subject, an account id, a tier name), not
 * tags, and keep their case; the values inside are renamed as usual.
 */
const MAP_FIELDS = new Set(["revocations", "mappings", "tiered_limits"]);

function rename(key: string, style: KeyCase): string {
  switch (style) {
    case "upper":
      return key.toUpperCase();
    case "title":
      return key.charAt(0).toUpperCase() + key.slice(1);
    case "fold":
      return key.replaceAll("s", "\u017f").replaceAll("k", "\u212a");
  }
}

/** `value` with every struct key renamed, map keys kept (JSON values only). */
function restyle(value: unknown, style: KeyCase, isMap = false): unknown {
  if (Array.isArray(value)) return value.map((v) => restyle(v, style));
  if (typeof value !== "object" || value === null) return value;
  return Object.fromEntries(
    Object.entries(value).map(([k, v]) => [
      isMap ? k : rename(k, style),
      restyle(v, style, !isMap && MAP_FIELDS.has(k)),
    ]),
  );
}

/** The same JWT (header and claims) with its keys written in `style`, signed again by `signer`. */
export function withKeysInCase(jwt: string, style: KeyCase, signer: KeyPair): string {
  const { header, claims } = decodeUnverified(jwt);
  const part = (o: unknown) => Buffer.from(JSON.stringify(restyle(o, style))).toString("base64url");
  const signed = `${part(header)}.${part(claims)}`;
  return `${signed}.${Buffer.from(signer.sign(new TextEncoder().encode(signed))).toString("base64url")}`;
}
