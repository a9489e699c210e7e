/**
 * A verification thread of ParallelVerifier: takes accounts from the end of the list, one at a
 * time, and posts the signature verdicts of each account JWT and of the activation tokens inside
 * it. It stops when it reaches an account the loading thread has already taken, or when told to.
 */
import { workerData } from "node:worker_threads";
import { useEd25519Verifier } from "../core/jwt/ed25519.js";
import {
  DONE,
  FREE,
  HEADER,
  NEXT,
  STOP,
  THEIRS,
  type VerifiedBundle,
  verifyBundle,
  type VerifierInput,
} from "./verify-threads.js";

const { jwts, verifier, shared, port } = workerData as VerifierInput;
// Where the addon does not load on this thread, node:crypto gives the same verdicts.
useEd25519Verifier(verifier);

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
