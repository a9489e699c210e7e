/**
 * A verification thread of ParallelVerifier: takes accounts from the end of the list, one at a
 * time, and posts the signature verdicts of each account JWT and of the activation tokens inside
 * it. It stops when it reaches an account the loading thread has already taken, or when told to.
 */
import { workerData } from "node:worker_threads";
import { decodeUncached, type SignatureCheck } from "../core/jwt/decode.js";
import { useEd25519Verifier, verifyEd25519 } from "../core/jwt/ed25519.js";
import {
  DONE,
  embeddedTokens,
  FREE,
  HEADER,
  NEXT,
  STOP,
  THEIRS,
  VERDICT_FALSE,
  VERDICT_NONE,
  VERDICT_TRUE,
  type VerifiedBundle,
  type VerifierInput,
} from "./verify-threads.js";

const { jwts, verifier, shared, port } = workerData as VerifierInput;
// Where the addon does not load on this thread, node:crypto gives the same verdicts.
useEd25519Verifier(verifier);

/** Decode as the loading thread will, recording what the signature check said (not memoised here). */
function verdictOf(token: string): { verdict: number; payload: Record<string, unknown> | null } {
  let verdict = VERDICT_NONE;
  const check: SignatureCheck = (issuer, raw, signed, signature) => {
    const ok = verifyEd25519(issuer, raw, Buffer.from(signed, "utf8"), signature);
    verdict = ok ? VERDICT_TRUE : VERDICT_FALSE;
    return ok;
  };
  const result = decodeUncached(token, check);
  return { verdict, payload: result.ok ? result.jwt.payload : null };
}

for (;;) {
  if (Atomics.load(shared, STOP) !== 0) break;
  const i = Atomics.sub(shared, NEXT, 1) - 1;
  if (i < 0) break;
  // The loading thread has come this far: everything before is its own.
  if (Atomics.compareExchange(shared, HEADER + i, FREE, THEIRS) !== FREE) break;
  const account = verdictOf(jwts[i]!);
  const verdicts = [account.verdict];
  for (const token of account.payload ? embeddedTokens(account.payload) : []) verdicts.push(verdictOf(token).verdict);
  const bundle: VerifiedBundle = { i, verdicts: Uint8Array.from(verdicts) };
  port.postMessage(bundle);
  Atomics.store(shared, HEADER + i, DONE);
  Atomics.notify(shared, HEADER + i);
}
port.close();
