/**
 * JWTs staged while the pack streams in (ImportMonitor.stage, src/live/account-loader.ts) and the
 * first load that follows must give exactly what that load gives alone: the same directory, the same
 * diagnoses. Staged in an order the load would not use (importers before their exporter), with a
 * forged JWT among them, an account the load no longer brings, and an older JWT the load replaces.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { OperatorTrust } from "../../src/core/directory.js";
import { ImportMonitor } from "../../src/core/monitor.js";
import { TestOperator, activation, forgeSignature, nowSec, type TestAccount } from "../support/deployment.js";

const WEEK = 7 * 86400;

describe("a first load after staged JWTs", () => {
  const now = nowSec();
  let op: TestOperator;
  let loaded: Map<string, string>;
  let staged: [string, string][];
  let alone: ImportMonitor;
  let ahead: ImportMonitor;
  let exporter: TestAccount;
  let forged: TestAccount;
  let gone: TestAccount;
  let changedLater: TestAccount;

  const monitor = () => {
    const trust = new OperatorTrust();
    trust.addOperator(op.jwt);
    return new ImportMonitor(trust, WEEK);
  };
  /** Everything a reply reads: the diagnoses by key, and each account's standing. */
  const state = (m: ImportMonitor) => ({
    diagnoses: m.keyed().sort(([a], [b]) => a.localeCompare(b)),
    accounts: m.directory
      .accounts()
      .map((e): [string, string, unknown] => [e.id, e.digest, e.problem])
      .sort(([a], [b]) => a.localeCompare(b)),
  });

  beforeAll(async () => {
    op = await TestOperator.create();
    exporter = await op.account("EXP", {
      exports: [
        { name: "priv", subject: "priv.>", type: "service", token_req: true },
        { name: "pub", subject: "pub.>", type: "stream" },
      ],
    });
    const importers: TestAccount[] = [];
    for (let i = 0; i < 3; i++) {
      const imp = await op.account(`IMP${i}`);
      await imp.reissue({
        imports: [
          {
            name: "priv",
            account: exporter.id,
            subject: `priv.${i}`,
            type: "service",
            token: await activation(exporter, imp.id, `priv.${i}`, "service"),
          },
          { name: "pub", account: exporter.id, subject: `pub.${i}`, type: "stream" },
        ],
      });
      importers.push(imp);
    }
    forged = importers[1]!;
    gone = await op.account("GONE", {
      imports: [{ name: "pub", account: exporter.id, subject: "pub.x", type: "stream" }],
    });
    changedLater = importers[2]!;
    const older = changedLater.jwt;
    await changedLater.reissue({
      imports: [{ name: "pub", account: exporter.id, subject: "pub.later", type: "stream" }],
    });

    loaded = new Map([exporter, ...importers].map((a) => [a.id, a.jwt]));
    loaded.set(forged.id, forgeSignature(forged.jwt));
    // Importers first, the exporter last; one the load no longer has; an older JWT of another.
    staged = [
      [importers[0]!.id, importers[0]!.jwt],
      [forged.id, loaded.get(forged.id)!],
      [gone.id, gone.jwt],
      [changedLater.id, older],
      [exporter.id, exporter.jwt],
    ];

    alone = monitor();
    alone.replaceAll(loaded, now);
    ahead = monitor();
    for (const [id, jwt] of staged) ahead.stage(id, jwt);
  });

  it("staging evaluates nothing", () => {
    expect(ahead.diagnosisCount()).toBe(0);
    expect(ahead.directory.get(exporter.id)).toBeDefined();
  });

  it("the load after it gives what the load alone gives", () => {
    const changes = ahead.replaceAll(loaded, now);
    expect(changes).toHaveLength(alone.diagnosisCount());
    expect(state(ahead)).toEqual(state(alone));
    // What the comparison rests on: a forged JWT refused, the account no longer brought gone, the newer JWT kept.
    expect(ahead.directory.get(forged.id)?.problem?.message).toMatch(/signature/);
    expect(ahead.directory.get(gone.id)).toBeUndefined();
    expect(ahead.keyed([changedLater.id]).map(([, d]) => d.subject)).toEqual(["pub.later"]);
    expect(ahead.keyed([exporter.id])).toEqual([]);
    expect(
      ahead
        .diagnoses()
        .map((d) => [d.subject, d.status])
        .sort(),
    ).toEqual([
      ["priv.0", "active"],
      ["pub.0", "active"],
      ["pub.later", "active"],
    ]);
  });
});
