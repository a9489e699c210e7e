/**
 * A verification thread, in one of two modes (verify-threads.ts):
 *  - "bundles" (ParallelVerifier): takes accounts from the end of the list, one at a time, and
 *    posts the signature verdicts of each account JWT and of the activation tokens inside it. It
 *    stops when it reaches an account the loading thread has already taken, or when told to.
 *  - "checks" (DeferringVerifier): verifies each batch of signature checks the loading thread
 *    posts, unless that thread has taken the batch back, and posts the verdicts.
 */
import { workerData } from "node:worker_threads";
import { useEd25519Verifier } from "../core/jwt/ed25519.js";
import {
  type CheckBatch,
  type CheckVerdicts,
  type DeferredInput,
  DONE,
  FREE,
  HEADER,
  NEXT,
  STOP,
  THEIRS,
  type VerifiedBundle,
  verifyBundle,
  verifyChecks,
  type VerifierInput,
} from "./verify-threads.js";

const input = workerData as VerifierInput | DeferredInput;
// Where the addon does not load on this thread, node:crypto gives the same verdicts.
useEd25519Verifier(input.verifier);

if (input.mode === "checks") verifyPostedChecks(input);
else verifyBundlesFromTheEnd(input);

function verifyBundlesFromTheEnd({ jwts, shared, port }: VerifierInput): void {
  for (;;) {
    if (Atomics.load(shared, STOP) !== 0) break;
    const i = Atomics.sub(shared, NEXT, 1) - 1;
    if (i < 0) break;
    // The loading thread has come this far: everything before is its own.
    if (Atomics.compareExchange(shared, HEADER + i, FREE, THEIRS) !== FREE) break;
    const bundle: VerifiedBundle = { i, verdicts: verifyBundle(jwts[i]!) };
    port.postMessage(bundle);
    Atomics.store(shared, HEADER + i, DONE);
    Atomics.notify(shared, HEADER + i);
  }
  port.close();
}

function verifyPostedChecks({ shared, port }: DeferredInput): void {
  port.on("message", (batch: CheckBatch) => {
    if (Atomics.load(shared, STOP) !== 0) return;
    // The loading thread took this batch back (it verifies what is left at the end itself).
    if (Atomics.compareExchange(shared, HEADER + batch.b, FREE, THEIRS) !== FREE) return;
    const reply: CheckVerdicts = { b: batch.b, verdicts: verifyChecks(batch) };
    port.postMessage(reply);
    Atomics.store(shared, HEADER + batch.b, DONE);
    Atomics.notify(shared, HEADER + batch.b);
  });
}
