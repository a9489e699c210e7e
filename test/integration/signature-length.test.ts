/**
 * A signature must be exactly 64 bytes. libsodium's verify reads the first 64 bytes of a longer
 * one, so a genuine signature with bytes after it "verifies" there; the server's Go crypto/ed25519
 * (through nkeys) refuses it. Measured on every pinned line: an account JWT whose signature chunk
 * is the genuine one plus a byte is not stored, nor is one whose import's activation token carries
 * such a signature ("contains an invalid activation token"). The engine refuses both with either verifier (src/core/jwt/ed25519.ts:
 * the length guard; a mutant without it let both through, issue 18).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AccountDirectory, DEFAULT_EXPIRY_WARNING_SECONDS, OperatorTrust, diagnoseAll } from "../../src/core/index.js";
import { decodeUncached, forgetDecoded } from "../../src/core/jwt/decode.js";
import { ed25519Verifier, useEd25519Verifier, type Ed25519Verifier } from "../../src/core/jwt/ed25519.js";
import { rulesFor } from "../../src/core/validate.js";
import { TestOperator, activation, nowSec, type TestAccount } from "../support/deployment.js";
import { connectSystem, lookupWith, pushWith, startServer, type RunningServer } from "../support/nats-server.js";
import { pinnedServers } from "../support/tools.js";

/** The JWT with one zero byte after its signature (still base64url, still three chunks). */
function longerSignature(jwt: string): string {
  const [header, claims, signature] = jwt.split(".") as [string, string, string];
  return `${header}.${claims}.${Buffer.concat([Buffer.from(signature, "base64url"), Buffer.of(0)]).toString("base64url")}`;
}

const initial = ed25519Verifier();
afterAll(() => {
  useEd25519Verifier(initial);
});

for (const { version, bin } of pinnedServers()) {
  describe.skipIf(!bin)(
    `a signature of 65 bytes on a real nats-server v${version}${bin ? "" : " (not installed: skipped)"}`,
    () => {
      let op: TestOperator;
      let exporter: TestAccount;
      let importer: TestAccount;
      let lone: TestAccount;
      let server: RunningServer;
      let lonePush: { stored: boolean; kept: string | null } | undefined;
      let importerPush: { stored: boolean; message: string; kept: string | null } | undefined;

      beforeAll(async () => {
        op = await TestOperator.create();
        exporter = await op.account("SIG-EXP", {
          exports: [{ name: "s", subject: "sig.>", type: "stream", token_req: true }],
        });
        importer = await op.account("SIG-IMP");
        const token = longerSignature(await activation(exporter, importer.id, "sig.a", "stream"));
        await importer.reissue({
          imports: [{ name: "s", account: exporter.id, subject: "sig.a", type: "stream", token }],
        });
        lone = await op.account("SIG-LONE");
        server = await startServer(op, { bin: bin! });
        const nc = await connectSystem(server, op);
        try {
          expect((await pushWith(nc, exporter.jwt)).ok).toBe(true);
          const imp = await pushWith(nc, importer.jwt);
          importerPush = { stored: imp.ok, message: imp.message, kept: await lookupWith(nc, importer.id) };
          const stored = (await pushWith(nc, longerSignature(lone.jwt))).ok;
          lonePush = { stored, kept: await lookupWith(nc, lone.id) };
        } finally {
          await nc.close();
        }
      }, 60_000);

      afterAll(async () => {
        await server?.stop();
      });

      it("the server does not store an account JWT whose signature has a byte more; the engine refuses it with either verifier", () => {
        expect(lonePush).toEqual({ stored: false, kept: null });
        for (const verifier of ["sodium-native", "node:crypto"] as Ed25519Verifier[]) {
          useEd25519Verifier(verifier);
          expect(decodeUncached(lone.jwt).ok).toBe(true);
          expect(decodeUncached(longerSignature(lone.jwt))).toEqual({
            ok: false,
            error: "claim failed V2 signature verification",
          });
        }
      });

      it("the server does not store an account JWT whose activation token's signature has a byte more; the engine calls it invalid", () => {
        expect(importerPush).toEqual({
          stored: false,
          message: 'jwt validation failed - validation errors: [import "sig.a" contains an invalid activation token]',
          kept: null,
        });
        for (const verifier of ["sodium-native", "node:crypto"] as Ed25519Verifier[]) {
          useEd25519Verifier(verifier);
          forgetDecoded(); // each verifier verifies the tokens afresh
          const trust = new OperatorTrust();
          trust.addOperator(op.jwt);
          trust.rules = rulesFor(version);
          const dir = new AccountDirectory(trust);
          for (const a of [exporter, importer]) dir.upsert(a.jwt);
          expect(dir.get(importer.id)?.problem).toEqual({
            kind: "invalid",
            message: "the activation token does not decode: claim failed V2 signature verification",
          });
          const [verdict] = diagnoseAll(dir, { now: nowSec(), expiryWarningSeconds: DEFAULT_EXPIRY_WARNING_SECONDS }, [
            importer.id,
          ]);
          expect([verdict?.status, verdict?.cause]).toEqual(["inactive", "activation_invalid"]);
        }
      });
    },
  );
}
