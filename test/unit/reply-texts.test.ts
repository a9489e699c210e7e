/**
 * The words a user reads about a service import whose mappings take its replies or its requests
 * (src/core/causes/replies-*.ts, local-subject-mappings-overlap.ts), evaluated from signed JWTs:
 * the verdict, the message and the fix where cause-texts.test.ts's contexts left a branch or a
 * separator unasserted (the mutation run of 2026-12-03, docs/decisions.md 26). Where the verdict
 * itself comes from: reply-verdicts.test.ts; the server's behaviour:
 * test/integration/reply-mappings.test.ts.
 */
import { beforeAll, describe, expect, it } from "vitest";
import type { Export, Import } from "@nats-io/jwt";
import { AccountDirectory, OperatorTrust, diagnoseAll, type ImportDiagnosis } from "../../src/core/index.js";
import { TestOperator, nowSec } from "../support/deployment.js";

let op: TestOperator;
beforeAll(async () => {
  op = await TestOperator.create();
});

type Mappings = Record<string, { subject: string; weight?: number }[]>;

/** EXP exports svc.> as a service, IMP imports svc.a; each account with the mappings given. */
async function diagnosis(exporterMappings: Mappings, importerMappings: Mappings): Promise<ImportDiagnosis> {
  const exporter = await op.account("EXP", {
    exports: [{ subject: "svc.>", type: "service" }] as Export[],
    ...(Object.keys(exporterMappings).length > 0 ? { mappings: exporterMappings } : {}),
  });
  const importer = await op.account("IMP", {
    imports: [{ subject: "svc.a", type: "service", account: exporter.id }] as Import[],
    ...(Object.keys(importerMappings).length > 0 ? { mappings: importerMappings } : {}),
  });
  const trust = new OperatorTrust();
  trust.addOperator(op.jwt);
  const dir = new AccountDirectory(trust);
  dir.upsert(exporter.jwt);
  dir.upsert(importer.jwt);
  const [d] = diagnoseAll(dir, { now: nowSec(), expiryWarningSeconds: 86400 }, [importer.id]);
  return d!;
}

const inbox = `the replies on their way to the requester (on its inbox, "_INBOX.*.*" by the NATS clients' default)`;

describe("the texts of the mapping causes, for every branch", () => {
  it("replies split between two subjects elsewhere: both named", async () => {
    const d = await diagnosis(
      {},
      {
        "_INBOX.>": [
          { subject: "a.>", weight: 50 },
          { subject: "b.>", weight: 50 },
        ],
      },
    );
    expect(d.cause).toBe("replies_mapped");
    expect(d.message).toContain(`sends ${inbox} to "a.>" or "b.>": requests`);
  });

  it("a share kept and the rest split: the share, both subjects, and the fix", async () => {
    const d = await diagnosis(
      {},
      {
        "_INBOX.>": [
          { subject: "a.>", weight: 30 },
          { subject: "b.>", weight: 30 },
        ],
      },
    );
    expect([d.status, d.cause]).toEqual(["warning", "replies_partly_mapped"]);
    expect(d.message).toContain(
      `gets only 40 % of its answers back: IMP's weighted mapping of "_INBOX.>" sends the rest of ${inbox} to "a.>" or "b.>", and those requests from IMP time out`,
    );
    expect(d.remediation).toEqual([
      `# remove the mapping that takes replies away, or narrow its source so it no longer covers "_INBOX.*.*":`,
      "nsc delete mapping --account IMP --from '_INBOX.>'",
      "nsc push --account IMP",
    ]);
  });

  it("a share kept and the rest dropped: sent nowhere", async () => {
    const d = await diagnosis({}, { "_INBOX.>": [{ subject: "_INBOX.>", weight: 40 }] });
    expect(d.cause).toBe("replies_partly_mapped");
    expect(d.message).toContain(`sends the rest of ${inbox} nowhere, and those requests from IMP time out`);
  });

  it("three overlapping mappings of the inbox: the range runs from the least kept to the most", async () => {
    const d = await diagnosis(
      {},
      {
        "_INBOX.>": [{ subject: "gone.>" }],
        "*.*.*": [{ subject: "kept.{{wildcard(1)}}", weight: 60 }],
        ">": [{ subject: ">", weight: 80 }],
      },
    );
    expect([d.status, d.cause]).toEqual(["undetermined", "replies_mappings_overlap"]);
    expect(d.message).toContain("3 of IMP's mappings take");
    expect(d.message).toContain("so between 0 % and 80 % of the answers come back");
  });

  it("three overlapping mappings of the local subject: the range runs from the least kept to the most", async () => {
    const d = await diagnosis(
      {},
      {
        "svc.a": [{ subject: "svc.a", weight: 80 }],
        "svc.*": [{ subject: "svc.{{wildcard(1)}}", weight: 50 }],
        "svc.>": [{ subject: "elsewhere.>" }],
      },
    );
    expect([d.status, d.cause]).toEqual(["undetermined", "local_subject_mappings_overlap"]);
    expect(d.message).toContain(`3 of IMP's mappings take requests on "svc.a"`);
    expect(d.message).toContain("so between 0 % and 100 % of the requests reach EXP");
  });
});
