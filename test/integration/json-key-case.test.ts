/**
 * JWT keys as nats-io/jwt reads them (src/core/jwt/go-keys.ts): Go's encoding/json files a key under
 * the struct field whose tag equals it case-insensitively when none equals it exactly ("ſ" folding
 * onto "s"), and a later key for a field overwrites an earlier one. On every pinned line the server
 * stores an exporter whose header, claims, export list and export subjects are spelled so, honours
 * an import declared the same way (a message crosses), and refuses a header whose `Typ` comes after
 * its `typ`; the engine used to read the first two as undecodable or empty and the third as valid.
 * One field is read from a Go map, not a struct, and so only as written: a scoped signing key's
 * `kind` (jwt's SigningKeys.UnmarshalJSON looks it up by its exact name), so a scope written
 * `{"Kind": "user_scope", …}` makes the whole JWT refused, while its `KEY` is read (found by the
 * fuzzer's keys in another case; the engine took such a JWT as stored).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decodeJwt } from "../../src/core/jwt/decode.js";
import { parseAccount } from "../../src/core/jwt/claims.js";
import { defaultAccountLimits, signClaims, TestOperator, type TestAccount } from "../support/deployment.js";
import { streamFlows } from "../support/flow.js";
import { connectSystem, pushWith, startServer, type RunningServer } from "../support/nats-server.js";
import { pinnedServers } from "../support/tools.js";

for (const { version, bin } of pinnedServers()) {
  describe.skipIf(!bin)(
    `JWT keys in another case on a real nats-server v${version}${bin ? "" : " (not installed: skipped)"}`,
    () => {
      let op: TestOperator;
      let server: RunningServer;
      let exporter: TestAccount;
      let importer: TestAccount;
      const pushed: boolean[] = [];
      let twoTypes = "";
      let scopeKeyInCase = "";
      let scopeKindInCase = "";

      beforeAll(async () => {
        op = await TestOperator.create();
        exporter = await op.account("EXP");
        importer = await op.account("IMP");
        exporter.jwt = await signClaims(
          {
            SUB: exporter.id,
            Name: "EXP",
            NATS: {
              Type: "account",
              VERSION: 2,
              limits: defaultAccountLimits(),
              Exports: [
                { Subject: "cs.>", TYPE: "stream" },
                { "\u017fubject": "ks.>", type: "stream" },
              ],
            },
          },
          op.key,
          { TYP: "JWT", Alg: "ed25519-nkey" },
        );
        importer.jwt = await signClaims(
          {
            sub: importer.id,
            name: "IMP",
            nats: {
              type: "account",
              version: 2,
              limits: defaultAccountLimits(),
              imports: [{ Account: exporter.id, subject: "nothing", Subject: "cs.x", Type: "stream" }],
            },
          },
          op.key,
        );
        const other = await op.account("TWO");
        twoTypes = await signClaims({ sub: other.id, nats: { type: "account", version: 2 } }, op.key, {
          typ: "JWT",
          alg: "ed25519-nkey",
          Typ: "JWS",
        });
        const scoped = (kindTag: string, keyTag: string) =>
          signClaims(
            {
              sub: other.id,
              nats: {
                type: "account",
                version: 2,
                limits: defaultAccountLimits(),
                signing_keys: [{ [kindTag]: "user_scope", [keyTag]: exporter.id, role: "r", template: {} }],
              },
            },
            op.key,
          );
        scopeKeyInCase = await scoped("kind", "KEY");
        scopeKindInCase = await scoped("Kind", "key");
        server = await startServer(op, { bin: bin! });
        const nc = await connectSystem(server, op);
        try {
          for (const jwt of [exporter.jwt, importer.jwt, twoTypes, scopeKeyInCase, scopeKindInCase])
            pushed.push((await pushWith(nc, jwt)).ok);
        } finally {
          await nc.close();
        }
      }, 60_000);

      afterAll(async () => {
        await server?.stop();
      });

      it("the server stores the exporter and importer, and refuses the header whose last type is JWS", () => {
        expect(pushed.slice(0, 3)).toEqual([true, true, false]);
      });

      it("a scope's key is read in any case, its kind only as written", () => {
        expect(pushed.slice(3)).toEqual([true, false]);
      });

      it("a message crosses the import declared in other cases", async () => {
        expect(await streamFlows(server, exporter, importer, "cs.x", "cs.x", 0)).toBe(true);
      });

      it("the engine reads what the server read", () => {
        const exp = parseAccount(exporter.jwt);
        const imp = parseAccount(importer.jwt);
        if (!exp.ok || !imp.ok) throw new Error(`not decoded: ${exp.ok ? "" : exp.error} ${imp.ok ? "" : imp.error}`);
        expect([exp.claims.subject, exp.claims.name]).toEqual([exporter.id, "EXP"]);
        expect(exp.claims.exports.map((e) => [e.subject, e.type])).toEqual([
          ["cs.>", "stream"],
          ["ks.>", "stream"],
        ]);
        expect(imp.claims.imports.map((i) => [i.account, i.subject, i.type])).toEqual([
          [exporter.id, "cs.x", "stream"],
        ]);
        expect(decodeJwt(twoTypes)).toEqual({ ok: false, error: 'not supported type "JWS"' });
        const keyInCase = parseAccount(scopeKeyInCase);
        expect(keyInCase.ok ? keyInCase.claims.signingKeys.get(exporter.id) : keyInCase.error).toBe("scoped");
        expect(parseAccount(scopeKindInCase).ok).toBe(false);
      });
    },
  );
}
