/**
 * Deployments the server's cycle walk refuses without a cycle (src/core/cycle.ts): a chain of
 * accounts each importing colliding subjects from the next (ErrCycleSearchDepth past 1,024
 * accounts) and a diamond (two ways into one account: ErrImportFormsCycle).
 */
import type { TestAccount, TestOperator } from "./deployment.js";

/**
 * C0 … C<links>: each exports the stream `chain.>` and the service `chain.svc.>` and imports both
 * from the next one; the last imports nothing. Built from the tail, one signature per account.
 * nats-server refuses the imports of C<links − 1024> (its walk holds 1,024 accounts when it enters
 * the last one); those above it keep theirs, since their walks stop at that account.
 */
export async function importChain(op: TestOperator, links: number, tag = "chain"): Promise<TestAccount[]> {
  const exports = [
    { subject: "chain.>", type: "stream" as const },
    { subject: "chain.svc.>", type: "service" as const },
  ];
  const chain: TestAccount[] = [];
  for (let i = links; i >= 0; i--) {
    const next = chain[0];
    const imports = next
      ? [
          { account: next.id, subject: "chain.>", type: "stream" as const },
          { account: next.id, subject: "chain.svc.>", type: "service" as const },
        ]
      : [];
    chain.unshift(await op.account(`${tag}-C${i}`, { exports, imports }));
  }
  return chain;
}
