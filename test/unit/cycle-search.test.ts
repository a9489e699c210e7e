/**
 * Imports nats-server's cycle walk refuses although they close no cycle (src/core/cycle.ts), through
 * the engine alone; the same deployments on the real servers: test/integration/cycle-search.test.ts
 * and the scenario catalogue's diamonds.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { AccountDirectory, OperatorTrust, diagnoseAll, rulesFor } from "../../src/core/index.js";
import { TestOperator, nowSec, type TestAccount } from "../support/deployment.js";
import { importChain } from "../support/chain.js";

let op: TestOperator;
beforeAll(async () => {
  op = await TestOperator.create();
});

function verdicts(accounts: TestAccount[], of: TestAccount[], details?: string[], version?: string): string[] {
  const trust = new OperatorTrust();
  trust.addOperator(op.jwt);
  if (version) trust.rules = rulesFor(version);
  const dir = new AccountDirectory(trust);
  for (const a of accounts) dir.upsert(a.jwt);
  const found = diagnoseAll(
    dir,
    { now: nowSec(), expiryWarningSeconds: 86400 },
    of.map((a) => a.id),
  );
  for (const d of found) if (d.cause) details?.push(d.message);
  return found.map((d) => `${d.account_name} ${d.type} ${d.status} ${d.cause}`);
}

describe("the walk's depth (MaxAccountCycleSearchDepth, 1,024 accounts)", () => {
  it("refuses the import whose walk enters its 1,024th account, and only that one", async () => {
    // C0 … C1025: C1's walk holds C1 … C1024 and enters C1025 (1,024 accounts with C1): refused.
    // C2's enters C1025 holding 1,023: added. C0's stops at C1, whose imports are not there.
    // Y imports C2's `chain.>` under `elsewhere.>`, which C2 does not export: the walk on its local
    // subject stops at once, the one on C2's subject holds Y and C2 … C1024 entering C1025: refused
    // (measured: test/integration/cycle-search.test.ts). Z, the same from C3, holds one fewer: added.
    const chain = await importChain(op, 1025);
    const [c0, c1, c2] = chain;
    const y = await op.account("chain-Y", {
      imports: [{ account: c2!.id, subject: "chain.>", type: "stream", local_subject: "elsewhere.>" }],
    });
    const z = await op.account("chain-Z", {
      imports: [{ account: chain[3]!.id, subject: "chain.>", type: "stream", local_subject: "elsewhere.>" }],
    });
    const details: string[] = [];
    expect(verdicts([...chain, y, z], [c0!, c1!, c2!, y, z], details)).toEqual([
      "chain-C0 stream active null",
      "chain-C0 service active null",
      "chain-C1 stream inactive cycle_search_refused",
      "chain-C1 service inactive cycle_search_refused",
      "chain-C2 stream active null",
      "chain-C2 service active null",
      "chain-Y stream inactive cycle_search_refused",
      "chain-Z stream active null",
    ]);
    expect(details[0]).toContain("is refused: its walk through the imports passes 1024 accounts, so");
    // Under Stryker's instrumentation on a loaded machine this chain takes over 120 s; the limit is
    // there to catch a hang, not to time the walk.
  }, 600_000);
});

/**
 * Y imports from X, X from A; A imports from B and from C, both from D, which imports from E; all
 * of `dia.>`. A's service imports keep it under the local subjects `dib.>` and `dic.>` (servers
 * before 2.12 refuse overlapping service imports from any accounts).
 */
async function diamond(tag: string, type: "stream" | "service"): Promise<Record<string, TestAccount>> {
  const acc: Record<string, TestAccount> = {};
  for (const n of ["E", "D", "B", "C", "A", "X", "Y"]) acc[n] = await op.account(`${tag}-${n}`);
  const edges: Record<string, string[]> = { Y: ["X"], X: ["A"], A: ["B", "C"], B: ["D"], C: ["D"], D: ["E"], E: [] };
  const local = (n: string, from: string) =>
    type === "service" && n === "A" ? { local_subject: `di${from.toLowerCase()}.>` } : {};
  for (const [n, froms] of Object.entries(edges))
    await acc[n]!.reissue({
      exports: n === "Y" ? [] : [{ subject: "dia.>", type }],
      imports: froms.map((f) => ({ account: acc[f]!.id, subject: "dia.>", type, ...local(n, f) })),
    });
  return acc;
}

describe("two ways into one account (a diamond)", () => {
  for (const type of ["stream", "service"] as const)
    it(`refuses the ${type} import whose walk reaches D by B and again by C; nothing else`, async () => {
      const d = await diamond(`dia-${type}`, type);
      const all = Object.values(d);
      // Y's walk stops at X, whose import is not there.
      const details: string[] = [];
      expect(verdicts(all, [d.Y!, d.X!, d.A!, d.B!, d.C!, d.D!], details)).toEqual([
        `dia-${type}-Y ${type} active null`,
        `dia-${type}-X ${type} inactive cycle_search_refused`,
        `dia-${type}-A ${type} active null`,
        `dia-${type}-A ${type} active null`,
        `dia-${type}-B ${type} active null`,
        `dia-${type}-C ${type} active null`,
        `dia-${type}-D ${type} active null`,
      ]);
      // X's import, A's from C, C's from D: D was reached by B before.
      expect(details).toEqual([
        expect.stringContaining("reaches an account a second time, 2 import(s) in, by another way"),
      ]);
    });
});

/**
 * X imports `dn.>` from A; A imports `dn.b.>` from B and `dn.c.>` from C, both import `dn.>` from D,
 * which imports it from E. The walk for X's import narrows to `dn.b.>` on its way through B; servers
 * before 2.12.6 keep that subject for A's import from C, which then does not collide (measured by
 * the scenario catalogue's "each narrowing the subject" diamonds on 2.10.29, 2.12.15 and 2.15.2).
 */
describe("a diamond whose ways narrow the subject", () => {
  for (const type of ["stream", "service"] as const)
    it(`the ${type} import is refused from 2.12.6 on, honoured before`, async () => {
      const acc: Record<string, TestAccount> = {};
      for (const n of ["E", "D", "B", "C", "A", "X"]) acc[n] = await op.account(`dn-${type}-${n}`);
      const edges: Record<string, [string, string][]> = {
        X: [["A", ">"]],
        A: [
          ["B", "b.>"],
          ["C", "c.>"],
        ],
        B: [["D", ">"]],
        C: [["D", ">"]],
        D: [["E", ">"]],
        E: [],
      };
      for (const [n, froms] of Object.entries(edges))
        await acc[n]!.reissue({
          exports: n === "X" ? [] : [{ subject: "dn.>", type }],
          imports: froms.map(([f, s]) => ({ account: acc[f]!.id, subject: `dn.${s}`, type })),
        });
      const all = Object.values(acc);
      const x = `dn-${type}-X ${type}`;
      for (const version of ["2.10.29", "2.12.5"])
        expect(verdicts(all, [acc.X!], [], version), version).toEqual([`${x} active null`]);
      for (const version of ["2.12.6", "2.15.2"])
        expect(verdicts(all, [acc.X!], [], version), version).toEqual([`${x} inactive cycle_search_refused`]);
    });
});
