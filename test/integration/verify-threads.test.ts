/**
 * The verification threads as production runs them: the built code (dist, rebuilt before the run
 * by test/support/fresh-dist.ts; from TypeScript sources the threads never start), a cold load of
 * more than MIN_ACCOUNTS accounts through ImportMonitor.replaceAll, and worker threads that
 * verify the last accounts of the load. Forged signatures placed there — an account JWT's own,
 * and an activation token's inside a well-signed account JWT — must be rejected through the
 * threads' verdicts exactly as the loading thread would reject them itself.
 *
 * Which side verifies an account is a race, so the test removes it: the loading thread is held
 * at its first account until the threads have finished the accounts at the end (waiting for that
 * condition, never for time).
 */
import { createRequire } from "node:module";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type * as DirectoryModule from "../../src/core/directory.js";
import type * as Ed25519Module from "../../src/core/jwt/ed25519.js";
import type * as ParallelModule from "../../src/shell/verify-threads.js";
import type * as MonitorModule from "../../src/core/monitor.js";
import { TestOperator, activation, forgeSignature, nowSec, type TestAccount } from "../support/deployment.js";
import { distModule } from "../support/fresh-dist.js";
import { jwtDigest } from "../../src/core/jwt/decode.js";

const IMPORTERS = 70;
/** The accounts at the end of the load, which the threads are made to verify. */
const TAIL = 3;

describe.each(["sodium-native", "node:crypto"] as const)(
  "signature verification with %s on worker threads (built code, as in production)",
  (verifier) => {
    let parallel: typeof ParallelModule;
    let monitor: InstanceType<typeof MonitorModule.ImportMonitor>;
    let share: { accounts: number; byWorkers: number; workers: number } | undefined;
    let forgedAccount: TestAccount;
    let forgedToken: TestAccount;
    let genuine: TestAccount;
    let forgedAccountJwt: string;

    beforeAll(async () => {
      parallel = await distModule<typeof ParallelModule>("src/shell/verify-threads.js");
      const ed25519 = await distModule<typeof Ed25519Module>("src/core/jwt/ed25519.js");
      // The threads are told the loading thread's verifier (node:crypto where sodium-native is not installed).
      expect(ed25519.useEd25519Verifier(verifier)).toBe(sodiumInstalled() ? verifier : "node:crypto");
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
      // The tail, in load order: a genuine account, one whose token is forged, one whose own JWT is.
      [genuine, forgedToken, forgedAccount] = importers.slice(-TAIL) as [TestAccount, TestAccount, TestAccount];
      const n = IMPORTERS - 2;
      const token = forgeSignature(await activation(exporter, forgedToken.id, `p.${n}`, "stream"));
      await forgedToken.reissue({
        imports: [{ name: "p", account: exporter.id, subject: `p.${n}`, type: "stream", token }],
      });
      forgedAccountJwt = forgeSignature(forgedAccount.jwt);

      const jwts = new Map<string, string>([[exporter.id, exporter.jwt]]);
      for (const imp of importers) jwts.set(imp.id, imp === forgedAccount ? forgedAccountJwt : imp.jwt);
      expect(jwts.size).toBeGreaterThan(parallel.MIN_ACCOUNTS);

      const trust = new OperatorTrust();
      trust.addOperator(op.jwt);
      parallel.setVerificationWorkers(2);
      monitor = new ImportMonitor(
        trust,
        7 * 24 * 3600,
        startHoldingLoadingThreadUntilTailVerified(parallel, jwts.size, (s) => (share = s)),
      );
      monitor.replaceAll(jwts, nowSec());
    }, 120_000);

    afterAll(() => {
      parallel?.setVerificationWorkers(0);
    });

    it("runs the threads, and they verified the accounts at the end of the load", () => {
      expect(share).toBeDefined();
      expect(share!.workers).toBe(2);
      expect(share!.byWorkers).toBeGreaterThanOrEqual(TAIL);
    });

    it("rejects an account JWT whose signature is forged", () => {
      const entry = monitor.directory.get(forgedAccount.id);
      expect(entry?.digest).toBe(jwtDigest(forgedAccountJwt));
      expect(entry?.problem?.message).toMatch(/signature verification/);
      expect(monitor.keyed([forgedAccount.id]).map(([, d]) => d.cause)).not.toContain(null);
    });

    it("rejects an activation token whose signature is forged, inside a well-signed account JWT", () => {
      // A bad token rejects the whole account JWT, as the server's validation does.
      expect(monitor.directory.get(forgedToken.id)?.problem).toEqual({
        kind: "invalid",
        message: "the activation token does not decode: claim failed V2 signature verification",
      });
      const causes = monitor.keyed([forgedToken.id]).map(([, d]) => [d.cause, d.status]);
      expect(causes).toEqual([["activation_invalid", "inactive"]]);
    });

    it("accepts the genuine account verified beside them", () => {
      expect(monitor.directory.get(genuine.id)?.problem).toBeNull();
      expect(monitor.keyed([genuine.id]).map(([, d]) => [d.cause, d.status])).toEqual([[null, "active"]]);
    });
  },
);

/**
 * ParallelVerifier.start, as the monitor is given it: the verifier it returns holds the loading
 * thread at its first account until the threads have marked the last TAIL accounts done, then
 * reports how the work was shared when the load ends.
 */
function startHoldingLoadingThreadUntilTailVerified(
  parallel: typeof ParallelModule,
  accounts: number,
  report: (share: { accounts: number; byWorkers: number; workers: number }) => void,
): (jwts: readonly string[]) => ReturnType<typeof ParallelModule.ParallelVerifier.start> {
  return (jwts) => {
    const verifier = parallel.ParallelVerifier.start(jwts);
    if (!verifier) throw new Error("ParallelVerifier.start did not start threads for a load of the built code");
    const shared = (verifier as unknown as { shared: Int32Array }).shared;
    const settle = verifier.settle.bind(verifier);
    const stop = verifier.stop.bind(verifier);
    let held = false;
    verifier.settle = (i) => {
      if (!held) {
        held = true;
        for (let k = accounts - TAIL; k < accounts; k++) waitUntilDone(shared, parallel.HEADER + k, parallel.DONE);
      }
      settle(i);
    };
    verifier.stop = () => {
      report(verifier.share);
      stop();
    };
    return verifier;
  };
}

function sodiumInstalled(): boolean {
  try {
    createRequire(import.meta.url).resolve("sodium-native");
    return true;
  } catch {
    return false;
  }
}

/** Blocks this thread until the shared state at `at` is `done` (a thread finished that account). */
function waitUntilDone(shared: Int32Array, at: number, done: number): void {
  const deadline = Date.now() + 60_000;
  for (let state = Atomics.load(shared, at); state !== done; state = Atomics.load(shared, at)) {
    if (Date.now() > deadline) throw new Error(`no verification thread finished account slot ${at} (state ${state})`);
    Atomics.wait(shared, at, state, 100);
  }
}
