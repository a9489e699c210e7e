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

interface Judged {
  verdicts: string[];
  /** Accounts whose JWT the directory refuses, as the resolver refuses its push. */
  refused: string[];
  keys: string[];
}

async function verdicts(d: FuzzDeployment, seed: number): Promise<Judged> {
  const realized = await realize(d, seed);
  const trust = new OperatorTrust();
  trust.addOperator(realized.op.jwt);
  const dir = new AccountDirectory(trust);
  dir.upsert(realized.op.system.jwt);
  const refused: string[] = [];
  for (const a of realized.pushed) {
    try {
      dir.upsert(a.jwt);
    } catch {
      refused.push(a.name);
    }
  }
  const found = diagnoseAll(
    dir,
    { now: realized.now, expiryWarningSeconds: 7 * 86400 },
    realized.accounts.map((a) => a.id),
  );
  const keys = realized.accounts.flatMap((a) => Object.keys(decodeUnverified(a.jwt).claims));
  return { verdicts: found.map((f) => `${f.account_name} ${f.subject} ${f.status} ${f.cause}`), refused, keys };
}

/** A scoped signing key the JWT lists: written in another case, its `kind` is no kind to jwt. */
const listsScope = (a: FuzzDeployment["accounts"][number]) => a.signing_keys.some((k) => k.scoped && !k.removed);

function casedSeeds(wanted: (d: FuzzDeployment) => boolean): number[] {
  return Array.from({ length: 200 }, (_, i) => deploymentSeed(20261205, i)).filter((s) => wanted(generate(s)));
}

async function bothWays(seed: number): Promise<{ restyled: Judged; asWritten: Judged }> {
  const d = generate(seed);
  const plain = structuredClone(d);
  for (const a of plain.accounts) delete a.key_case;
  const restyled = await verdicts(d, seed);
  const asWritten = await verdicts(plain, seed);
  // The keys did change, so a comparison means something.
  expect(restyled.keys).not.toEqual(asWritten.keys);
  return { restyled, asWritten };
}

describe("JWT keys in another case, as the fuzzer writes them", () => {
  it("give every import the verdict it has with the keys as jwt writes them", async () => {
    const seeds = casedSeeds((d) => d.accounts.some((a) => a.key_case && a.imports.length > 0 && !listsScope(a)));
    expect(seeds.length).toBeGreaterThanOrEqual(8);
    for (const seed of seeds.slice(0, 8)) {
      const { restyled, asWritten } = await bothWays(seed);
      expect(restyled.verdicts).toEqual(asWritten.verdicts);
      expect(restyled.refused).toEqual(asWritten.refused);
      expect(restyled.verdicts.length).toBeGreaterThan(0);
    }
  }, 120_000);

  it("but a JWT listing a scoped signing key is refused (its scope's kind is read only as written)", async () => {
    const [seed] = casedSeeds((d) =>
      d.accounts.some((a) => a.key_case && a.pushed && a.imports.length > 0 && listsScope(a)),
    );
    expect(seed).toBeDefined();
    const d = generate(seed!);
    const refused = d.accounts.filter((a) => a.key_case && a.pushed && listsScope(a)).map((a) => a.name);
    const { restyled, asWritten } = await bothWays(seed!);
    expect(restyled.refused).toEqual([...asWritten.refused, ...refused].sort());
    for (const name of refused) {
      expect(asWritten.verdicts.some((v) => v.startsWith(`${name} `))).toBe(true);
      expect(restyled.verdicts.some((v) => v.startsWith(`${name} `))).toBe(false);
    }
  }, 120_000);
});
