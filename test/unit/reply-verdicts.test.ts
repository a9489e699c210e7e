/**
 * Where the accounts' mappings of the replies meet the rest of the verdict (src/core/evaluate.ts's
 * mappingsOutcome, src/core/replies.ts), for what the mutation run of those lines found unasserted
 * (docs/decisions.md 26, 2026-12-03): which import the replies concern, which of a requests' and a
 * replies' finding stands, the token a replies finding still reports, a cycle's import whose replies
 * are taken, and which leg's finding is the worse. The server's behaviour:
 * test/integration/reply-mappings.test.ts and the scenario catalogue.
 */
import { beforeAll, describe, expect, it } from "vitest";
import type { Export, Import } from "@nats-io/jwt";
import { AccountDirectory, OperatorTrust, diagnoseAll, type ImportDiagnosis } from "../../src/core/index.js";
import { applyServerView } from "../../src/core/server-observation.js";
import { repliesFinding } from "../../src/core/replies.js";
import { TestOperator, activation, nowSec, type TestAccount } from "../support/deployment.js";
import { mappingClaim } from "../support/claims.js";

let op: TestOperator;
beforeAll(async () => {
  op = await TestOperator.create();
});

type Mappings = Record<string, { subject: string; weight?: number }[]>;

function directory(accounts: TestAccount[]): AccountDirectory {
  const trust = new OperatorTrust();
  trust.addOperator(op.jwt);
  const dir = new AccountDirectory(trust);
  for (const a of accounts) dir.upsert(a.jwt);
  return dir;
}

/** The importer's diagnoses of one import from an exporter of `exports`, each account with its mappings. */
async function diagnoses(d: {
  exports: Partial<Export>[];
  imports: (exporter: TestAccount, importerId: string) => Promise<Partial<Import>[]> | Partial<Import>[];
  exporterMappings?: Mappings;
  importerMappings?: Mappings;
}): Promise<ImportDiagnosis[]> {
  const exporter = await op.account("EXP", {
    exports: d.exports as Export[],
    ...(d.exporterMappings ? { mappings: d.exporterMappings } : {}),
  });
  const importer = await op.account("IMP");
  await importer.reissue({
    imports: (await d.imports(exporter, importer.id)).map((i) => ({ account: exporter.id, ...i })) as Import[],
    ...(d.importerMappings ? { mappings: d.importerMappings } : {}),
  });
  return diagnoseAll(directory([exporter, importer]), { now: nowSec(), expiryWarningSeconds: 86400 }, [importer.id]);
}

const service = [{ subject: "svc.>", type: "service" }] as Partial<Export>[];
const serviceImport = () => [{ subject: "svc.a", type: "service" }] as Partial<Import>[];

describe("the replies' finding and the rest of the verdict", () => {
  it("a stream import has no replies: both accounts' reply mappings leave it active", async () => {
    const [d] = await diagnoses({
      exports: [{ subject: "ev.>", type: "stream" }],
      imports: () => [{ subject: "ev.a", type: "stream" }],
      exporterMappings: { "_R_.>": [{ subject: "gone.>" }] },
      importerMappings: { "_INBOX.>": [{ subject: "gone.>" }] },
    });
    expect([d!.status, d!.cause]).toEqual(["active", null]);
  });

  it("requests taken away beside replies partly taken: the requests' local_subject_mapped stands, being worse", async () => {
    const [d] = await diagnoses({
      exports: service,
      imports: serviceImport,
      importerMappings: { "svc.a": [{ subject: "gone.a" }], "_INBOX.>": [{ subject: "gone.>", weight: 60 }] },
    });
    expect([d!.status, d!.cause]).toEqual(["inactive", "local_subject_mapped"]);
    expect(d!.message).toContain(`"svc.a"`);
  });

  it("requests and replies both taken away: the requests' finding stands (the first the server meets)", async () => {
    const [d] = await diagnoses({
      exports: service,
      imports: serviceImport,
      exporterMappings: { "_R_.>": [{ subject: "gone.>" }] },
      importerMappings: { "svc.a": [{ subject: "gone.a" }] },
    });
    expect([d!.status, d!.cause]).toEqual(["inactive", "local_subject_mapped"]);
  });

  it("a private service whose replies the exporter takes away: replies_mapped, and the diagnosis still reports its token", async () => {
    let exporterId = "";
    let expires = 0;
    const [d] = await diagnoses({
      exports: [{ subject: "svc.>", type: "service", token_req: true }],
      imports: async (e, id) => {
        exporterId = e.id;
        expires = nowSec() + 7 * 86400;
        return [
          { subject: "svc.a", type: "service", token: await activation(e, id, "svc.a", "service", { exp: expires }) },
        ];
      },
      exporterMappings: { "_R_.>": [{ subject: "gone.>" }] },
    });
    expect([d!.status, d!.cause]).toEqual(["inactive", "replies_mapped"]);
    expect(d!.token).toMatchObject({ issuer: exporterId, expires_at: new Date(expires * 1000).toISOString() });
  });

  it("a service import of a cycle whose replies the exporter takes away is dead on every load order: replies_mapped", async () => {
    const [a, b] = await Promise.all([op.account("R1"), op.account("R2")]);
    await a.reissue({
      exports: [{ subject: "s.>", type: "service" }],
      imports: [{ account: b.id, subject: "s.>", type: "service" }],
    });
    await b.reissue({
      exports: [{ subject: "s.>", type: "service" }],
      imports: [{ account: a.id, subject: "s.>", type: "service" }],
      mappings: { "_R_.>": [{ subject: "gone.>" }] },
    });
    const dir = directory([a, b]);
    const now = { now: nowSec(), expiryWarningSeconds: 86400 };
    const [taken] = diagnoseAll(dir, now, [a.id]);
    expect([taken!.status, taken!.cause]).toEqual(["inactive", "replies_mapped"]);
    // a server that honoured the cycle's import still loses every answer
    expect(applyServerView(taken!, { servers: 1, registered: 1, honouring: 1, exposing: 1 }).status).toBe("inactive");
    // R2's own import answers through R1, which maps nothing: the load order decides it
    expect(diagnoseAll(dir, now, [b.id])[0]!.cause).toBe("import_cycle");
  });
});

const m = mappingClaim;

describe("repliesFinding", () => {
  it("the worse leg's finding, whichever leg it is on: the inbox taken beside a response partly taken", () => {
    expect(repliesFinding([m("_R_.>", ["gone.>", 60])], [m("_INBOX.>", ["gone.>"])], "2.15.2")).toMatchObject({
      cause: "replies_mapped",
      mapping: { source: "_INBOX.>", leg: "inbox", to: ["gone.>"] },
    });
  });

  it("a reply subject taken away while another mapping leads onto it: replies_mapped, its answers sent elsewhere", () => {
    expect(repliesFinding([], [m("_INBOX.>", ["gone.>"]), m("back.>", ["_INBOX.>"])], "2.15.2")).toEqual({
      cause: "replies_mapped",
      mapping: { source: "_INBOX.>", to: [], percent: 0, newLocal: null, leg: "inbox", replySubject: "_INBOX.*.*" },
    });
  });
});
