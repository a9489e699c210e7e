/**
 * The evaluator's order and the context it hands the causes, where the mutation run of
 * src/core/evaluate.ts found nothing failing (docs/decisions.md 26): what applies only to an import
 * the server adds (the importer's mappings, JetStream sets, duplicates), the importer's own time
 * window, subjects only the server checks (a service import's `to`), and the export a finding names.
 * The decisions among them are judged on real servers in the scenario catalogue.
 */
import { beforeAll, describe, expect, it } from "vitest";
import type { Export, Import } from "@nats-io/jwt";
import { AccountDirectory, OperatorTrust, diagnoseAll, type ImportDiagnosis } from "../../src/core/index.js";
import { TestOperator, activation, nowSec, signClaims, type TestAccount } from "../support/deployment.js";
import { JETSTREAM_LIMITS } from "../support/jetstream.js";

let op: TestOperator;
beforeAll(async () => {
  op = await TestOperator.create();
});

interface Deployment {
  exports: Partial<Export>[];
  imports: (exporter: TestAccount, importerId: string) => Promise<Partial<Import>[]> | Partial<Import>[];
  mappings?: Record<string, { subject: string }[]>;
  jetStream?: boolean;
  importerNbf?: number;
  exporterExp?: number;
  exporterNbf?: number;
}

async function diagnoses(d: Deployment, now = nowSec()): Promise<ImportDiagnosis[]> {
  const exporter = await op.account(
    "EXP",
    { exports: d.exports as Export[], ...(d.jetStream ? { limits: { ...JETSTREAM_LIMITS } } : {}) },
    { ...(d.exporterExp ? { exp: d.exporterExp } : {}), ...(d.exporterNbf ? { nbf: d.exporterNbf } : {}) },
  );
  const importer = await op.account("IMP");
  await importer.reissue(
    {
      imports: (await d.imports(exporter, importer.id)).map((i) => ({ account: exporter.id, ...i })) as Import[],
      ...(d.mappings ? { mappings: d.mappings } : {}),
    },
    d.importerNbf ? { nbf: d.importerNbf } : {},
  );
  const trust = new OperatorTrust();
  trust.addOperator(op.jwt);
  const dir = new AccountDirectory(trust);
  dir.upsert(exporter.jwt);
  dir.upsert(importer.jwt);
  return diagnoseAll(dir, { now, expiryWarningSeconds: 86400 }, [importer.id]);
}

const privateService = [{ subject: "svc.>", type: "service", token_req: true }] as Partial<Export>[];

describe("what applies only to an import the server adds", () => {
  it("a refused service import stays refused for its own reason, whatever the importer's mappings do", async () => {
    const [d] = await diagnoses({
      exports: privateService,
      imports: () => [{ subject: "svc.a", type: "service" }],
      mappings: { "svc.a": [{ subject: "elsewhere.a" }] },
    });
    expect(d!.cause).toBe("missing_activation_token");
    // the same mapping on an import the server adds starves it
    const [added] = await diagnoses({
      exports: privateService,
      imports: async (e, id) => [
        { subject: "svc.a", type: "service", token: await activation(e, id, "svc.a", "service") },
      ],
      mappings: { "svc.a": [{ subject: "elsewhere.a" }] },
    });
    expect(added!.cause).toBe("local_subject_mapped");
  });

  it("a refused JetStream API import is refused, not an incomplete set", async () => {
    const api = [{ subject: "$JS.API.>", type: "service", token_req: true }] as Partial<Export>[];
    const imports = [{ subject: "$JS.API.>", type: "service", local_subject: "JS.X.API.>" }] as Partial<Import>[];
    const [refused] = await diagnoses({ exports: api, imports: () => imports, jetStream: true });
    expect(refused!.cause).toBe("missing_activation_token");
    const [added] = await diagnoses({
      exports: [{ subject: "$JS.API.>", type: "service" }] as Partial<Export>[],
      imports: () => imports,
      jetStream: true,
    });
    expect(added!.cause).toBe("jetstream_imports_incomplete");
  });

  it("a stream and a service import of one subject from one account are no duplicates of each other", async () => {
    const exports = [
      { subject: "sd.a", type: "stream" },
      { subject: "sd.a", type: "service" },
    ] as Partial<Export>[];
    const causes = (
      await diagnoses({
        exports,
        imports: () => [
          { subject: "sd.a", type: "stream" },
          { subject: "sd.a", type: "service" },
        ],
      })
    ).map((d) => d.cause);
    expect(causes).toEqual([null, null]);
    // the service first: a stream import is compared with the stream imports before it only
    const reversed = await diagnoses({
      exports,
      imports: () => [
        { subject: "sd.a", type: "service" },
        { subject: "sd.a", type: "stream" },
      ],
    });
    expect(reversed.map((d) => d.cause)).toEqual([null, null]);
  });

  it("a duplicate names the import the server keeps", async () => {
    const exports = [{ subject: "d.>", type: "stream" }] as Partial<Export>[];
    const [, second] = await diagnoses({
      exports,
      imports: () => [
        { name: "first", subject: "d.a", type: "stream" },
        { subject: "d.a", type: "stream", local_subject: "copy.a" },
      ],
    });
    expect(second!.cause).toBe("duplicate_import");
    expect(second!.message).toContain('it repeats import #1 ("first"), which the server keeps');
    const [, unnamed] = await diagnoses({
      exports,
      imports: () => [
        { subject: "d.a", type: "stream" },
        { subject: "d.a", type: "stream", local_subject: "copy.a" },
      ],
    });
    expect(unnamed!.message).toContain("it repeats import #1, which the server keeps");
  });

  it("the import the server keeps is the first it adds: a refused earlier one is skipped", async () => {
    const all = await diagnoses({
      exports: [{ subject: "d.>", type: "stream", token_req: true }],
      imports: async (exporter, id) => {
        const token = await activation(exporter, id, "d.>", "stream");
        return [
          { name: "refused", subject: "d.a", type: "stream" },
          { name: "kept", subject: "d.a", type: "stream", local_subject: "one.a", token },
          { name: "third", subject: "d.a", type: "stream", local_subject: "two.a", token },
        ];
      },
    });
    expect(all.map((d) => d.cause)).toEqual(["missing_activation_token", null, "duplicate_import"]);
    expect(all[2]!.message).toContain('it repeats import #2 ("kept"), which the server keeps');
  });

  it("a service import reached through another mapping onto its local subject is active and says through which", async () => {
    // decisions 27: requests on ask.a are mapped onto svc.a and reach the import (catalogue scenario, judged by flow)
    const [d] = await diagnoses({
      exports: [{ subject: "svc.>", type: "service" }] as Partial<Export>[],
      imports: () => [{ subject: "svc.a", type: "service" }],
      mappings: { "svc.a": [{ subject: "elsewhere.a" }], "ask.a": [{ subject: "svc.a" }] },
    });
    expect(d!.status).toBe("active");
    expect(d!.message).toContain(
      'requests on "svc.a" are mapped elsewhere; requests on "ask.a" are mapped onto it and reach it',
    );
  });
});

describe("the importer's and the source's time windows", () => {
  it("an importer JWT not valid yet: the account is not loaded, and the fix is to wait or re-sign", async () => {
    const now = nowSec();
    const [d] = await diagnoses(
      {
        exports: [{ subject: "t.>", type: "stream" }] as Partial<Export>[],
        imports: () => [{ subject: "t.a", type: "stream" }],
        importerNbf: now + 3600,
      },
      now,
    );
    expect(d!.cause).toBe("account_jwt_invalid");
    expect(d!.message).toContain(`the account JWT is not valid before ${new Date((now + 3600) * 1000).toISOString()}`);
  });

  it("an expired source says when it expired", async () => {
    const now = nowSec();
    const [d] = await diagnoses(
      {
        exports: [{ subject: "t.>", type: "stream" }] as Partial<Export>[],
        imports: () => [{ subject: "t.a", type: "stream" }],
        exporterExp: now - 60,
      },
      now,
    );
    expect(d!.cause).toBe("source_account_expired");
    expect(d!.message).toContain(`its JWT expired at ${new Date((now - 60) * 1000).toISOString()}`);
  });

  it("a source not valid yet says from when", async () => {
    const now = nowSec();
    const [d] = await diagnoses(
      {
        exports: [{ subject: "t.>", type: "stream" }] as Partial<Export>[],
        imports: () => [{ subject: "t.a", type: "stream" }],
        exporterNbf: now + 3600,
      },
      now,
    );
    expect(d!.cause).toBe("source_account_expired");
    expect(d!.message).toContain(`its JWT is not valid before ${new Date((now + 3600) * 1000).toISOString()}`);
  });
});

describe("subjects only the server checks", () => {
  it("a service import whose deprecated to is no valid subject is invalid (validation does not read to)", async () => {
    const [d] = await diagnoses({
      exports: [{ subject: "svc.>", type: "service" }] as Partial<Export>[],
      imports: () => [{ subject: "local.x", to: "svc..x", type: "service" }],
    });
    expect(d!.cause).toBe("import_invalid");
    expect(d!.message).toContain('"svc..x" is not a valid subject');
  });
});

describe("the export and token a finding names", () => {
  it("a revoked token's fix deletes the revocation on the export's subject, not the import's", async () => {
    const [d] = await diagnoses({
      exports: [],
      imports: async (e, id) => {
        const token = await activation(e, id, "p.>", "stream");
        await e.reissue({
          exports: [{ subject: "p.>", type: "stream", token_req: true, revocations: { [id]: nowSec() + 10 } }] as never,
        });
        return [{ subject: "p.a", type: "stream", token }];
      },
    });
    expect(d!.cause).toBe("activation_revoked");
    expect(d!.remediation[1]).toBe(
      `nsc revocations delete_activation --account EXP --subject 'p.>' --target-account ${d!.account}`,
    );
  });

  it("a token the exporter signed that names another account as issuer_account is not trusted", async () => {
    const other = await op.account("OTHER");
    const [d] = await diagnoses({
      exports: [{ subject: "p.>", type: "stream", token_req: true }] as Partial<Export>[],
      imports: async (e, id) => [
        {
          subject: "p.a",
          type: "stream",
          token: await signClaims(
            {
              sub: id,
              nats: { type: "activation", version: 2, subject: "p.>", kind: "stream", issuer_account: other.id },
            },
            e.key,
          ),
        },
      ],
    });
    expect(d!.cause).toBe("activation_signer_untrusted");
    expect(d!.message).toContain(`the token names issuer_account ${other.id}, not the source account`);
  });
});

describe("why no export approves an import", () => {
  it("an export of the other type on another subject is no type mismatch: export_not_found", async () => {
    const [d] = await diagnoses({
      exports: [{ subject: "svc.>", type: "service" }] as Partial<Export>[],
      imports: () => [{ subject: "str.a", type: "stream" }],
    });
    expect(d!.cause).toBe("export_not_found");
  });

  it("a private export of the other type containing the subject: a type mismatch whose fix asks for a token", async () => {
    const [d] = await diagnoses({
      exports: [{ subject: "mix.>", type: "service", token_req: true }] as Partial<Export>[],
      imports: () => [{ subject: "mix.a", type: "stream" }],
    });
    expect(d!.cause).toBe("export_type_mismatch");
    expect(d!.remediation).toContain(
      "# the service export is private: ask EXP for a service token and add the import with it",
    );
  });

  it("a narrower export of the same type: subject_mismatch names that export", async () => {
    const [d] = await diagnoses({
      exports: [{ subject: "nar.a.>", type: "stream" }] as Partial<Export>[],
      imports: () => [{ subject: "nar.>", type: "stream" }],
    });
    expect(d!.cause).toBe("subject_mismatch");
    expect(d!.message).toContain('IMP\'s stream import of "nar.>" from EXP asks for more than EXP exports ("nar.a.>")');
  });

  it("a source whose JWT the server will not load says why", async () => {
    const stranger = await TestOperator.create({ name: "STRANGER" });
    const exporter = await stranger.account("EXP", { exports: [{ subject: "u.>", type: "stream" }] as Export[] });
    const importer = await op.account("IMP", {
      imports: [{ account: exporter.id, subject: "u.a", type: "stream" }] as Import[],
    });
    const trust = new OperatorTrust();
    trust.addOperator(op.jwt);
    const dir = new AccountDirectory(trust);
    dir.upsert(exporter.jwt);
    dir.upsert(importer.jwt);
    const [d] = diagnoseAll(dir, { now: nowSec(), expiryWarningSeconds: 86400 }, [importer.id]);
    expect(d!.cause).toBe("source_account_not_found");
    expect(d!.message).toContain(
      `its JWT is present but the server will not load it: it is signed by ${stranger.id}, which is neither a trusted operator nor one of its signing keys`,
    );
  });
});
