/**
 * Verification while the pack streams in (src/shell/stream-verifier.ts), as production runs it: the
 * built code (from TypeScript sources the worker never starts), a worker thread that verifies each
 * full batch of account JWTs and the tokens inside them, and verdicts filed in the decode memo that
 * the load then uses instead of verifying again. Forged signatures in the batch — an account JWT's
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

/** One full batch (128) and a few more, which stay unsent and are verified by the load itself. */
const IMPORTERS = 131;
/** The first batch: the exporter (no token), 126 importers with one token each, the forged account alone (its token never read). */
const FIRST_BATCH_JWTS = 1 + 126 * 2 + 1;

describe("verification while the pack streams in (built code, as in production)", () => {
  let parallel: typeof ParallelModule;
  let monitor: InstanceType<typeof MonitorModule.ImportMonitor>;
  let filed = 0;
  let forgedAccount: TestAccount;
  let forgedToken: TestAccount;
  let genuine: TestAccount;
  let forgedAccountJwt: string;

  beforeAll(async () => {
    parallel = await distModule<typeof ParallelModule>("src/shell/verify-threads.js");
    const { StreamVerifier } = await distModule<typeof StreamModule>("src/shell/stream-verifier.js");
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
    for (const jwt of jwts.values()) ahead.add(jwt);
    // The first batch of 128 account JWTs comes back.
    for (let waited = 0; ahead.filedJwts < FIRST_BATCH_JWTS; waited += 10) {
      if (waited > 60_000) throw new Error(`only ${ahead.filedJwts} JWTs filed`);
      await new Promise((r) => setTimeout(r, 10));
    }
    filed = ahead.stop().filed;

    const trust = new OperatorTrust();
    trust.addOperator(op.jwt);
    // The load verifies the rest on this thread alone.
    monitor = new ImportMonitor(trust, 7 * 24 * 3600, () => null);
    monitor.replaceAll(jwts, nowSec());
  }, 120_000);

  afterAll(() => {
    parallel?.setVerificationWorkers(0);
  });

  it("filed the first batch's account JWTs and tokens", () => {
    expect(filed).toBe(FIRST_BATCH_JWTS);
  });

  it("rejects an account JWT whose signature is forged", () => {
    const entry = monitor.directory.get(forgedAccount.id);
    expect(entry?.token).toBe(forgedAccountJwt);
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

  it("accepts the genuine accounts, in the batch and after it", () => {
    expect(monitor.directory.get(genuine.id)?.problem).toBeNull();
    const statuses = new Set(monitor.diagnoses().map((d) => d.status));
    expect(monitor.diagnoses().filter((d) => d.status === "active")).toHaveLength(IMPORTERS - 2);
    expect(statuses).toEqual(new Set(["active", "inactive"]));
  });
});
