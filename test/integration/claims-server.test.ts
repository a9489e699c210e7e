/**
 * Two readings of account claims (src/core/jwt/claims.ts) the real nats-server decides, on every
 * pinned line:
 *  - the JWT's limits grant the account JetStream exactly when jwt's OperatorLimits.IsJSEnabled
 *    says so: memory or disk storage, or, with tiered limits, a tier with storage. A tier of streams
 *    and consumers without storage grants nothing (the engine used to count any tier, and so warned
 *    of incomplete JetStream import sets from an account without JetStream);
 *  - a signing-key entry that is neither a string nor an object is skipped by jwt: the server stores
 *    such a JWT and honours its other keys (the engine used to call the JWT undecodable).
 * JetStream is asked of the account itself: `$JS.API.INFO` from one of its users answers with the
 * account's JetStream usage only where the account has JetStream.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAccount } from "@nats-io/jwt";
import { RequestError, credsAuthenticator, type NatsConnection } from "@nats-io/nats-core";
import { connect } from "@nats-io/transport-node";
import { parseAccount } from "../../src/core/jwt/claims.js";
import { defaultAccountLimits, signClaims, type TestAccount, TestOperator } from "../support/deployment.js";
import { fast } from "../support/fast-keys.js";
import { JETSTREAM_CONFIG } from "../support/jetstream.js";
import {
  connectAs,
  connectSystem,
  lookupWith,
  pushWith,
  startServer,
  type RunningServer,
} from "../support/nats-server.js";
import { pinnedServers } from "../support/tools.js";

const MB = 1024 * 1024;
const LIMITS: [string, Record<string, unknown>][] = [
  ["no storage", {}],
  ["memory storage", { mem_storage: MB }],
  ["disk storage", { disk_storage: MB }],
  ["a tier with disk storage", { tiered_limits: { R1: { disk_storage: MB, streams: -1, consumer: -1 } } }],
  ["tiers of streams and consumers without storage", { tiered_limits: { R1: { streams: 10, consumer: 10 }, R3: {} } }],
];

/** Does the server answer the account's `$JS.API.INFO` with its JetStream usage (no error)? */
async function hasJetStream(nc: NatsConnection): Promise<boolean> {
  try {
    const reply = JSON.parse((await nc.request("$JS.API.INFO", "", { timeout: 5_000 })).string()) as {
      error?: unknown;
      type?: string;
    };
    return reply.error === undefined && reply.type === "io.nats.jetstream.api.v1.account_info_response";
  } catch (e) {
    if (e instanceof RequestError && e.isNoResponders()) return false;
    throw e;
  }
}

for (const { version, bin } of pinnedServers()) {
  describe.skipIf(!bin)(
    `account claims as a real nats-server v${version} reads them${bin ? "" : " (not installed: skipped)"}`,
    () => {
      let op: TestOperator;
      let server: RunningServer;
      const jsAccounts: [string, TestAccount][] = [];
      let skAccount: TestAccount;
      const signingKey = fast(createAccount());
      const pushed: boolean[] = [];

      beforeAll(async () => {
        op = await TestOperator.create();
        for (const [name, limits] of LIMITS) {
          jsAccounts.push([name, await op.account(`JS-${jsAccounts.length}`, { limits })]);
        }
        skAccount = await op.account("SK", {}, { signingKeys: [signingKey] });
        // The same account with junk around its signing key, signed as nsc would not write it.
        skAccount.jwt = await signClaims(
          {
            sub: skAccount.id,
            name: "SK",
            nats: {
              type: "account",
              version: 2,
              limits: defaultAccountLimits(),
              signing_keys: [null, 7, true, ["x"], signingKey.getPublicKey()],
            },
          },
          op.key,
        );
        server = await startServer(op, { bin: bin!, extraConfig: JETSTREAM_CONFIG });
        const nc = await connectSystem(server, op);
        try {
          for (const a of [...jsAccounts.map(([, a]) => a), skAccount]) {
            pushed.push((await pushWith(nc, a.jwt)).ok);
            expect(await lookupWith(nc, a.id)).toBe(a.jwt);
          }
        } finally {
          await nc.close();
        }
      }, 60_000);

      afterAll(async () => {
        await server?.stop();
      });

      it("a number Go cannot read into an int64 (a fraction, past 2^63) makes the server refuse the JWT, as the engine does", async () => {
        const exporter = fast(createAccount()).getPublicKey();
        const variants: [string, Record<string, unknown>, Record<string, unknown>][] = [
          ["whole numbers", { iat: 1700000000, exp: 4000000000 }, { limits: { imports: 2 } }],
          ["a fractional issued-at", { iat: 1700000000.5 }, {}],
          ["an expiry past int64", { exp: 1e19 }, {}],
          ["a fractional import limit", {}, { limits: { imports: 2.5 } }],
          ["a fractional memory storage", {}, { limits: { mem_storage: 1024.5 } }],
          [
            "a fractional revocation time",
            {},
            { exports: [{ subject: "r.>", type: "stream", revocations: { [exporter]: 1700000000.5 } }] },
          ],
        ];
        const nc = await connectSystem(server, op);
        const stored: [string, boolean][] = [];
        const decoded: [string, boolean][] = [];
        try {
          for (const [name, top, nats] of variants) {
            const account = fast(createAccount());
            const limits = { ...defaultAccountLimits(), ...((nats["limits"] as object | undefined) ?? {}) };
            const jwt = await signClaims(
              { sub: account.getPublicKey(), name, ...top, nats: { type: "account", version: 2, ...nats, limits } },
              op.key,
            );
            stored.push([name, (await pushWith(nc, jwt)).ok]);
            decoded.push([name, parseAccount(jwt).ok]);
          }
        } finally {
          await nc.close();
        }
        expect(stored).toEqual(variants.map(([name], i) => [name, i === 0]));
        expect(decoded).toEqual(stored);
      });

      it("the server stores every JWT", () => {
        expect(pushed).toEqual([...LIMITS.map(() => true), true]);
      });

      it("the account has JetStream exactly where the engine reads that its JWT grants it", async () => {
        const served: [string, boolean][] = [];
        const read: [string, boolean][] = [];
        for (const [name, account] of jsAccounts) {
          const nc = await connectAs(server, account);
          try {
            served.push([name, await hasJetStream(nc)]);
          } finally {
            await nc.close();
          }
          const parsed = parseAccount(account.jwt);
          if (!parsed.ok) throw new Error(parsed.error);
          read.push([name, parsed.claims.limits.jetStream]);
        }
        expect(served).toEqual([
          ["no storage", false],
          ["memory storage", true],
          ["disk storage", true],
          ["a tier with disk storage", true],
          ["tiers of streams and consumers without storage", false],
        ]);
        expect(read).toEqual(served);
      });

      it("a user of the signing key listed after the junk connects, and the engine reads that key", async () => {
        const creds = await skAccount.userCreds({ signer: signingKey });
        const nc = await connect({
          servers: server.url,
          authenticator: credsAuthenticator(new TextEncoder().encode(creds)),
          reconnect: false,
          timeout: 5_000,
        });
        await nc.flush();
        await nc.close();
        const parsed = parseAccount(skAccount.jwt);
        if (!parsed.ok) throw new Error(parsed.error);
        expect([...parsed.claims.signingKeys]).toEqual([[signingKey.getPublicKey(), "plain"]]);
      });
    },
  );
}
