/**
 * The fuzzer's JWTs with keys in another case (test/fuzz/key-case.ts) mean what the same JWTs with
 * the tags as written mean: the engine gives every import the same verdict. The real servers'
 * reading of them is judged by the fuzz runs themselves (test/integration/fuzz.test.ts).
 */
import { describe, expect, it } from "vitest";
import { AccountDirectory, OperatorTrust, diagnoseAll } from "../../src/core/index.js";
import { decodeUnverified } from "../support/deployment.js";
import { deploymentSeed, generate, type FuzzDeployment } from "../fuzz/model.js";
import { realize } from "../fuzz/realize.js";

async function verdicts(d: FuzzDeployment, seed: number): Promise<{ verdicts: string[]; keys: string[] }> {
  const realized = await realize(d, seed);
  const trust = new OperatorTrust();
  trust.addOperator(realized.op.jwt);
  const dir = new AccountDirectory(trust);
  dir.upsert(realized.op.system.jwt);
  for (const a of realized.pushed) dir.upsert(a.jwt);
  const found = diagnoseAll(
    dir,
    { now: realized.now, expiryWarningSeconds: 7 * 86400 },
    realized.accounts.map((a) => a.id),
  );
  const keys = realized.accounts.flatMap((a) => Object.keys(decodeUnverified(a.jwt).claims));
  return { verdicts: found.map((f) => `${f.account_name} ${f.subject} ${f.status} ${f.cause}`), keys };
}

describe("JWT keys in another case, as the fuzzer writes them", () => {
  it("give every import the verdict it has with the keys as jwt writes them", async () => {
    const seeds = Array.from({ length: 40 }, (_, i) => deploymentSeed(20261205, i));
    const withCase = seeds.filter((s) => generate(s).accounts.some((a) => a.key_case && a.imports.length > 0));
    expect(withCase.length).toBeGreaterThanOrEqual(5);
    const styles = new Set<string>();
    for (const seed of withCase.slice(0, 8)) {
      const d = generate(seed);
      for (const a of d.accounts) if (a.key_case) styles.add(a.key_case);
      const plain = structuredClone(d);
      for (const a of plain.accounts) delete a.key_case;
      const restyled = await verdicts(d, seed);
      const asWritten = await verdicts(plain, seed);
      // The keys did change (so the comparison means something) …
      expect(restyled.keys).not.toEqual(asWritten.keys);
      // … and the verdicts did not.
      expect(restyled.verdicts).toEqual(asWritten.verdicts);
      expect(restyled.verdicts.length).toBeGreaterThan(0);
    }
    expect([...styles].sort()).toEqual(["fold", "title", "upper"]);
  }, 120_000);
});
