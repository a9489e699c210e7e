/**
 * Verification while the pack streams in (src/shell/stream-verifier.ts), as production runs it: the
 * built code (from TypeScript sources the worker never starts), a worker thread that verifies each
 * full batch of account JWTs and the tokens inside them, and verdicts that the load then decodes
 * those JWTs with instead of verifying them again (withStreamed, as the service gives it to the monitor). Forged signatures in the batch — an account JWT's
 * own, and an activation token's inside a well-signed account JWT — must be rejected exactly as
 * the loading thread rejects them itself.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type * as DirectoryModule from "../../src/core/directory.js";
import type * as MonitorModule from "../../src/core/monitor.js";
import type * as StreamModule from "../../src/shell/stream-verifier.js";
import type * as ParallelModule from "../../src/shell/verify-threads.js";
import { TestOperator, activation, forgeSignature, nowSec, type TestAccount } from "../support/deployment.js";
import { distModule } from "../support/fresh-dist.js";
import { jwtDigest } from "../../src/core/jwt/decode.js";

/** One full batch (128) and a few more, which stay unsent and are verified by the load itself. */
const IMPORTERS = 131;
const BATCH = 128;
/** A genuine account in the batch whose verdict the test hands to the load as "forged". */
const TRUSTED = 5;

describe("verification while the pack streams in (built code, as in production)", () => {
  let parallel: typeof ParallelModule;
  let monitor: InstanceType<typeof MonitorModule.ImportMonitor>;
  let streamed = new Map<string, Uint8Array>();
  let batch: string[] = [];
  let forgedAccount: TestAccount;
  let forgedToken: TestAccount;
  let genuine: TestAccount;
  let forgedAccountJwt: string;

  beforeAll(async () => {
    parallel = await distModule<typeof ParallelModule>("src/shell/verify-threads.js");
    const { StreamVerifier, withStreamed } = await distModule<typeof StreamModule>("src/shell/stream-verifier.js");
    const { ImportMonitor } = await distModule<typeof MonitorModule>("src/core/monitor.js");
    const { OperatorTrust } = await distModule<typeof DirectoryModule>("src/core/directory.js");

    const op = await TestOperator.create({ signingKey: true });
    const exporter = await op.account("EXP", {
      exports: [{ name: "p", subject: "p.>", type: "stream", token_req: true }],
    });
    const importers: TestAccount[] = [];
    for (let n = 0; n < IMPORTERS; n++) {
      const imp = await op.account(`IMP${n}`);
      const token = await activation(exporter, imp.id, `p.${n}`, "stream");
      await imp.reissue({ imports: [{ name: "p", account: exporter.id, subject: `p.${n}`, type: "stream", token }] });
      importers.push(imp);
    }
    // In the first batch: a genuine account, one whose token is forged, one whose own JWT is.
    [genuine, forgedToken, forgedAccount] = importers.slice(0, 3) as [TestAccount, TestAccount, TestAccount];
    const token = forgeSignature(await activation(exporter, forgedToken.id, "p.1", "stream"));
    await forgedToken.reissue({
      imports: [{ name: "p", account: exporter.id, subject: "p.1", type: "stream", token }],
    });
    forgedAccountJwt = forgeSignature(forgedAccount.jwt);

    const jwts = new Map<string, string>([[exporter.id, exporter.jwt]]);
    for (const imp of importers) jwts.set(imp.id, imp === forgedAccount ? forgedAccountJwt : imp.jwt);

    parallel.setVerificationWorkers(1);
    const ahead = StreamVerifier.create();
    if (!ahead) throw new Error("StreamVerifier.create gave no verifier for the built code");
    for (const [id, jwt] of jwts) ahead.add(id, jwt);
    batch = [...jwts.values()].slice(0, BATCH);
    // The first batch of account JWTs comes back.
    for (let waited = 0; ahead.verified < BATCH; waited += 10) {
      if (waited > 60_000) throw new Error(`only ${ahead.verified} JWTs verified`);
      await new Promise((r) => setTimeout(r, 10));
    }
    streamed = new Map(ahead.stop());

    const trust = new OperatorTrust();
    trust.addOperator(op.jwt);
    // The load decodes the batch with the stream's verdicts and verifies the rest on this thread alone.
    // One verdict is turned to "forged" on the way: the load must take it as it is, not verify again.
    const given = new Map(streamed);
    given.set(batch[TRUSTED]!, Uint8Array.from([0, 1]));
    monitor = new ImportMonitor(trust, 7 * 24 * 3600, (loaded) => withStreamed(given, loaded, null));
    monitor.replaceAll(jwts, nowSec());
  }, 120_000);

  afterAll(() => {
    parallel?.setVerificationWorkers(0);
  });

  it("verified the first batch's account JWTs, with a verdict for each token inside them", () => {
    expect([...streamed.keys()]).toEqual(batch);
    // The forged account's own verdict is false and its token is never read; every other importer has one token.
    expect([...streamed.values()].map((v) => v.length)).toEqual(batch.map((_, i) => (i === 0 || i === 3 ? 1 : 2)));
    expect(streamed.get(batch[3]!)![0]).toBe(0);
    expect(streamed.get(batch[2]!)![2 - 1]).toBe(0); // the forged token
    expect(streamed.get(batch[1]!)).toEqual(Uint8Array.from([1, 1]));
  });

  it("rejects an account JWT whose signature is forged", () => {
    const entry = monitor.directory.get(forgedAccount.id);
    expect(entry?.digest).toBe(jwtDigest(forgedAccountJwt));
    expect(entry?.problem?.message).toMatch(/signature verification/);
  });

  it("rejects an activation token whose signature is forged, inside a well-signed account JWT", () => {
    expect(monitor.directory.get(forgedToken.id)?.problem).toEqual({
      kind: "invalid",
      message: "the activation token does not decode: claim failed V2 signature verification",
    });
    expect(monitor.keyed([forgedToken.id]).map(([, d]) => [d.cause, d.status])).toEqual([
      ["activation_invalid", "inactive"],
    ]);
  });

  it("decodes with the stream's verdict, without verifying again", () => {
    const entry = [...monitor.directory.accounts()].find((e) => e.digest === jwtDigest(batch[TRUSTED]!));
    expect(entry?.problem?.message).toMatch(/signature verification/);
  });

  it("accepts the other genuine accounts, in the batch and after it", () => {
    expect(monitor.directory.get(genuine.id)?.problem).toBeNull();
    expect(monitor.diagnoses().filter((d) => d.status === "active")).toHaveLength(IMPORTERS - 3);
    expect(new Set(monitor.diagnoses().map((d) => d.status))).toEqual(new Set(["active", "inactive"]));
  });
});
