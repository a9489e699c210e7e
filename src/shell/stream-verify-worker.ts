/**
 * The worker thread of StreamVerifier: for each batch of account JWTs, the signature verdict of each
 * JWT and of the activation tokens inside it, posted back in the same order.
 */
import { workerData } from "node:worker_threads";
import { decodeUncached, type SignatureCheck } from "../core/jwt/decode.js";
import { useEd25519Verifier, verifyEd25519 } from "../core/jwt/ed25519.js";
import type { StreamBatch, StreamVerdicts, StreamVerifierInput } from "./stream-verifier.js";
import { embeddedTokens, VERDICT_FALSE, VERDICT_NONE, VERDICT_TRUE } from "./verify-threads.js";

const { verifier, port } = workerData as StreamVerifierInput;
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

port.on("message", (batch: StreamBatch) => {
  const verdicts = batch.jwts.map((jwt) => {
    const account = verdictOf(jwt);
    const out = [account.verdict];
    for (const token of account.payload ? embeddedTokens(account.payload) : []) out.push(verdictOf(token).verdict);
    return Uint8Array.from(out);
  });
  const reply: StreamVerdicts = { id: batch.id, verdicts };
  port.postMessage(reply);
});
