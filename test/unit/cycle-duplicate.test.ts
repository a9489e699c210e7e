/**
 * A stream imported twice from one account whose first import is on a cycle: which of the two the
 * server adds follows its load order (measured: test/integration/cycle-duplicate.test.ts), so the
 * second is `duplicate_of_cycle_import`, naming the first. The same subject from another account is
 * no duplicate at all (catalogue scenario "the same stream subject imported from two accounts").
 */
import { beforeAll, describe, expect, it } from "vitest";
import { AccountDirectory, OperatorTrust, diagnoseAll, type ImportDiagnosis } from "../../src/core/index.js";
import { TestOperator, nowSec } from "../support/deployment.js";

let op: TestOperator;
beforeAll(async () => {
  op = await TestOperator.create();
});

/** EXP imports IMP's `cl.>`, into which IMP's first import of EXP's `cd.>` delivers; IMP's second is under `cm.>`. */
async function importerDiagnoses(firstName: string | undefined): Promise<{ found: ImportDiagnosis[]; expId: string }> {
  const exp = await op.account("EXP");
  const imp = await op.account("IMP");
  await exp.reissue({
    exports: [
      { subject: "cd.>", type: "stream" },
      { subject: "cl.>", type: "stream" },
    ],
    imports: [{ account: imp.id, subject: "cl.>", type: "stream" }],
  });
  await imp.reissue({
    exports: [{ subject: "cl.>", type: "stream" }],
    imports: [
      {
        ...(firstName ? { name: firstName } : {}),
        account: exp.id,
        subject: "cd.>",
        type: "stream",
        local_subject: "cl.>",
      },
      { account: exp.id, subject: "cd.>", type: "stream", local_subject: "cm.>" },
    ],
  });
  const trust = new OperatorTrust();
  trust.addOperator(op.jwt);
  const dir = new AccountDirectory(trust);
  for (const a of [exp, imp]) dir.upsert(a.jwt);
  return { found: diagnoseAll(dir, { now: nowSec(), expiryWarningSeconds: 86400 }, [imp.id]), expId: exp.id };
}

const REST =
  '. nats-server keeps one stream import per subject and source account, and refuses one import of a cycle on each server (that of the account it looked up first): where IMP was loaded first the earlier import is refused and this one works; elsewhere the earlier one is added and this one is refused as its duplicate (subscribers in IMP on "cm.>" receive none of its messages). The servers\' own view (check --server, the live service) says which; a restart can change it.';

describe("a second stream import whose first is on a cycle", () => {
  it("is undetermined, names the first import and says which load order kills it", async () => {
    const {
      found: [first, second],
      expId,
    } = await importerDiagnoses("first");
    expect(first).toMatchObject({ status: "undetermined", cause: "import_cycle" });
    // the cycle's steps, each account by name
    expect(first!.message).toBe(
      'IMP\'s stream import of "cd.>" from EXP forms a cycle of imports (IMP imports stream "cd.>" from EXP, EXP imports stream "cl.>" from IMP). EXP\'s import of "cl.>" from IMP closes it. nats-server refuses one import of the cycle on each server: that of the account it looked up first (the first client to connect to it, or an account importing from it). The JWTs do not say which, so whether this one works is undetermined: where IMP was loaded first it is refused (subscribers in IMP on "cl.>" receive none of its messages), elsewhere another import of the cycle is. The servers\' own view (check --server, the live service) says which; a restart can change it.',
    );
    expect(second).toMatchObject({ status: "undetermined", cause: "duplicate_of_cycle_import" });
    expect(second!.message).toBe(
      `IMP's stream import of "cd.>" from EXP repeats import #1 ("first"), which is on a cycle of imports${REST}`,
    );
    expect(second!.remediation).toEqual([
      "# keep one import of the subject: remove this one, or break the earlier import's cycle and keep that one",
      `nsc delete import --account IMP --subject 'cd.>' --src-account ${expId}`,
      "nsc push --account IMP",
    ]);
  });

  it("names an unnamed first import by its position alone", async () => {
    const {
      found: [, second],
    } = await importerDiagnoses(undefined);
    expect(second!.message).toBe(
      `IMP's stream import of "cd.>" from EXP repeats import #1, which is on a cycle of imports${REST}`,
    );
  });
});
