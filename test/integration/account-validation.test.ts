/**
 * What jwt's Account.Validate and the server's mapping install refuse in an account JWT, measured
 * on every pinned line, against the engine's validateAccount on that line's rules (a refused push is
 * a JWT whose every import is dead; a stored one keeps its imports):
 *  - mapping weights: jwt v2.8.1 and later (2.12.15, 2.15.2) refuse a weight over 100 and a sum
 *    over 100 (per cluster, 0 read as 100); jwt v2.7.4 (2.10.29) adds them in a uint8 (a destination
 *    of a cluster as written, 0 as 0), so a sum past 255 wraps and the JWT is stored; the server then
 *    leaves the mapping out, as it installs one only if no weight is over 100 and each cluster's
 *    weights (0 read as 100) add up to at most 100;
 *  - a signing key: jwt asks nkeys whether it decodes (checksum and prefix), whatever its number
 *    of bytes, so every line to 2.15.2 stores a JWT with a signing key of 16, 31 or 33 bytes (the
 *    engine called it refused, its imports dead); nkeys v0.4.17 (2.14.10, 2.15.3) also asks for 32
 *    bytes that are not a point of small order, so those lines refuse it (the engine called it stored);
 *  - tiered JetStream limits: jwt's Validate refuses them beside an untiered JetStream limit, but
 *    its decoder clears the untiered ones first, so only a tier named "" is refused;
 *  - `cluster_traffic`: jwt v2.7.3 on (2.10.24 on) refuses anything but "", "system" and "owner",
 *    and a value that is no string (the engine did not read it, and called such a JWT stored).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAccount } from "@nats-io/jwt";
import { Prefix } from "@nats-io/nkeys";
import { Codec } from "@nats-io/nkeys/lib/codec.js";
import { parseAccount } from "../../src/core/jwt/claims.js";
import { install } from "../../src/core/mapping.js";
import { rulesFor, validateAccount } from "../../src/core/validate.js";
import { defaultAccountLimits, signClaims, TestOperator } from "../support/deployment.js";
import { fast, identityPointSigner } from "../support/fast-keys.js";
import {
  connectSystem,
  landing,
  pushAccount,
  pushWith,
  startServer,
  type RunningServer,
} from "../support/nats-server.js";
import { pinnedServers } from "../support/tools.js";

const dest = (subject: string, weight?: number, cluster?: string) => ({ subject, weight, cluster });

/** Name, the JWT's `nats` fields beyond its type and version, and which lines store it (measured). */
const VARIANTS: [string, Record<string, unknown>, Stored][] = [
  ["two destinations of 50", { mappings: { "m.a": [dest("m.b", 50), dest("m.c", 50)] } }, all(true)],
  ["one destination of 150", { mappings: { "m.a": [dest("m.b", 150)] } }, all(false)],
  ["two destinations without a weight (200)", { mappings: { "m.a": [dest("m.b"), dest("m.c")] } }, all(false)],
  [
    "three destinations without a weight (300, 44 in a uint8)",
    { mappings: { "m.a": [dest("m.b"), dest("m.c"), dest("m.d")] } },
    onlyOld(),
  ],
  [
    "destinations of 200 and 100 (44 in a uint8)",
    { mappings: { "m.a": [dest("m.b", 200), dest("m.c", 100)] } },
    onlyOld(),
  ],
  [
    "two destinations of one cluster without a weight",
    { mappings: { "m.a": [dest("m.b", 0, "c1"), dest("m.c", 0, "c1")] } },
    onlyOld(),
  ],
  [
    "two destinations of one cluster of 60",
    { mappings: { "m.a": [dest("m.b", 60, "c1"), dest("m.c", 60, "c1")] } },
    all(false),
  ],
  [
    "destinations of 60 in two clusters",
    { mappings: { "m.a": [dest("m.b", 60, "c1"), dest("m.c", 60, "c2")] } },
    all(true),
  ],
  ["a tier with storage", { limits: { tiered_limits: { R1: { disk_storage: 1024 } } } }, all(true)],
  [
    "a tier beside untiered storage",
    { limits: { disk_storage: 1024, tiered_limits: { R1: { disk_storage: 1024 } } } },
    all(true),
  ],
  [
    "a tier beside an untiered stream limit",
    { limits: { streams: 3, tiered_limits: { R1: { disk_storage: 1024 } } } },
    all(true),
  ],
  [
    "a tier beside max_bytes_required",
    { limits: { max_bytes_required: true, tiered_limits: { R1: { disk_storage: 1024 } } } },
    all(true),
  ],
  ["an empty tiered_limits beside untiered storage", { limits: { disk_storage: 1024, tiered_limits: {} } }, all(true)],
  ["a tier named blank", { limits: { tiered_limits: { "": { disk_storage: 1024 } } } }, all(false)],
  ["a signing key of 32 bytes", { signing_keys: [accountKeyOf(32)] }, all(true)],
  ["a user scope's key of 16 bytes", { signing_keys: [{ kind: "user_scope", key: accountKeyOf(16) }] }, anyLength()],
  ["a signing key of small order (0)", { signing_keys: [accountKeyOf(32, 0)] }, anyLength()],
  ["a user scope's key that is no key", { signing_keys: [{ kind: "user_scope", key: "not-a-key" }] }, all(false)],
  ["a signing key of 16 bytes", { signing_keys: [accountKeyOf(16)] }, anyLength()],
  ["a signing key of 31 bytes", { signing_keys: [accountKeyOf(31)] }, anyLength()],
  ["a signing key of 33 bytes", { signing_keys: [accountKeyOf(33)] }, anyLength()],
  ["cluster_traffic owner", { cluster_traffic: "owner" }, all(true)],
  ["cluster_traffic bogus", { cluster_traffic: "bogus" }, (v) => !atLeast(v, "2.10.24")],
  ["cluster_traffic a number", { cluster_traffic: 7 }, (v) => !atLeast(v, "2.10.24")],
  [
    "a signing key of 32 bytes with a bad checksum",
    { signing_keys: [accountKeyOf(32).slice(0, -1) + "A"] },
    all(false),
  ],
];

/** An account public key of `n` raw bytes (nkeys: prefix, bytes, CRC16, base32 without padding). */
function accountKeyOf(n: number, fill = 7): string {
  return new TextDecoder().decode(Codec.encode(Prefix.Account, new Uint8Array(n).fill(fill)));
}

/** Whether a server version stores the JWT. */
type Stored = (version: string) => boolean;
const atLeast = (version: string, min: string): boolean => {
  const [a, b] = [version, min].map((v) => v.split(/[.-]/).slice(0, 3).map(Number));
  for (let i = 0; i < 3; i++) if (a![i]! !== b![i]!) return a![i]! > b![i]!;
  return true;
};
function all(stored: boolean): Stored {
  return () => stored;
}
/**
 * Stored where jwt is older than v2.8.1, which sums the weights in a uint8: 2.10.29 and 2.12.4
 * (measured), refused by 2.12.15, 2.14.10, 2.15.2 and 2.15.3.
 */
function onlyOld(): Stored {
  return (v) => !atLeast(v, "2.11.15") || (atLeast(v, "2.12.0") && !atLeast(v, "2.12.6"));
}
/**
 * Stored where nkeys is older than v0.4.17, which asks for 32 bytes not of small order: every line
 * to 2.15.2 (measured), refused by 2.14.10 and 2.15.3.
 */
function anyLength(): Stored {
  return (v) => !atLeast(v, "2.14.10") || (atLeast(v, "2.15.0") && !atLeast(v, "2.15.3"));
}

for (const { version, bin } of pinnedServers()) {
  describe.skipIf(!bin)(
    `account validation as a real nats-server v${version} does it${bin ? "" : " (not installed: skipped)"}`,
    () => {
      let op: TestOperator;
      let server: RunningServer;

      beforeAll(async () => {
        op = await TestOperator.create();
        server = await startServer(op, { bin: bin! });
      }, 60_000);

      afterAll(async () => {
        await server?.stop();
      });

      it("stores an account JWT exactly where the engine finds nothing that refuses it", async () => {
        const nc = await connectSystem(server, op);
        const stored: [string, boolean][] = [];
        const accepted: [string, boolean][] = [];
        try {
          for (const [name, nats] of VARIANTS) {
            const account = fast(createAccount());
            const limits = { ...defaultAccountLimits(), ...((nats["limits"] as object | undefined) ?? {}) };
            const jwt = await signClaims(
              { sub: account.getPublicKey(), name, nats: { type: "account", version: 2, ...nats, limits } },
              op.key,
            );
            stored.push([name, (await pushWith(nc, jwt)).ok]);
            const parsed = parseAccount(jwt);
            accepted.push([name, parsed.ok && validateAccount(parsed.claims, rulesFor(version)).other.length === 0]);
          }
        } finally {
          await nc.close();
        }
        expect(stored).toEqual(VARIANTS.map(([name, , storedBy]) => [name, storedBy(version)]));
        expect(accepted).toEqual(stored);
      });

      it("stores an importer whose token is signed by a key of small order where the engine's rules let it", async () => {
        // The identity point "signs" anything with R = identity and S = 0 as Go's ed25519 verifies:
        // nkeys before v0.4.17 hands the token to it and the token decodes (the engine refused it on
        // Node 24, whose OpenSSL refuses that signature); v0.4.17 refuses the issuer's key outright.
        const forger = identityPointSigner();
        const identity = forger.getPublicKey();
        const exporter = fast(createAccount()).getPublicKey();
        const importer = fast(createAccount()).getPublicKey();
        const token = await signClaims(
          {
            name: "q",
            sub: importer,
            iss: identity,
            nats: { subject: "q", issuer_account: exporter, kind: "service", type: "activation", version: 2 },
          },
          forger,
        );
        const jwt = await signClaims(
          {
            sub: importer,
            name: "small-order token",
            nats: {
              type: "account",
              version: 2,
              imports: [{ name: "q", type: "service", subject: "q", account: exporter, token }],
              limits: defaultAccountLimits(),
            },
          },
          op.key,
        );
        const stored = (await pushAccount(server, op, jwt)).ok;
        const parsed = parseAccount(jwt);
        if (!parsed.ok) throw new Error(parsed.error);
        const v = validateAccount(parsed.claims, rulesFor(version));
        expect({ stored, engine: v.other.length === 0 && v.imports.size === 0 }).toEqual({
          stored: !atLeast(version, "2.14.10") || (atLeast(version, "2.15.0") && !atLeast(version, "2.15.3")),
          engine: stored,
        });
      });

      it.skipIf(!onlyOld()(version))(
        "leaves out a stored mapping whose weights it cannot install, where the engine's install() refuses it",
        async () => {
          const mappings = VARIANTS.filter(
            ([, nats, storedBy]) => storedBy("2.10.29") && !storedBy("2.12.15") && "mappings" in nats,
          );
          const cases: [string, Record<string, unknown>][] = [
            ["one destination of 100", { "m.a": [dest("m.b", 100)] }],
            ...mappings.map(([name, nats]): [string, Record<string, unknown>] => [
              name,
              nats["mappings"] as object as Record<string, unknown>,
            ]),
          ];
          const seen: string[] = [];
          const want: string[] = [];
          for (const [name, m] of cases) {
            const acc = await op.account(`W${seen.length}`, { mappings: m as never });
            expect((await pushAccount(server, op, acc.jwt)).ok).toBe(true);
            const parsed = parseAccount(acc.jwt);
            if (!parsed.ok) throw new Error(parsed.error);
            const engine = install(parsed.claims.mappings[0]!, rulesFor(version).mappingFunctions);
            seen.push(`${name}: ${await landing(server, acc, "m.a")}`);
            want.push(`${name}: ${engine ? engine.destinations[0]!.subject : "left out"}`);
          }
          expect(seen).toEqual(want);
          expect(seen.slice(1).every((s) => s.endsWith("left out"))).toBe(true);
        },
      );
    },
  );
}
