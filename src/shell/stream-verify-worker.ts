/**
 * The worker thread of StreamVerifier: for each batch of account JWTs, the signature verdict of each
 * JWT and of the activation tokens inside it, posted back in the same order.
 */
import { workerData } from "node:worker_threads";
import { useEd25519Verifier } from "../core/jwt/ed25519.js";
import type { StreamBatch, StreamVerdicts, StreamVerifierInput } from "./stream-verifier.js";
import { verifyBundle } from "./verify-threads.js";

const { verifier, port } = workerData as StreamVerifierInput;
// Where the addon does not load on this thread, node:crypto gives the same verdicts.
useEd25519Verifier(verifier);

port.on("message", (batch: StreamBatch) => {
  const verdicts = batch.jwts.map(verifyBundle);
  const reply: StreamVerdicts = { id: batch.id, verdicts };
  port.postMessage(reply);
});
