/**
 * A public key with one more base32 letter decodes to the same bytes in Go's nkeys (base32 without
 * padding drops a lone last character), so jwt accepts it wherever it wants a key
 * (src/core/jwt/nkey.ts). Measured on every pinned line: an account JWT naming such a signing key,
 * and an import from such an account id, is stored; the import is not honoured (no account has that
 * 57-character name). The engine used to call the signing key invalid, so it said the server
 * refuses this JWT.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AccountDirectory, DEFAULT_EXPIRY_WARNING_SECONDS, OperatorTrust, diagnoseAll } from "../../src/core/index.js";
import { parseAccount } from "../../src/core/jwt/claims.js";
import { rulesFor, validateAccount } from "../../src/core/validate.js";
import { TestOperator, nowSec, type TestAccount } from "../support/deployment.js";
import {
  connectAs,
  connectSystem,
  lookupWith,
  pushWith,
  startServer,
  type RunningServer,
} from "../support/nats-server.js";
import { serverListsImport } from "../support/judge.js";
import { pinnedServers } from "../support/tools.js";
import { createAccount } from "@nats-io/nkeys";

for (const { version, bin } of pinnedServers()) {
  describe.skipIf(!bin)(
    `a key with one letter more on a real nats-server v${version}${bin ? "" : " (not installed: skipped)"}`,
    () => {
      let op: TestOperator;
      let exporter: TestAccount;
      let importer: TestAccount;
      let server: RunningServer;
      const pushed: boolean[] = [];

      beforeAll(async () => {
        op = await TestOperator.create({ signingKey: true });
        exporter = await op.account("LEN-EXP", { exports: [{ subject: "len.>", type: "stream" }] });
        importer = await op.account("LEN-IMP", {
          signing_keys: [`${createAccount().getPublicKey()}A`],
          imports: [{ account: `${exporter.id}A`, subject: "len.a", type: "stream" }],
        });
        server = await startServer(op, { bin: bin! });
        const nc = await connectSystem(server, op);
        try {
          for (const a of [exporter, importer]) {
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

      it("the server stores the JWT, and the engine finds nothing to refuse in it", () => {
        expect(pushed).toEqual([true, true]);
        const parsed = parseAccount(importer.jwt);
        if (!parsed.ok) throw new Error(parsed.error);
        const v = validateAccount(parsed.claims, rulesFor(version));
        expect([...v.imports.values()]).toEqual([]);
        expect(v.other).toEqual([]);
      });

      it("the import names no account the server has: not honoured, and the engine says the source is not found", async () => {
        const trust = new OperatorTrust();
        trust.addOperator(op.jwt);
        trust.rules = rulesFor(version);
        const dir = new AccountDirectory(trust);
        for (const a of [exporter, importer]) dir.upsert(a.jwt);
        const [verdict] = diagnoseAll(dir, { now: nowSec(), expiryWarningSeconds: DEFAULT_EXPIRY_WARNING_SECONDS }, [
          importer.id,
        ]);
        expect([verdict?.status, verdict?.cause]).toEqual(["inactive", "source_account_not_found"]);
        await (await connectAs(server, importer)).close();
        const declared = { account: `${exporter.id}A`, subject: "len.a", type: "stream" as const };
        expect(await serverListsImport({ ...server, operator: op }, importer, declared)).toBe(false);
      });
    },
  );
}
