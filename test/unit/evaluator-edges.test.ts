/**
 * The evaluator's boundaries, one table row each (in the spirit of ESLint's RuleTester): the exact
 * second a token expires, revocation at the token's own iat, the quirks of the server's matching.
 */
import { beforeAll, describe, expect, it } from "vitest";
import {
  AccountDirectory,
  OperatorTrust,
  diagnoseAll,
  rulesFor,
  type CauseCode,
  type ImportDiagnosis,
} from "../../src/core/index.js";
import { TestOperator, activation, nowSec, signClaims, type TestAccount } from "../support/deployment.js";
import type { Export, Import } from "@nats-io/jwt";

const WEEK = 7 * 86400;
let op: TestOperator;
beforeAll(async () => {
  op = await TestOperator.create();
});

/** One exporter with `exports`, one importer with `imports(exporter, importerId)`, evaluated at `now`. */
async function evaluateOne(
  exports: Partial<Export>[],
  imports: (exporter: TestAccount, importerId: string) => Promise<Partial<Import>[]>,
  now = nowSec(),
  exporterSigningKeys = 0,
): Promise<ImportDiagnosis[]> {
  const exporter = await op.account("EXP", { exports: exports as Export[] }, { signingKeys: exporterSigningKeys });
  const importer = await op.account("IMP");
  await importer.reissue({
    imports: (await imports(exporter, importer.id)).map((i) => ({ account: exporter.id, ...i })) as Import[],
  });
  const trust = new OperatorTrust();
  trust.addOperator(op.jwt);
  const dir = new AccountDirectory(trust);
  dir.upsert(exporter.jwt);
  dir.upsert(importer.jwt);
  return diagnoseAll(dir, { now, expiryWarningSeconds: WEEK }, [importer.id]);
}

const causeOf = async (...args: Parameters<typeof evaluateOne>): Promise<CauseCode | null> =>
  (await evaluateOne(...args))[0]!.cause;

const privateStream = [{ subject: "p.>", type: "stream", token_req: true }] as Partial<Export>[];
const tokenImport =
  (opts: Parameters<typeof activation>[4], subject = "p.a", tokenSubject = "p.>") =>
  async (exporter: TestAccount, id: string) =>
    [
      { subject, type: "stream", token: await activation(exporter, id, tokenSubject, "stream", opts) },
    ] as Partial<Import>[];

describe("token validity window", () => {
  it("a token is expired at its exp second, not one second before", async () => {
    const exp = nowSec() + 3600;
    expect(await causeOf(privateStream, tokenImport({ exp }), exp)).toBe("activation_expired");
    expect(await causeOf(privateStream, tokenImport({ exp }), exp - 1)).toBe("activation_expiring_soon");
  });
  it("a token is valid from its nbf second", async () => {
    const nbf = nowSec() + 3600;
    expect(await causeOf(privateStream, tokenImport({ nbf }), nbf - 1)).toBe("activation_not_yet_valid");
    expect(await causeOf(privateStream, tokenImport({ nbf }), nbf)).toBe(null);
  });
  it("warns within the window only", async () => {
    const exp = nowSec() + WEEK + 10;
    expect(await causeOf(privateStream, tokenImport({ exp }))).toBe(null);
    expect(await causeOf(privateStream, tokenImport({ exp }), exp - WEEK)).toBe("activation_expiring_soon");
  });
});

describe("revocation", () => {
  async function revokedAt(key: (importerId: string) => string, delta: number): Promise<CauseCode | null> {
    const iat = nowSec() - 100;
    return causeOf([{ subject: "p.>", type: "stream", token_req: true }], async (exporter, id) => {
      const token = await signClaims(
        { sub: id, iat, nats: { type: "activation", version: 2, subject: "p.>", kind: "stream" } },
        exporter.key,
      );
      exporter.claims.exports![0]!.revocations = { [key(id)]: iat + delta };
      await exporter.reissue(exporter.claims);
      return [{ subject: "p.a", type: "stream", token }];
    });
  }
  it.each([
    ["the importer, at the token's iat", (id: string) => id, 0, "activation_revoked"],
    ["the importer, after iat", (id: string) => id, 5, "activation_revoked"],
    ["the importer, before iat", (id: string) => id, -1, null],
    ["everyone, at iat", () => "*", 0, "activation_revoked"],
    ["everyone, before iat", () => "*", -1, null],
    ["another account", () => "AOTHER", 1000, null],
  ] as [string, (id: string) => string, number, CauseCode | null][])(
    "revoking %s → %s",
    async (_n, key, delta, expected) => {
      // The exporter is re-signed after the import is built, so the test reads the final exporter JWT.
      expect(await revokedAt(key, delta)).toBe(expected);
    },
  );
});

describe("matching quirks of the server", () => {
  it("a public export ignores an expired token on the import", async () => {
    const exports = [{ subject: "pub.>", type: "stream" }] as Partial<Export>[];
    expect(await causeOf(exports, tokenImport({ exp: nowSec() - 10 }, "pub.a", "pub.>"))).toBe(null);
  });
  it("account_token_position fails on an exact subject match: the server passes no tokens", async () => {
    const exports = [{ subject: "atp.*", type: "stream", account_token_position: 2 }] as Partial<Export>[];
    expect(await causeOf(exports, async () => [{ subject: "atp.*", type: "stream" }])).toBe(
      "account_token_position_mismatch",
    );
  });
  it("a service import's deprecated `to` is the exporter-side subject", async () => {
    const exports = [{ subject: "svc.x", type: "service" }] as Partial<Export>[];
    expect(await causeOf(exports, async () => [{ subject: "local.x", to: "svc.x", type: "service" }])).toBe(null);
  });
  it("a token signed by the exporter's own key with issuer_account set is trusted", async () => {
    expect(
      await causeOf(privateStream, async (exporter, id) => [
        {
          subject: "p.a",
          type: "stream",
          token: await signClaims(
            {
              sub: id,
              nats: { type: "activation", version: 2, subject: "p.>", kind: "stream", issuer_account: exporter.id },
            },
            exporter.key,
          ),
        },
      ]),
    ).toBe(null);
  });
  it("one invalid import makes the account's other imports dead too", async () => {
    const exports = [{ subject: "ok.>", type: "stream" }] as Partial<Export>[];
    const diagnoses = await evaluateOne(exports, async () => [
      { subject: "ok.a", type: "stream" },
      { subject: "ok.b", type: "stream", share: true },
    ]);
    expect(diagnoses.map((d) => d.cause)).toEqual(["account_jwt_invalid", "import_invalid"]);
    expect(diagnoses[0]!.message).toMatch(/share/);
  });
});

describe("duplicate stream imports", () => {
  it("the second import of a subject from one account is refused only if the first was added", async () => {
    const twice = async (first: Partial<Import>) =>
      (
        await evaluateOne(privateStream, async (exporter, id) => [
          { ...first, subject: "p.a", type: "stream" },
          {
            subject: "p.a",
            type: "stream",
            local_subject: "copy.a",
            token: await activation(exporter, id, "p.>", "stream"),
          },
        ])
      ).map((d) => d.cause);
    // The first has no token: the server never adds it, so the second is no duplicate.
    expect(await twice({ token: undefined })).toEqual(["missing_activation_token", null]);
  });
  it("a service import is never a duplicate (overlaps are a validation error instead)", async () => {
    const exports = [{ subject: "svc.>", type: "service" }] as Partial<Export>[];
    const causes = (
      await evaluateOne(exports, async () => [
        { subject: "svc.a", type: "service" },
        { subject: "svc.b", type: "service" },
      ])
    ).map((d) => d.cause);
    expect(causes).toEqual([null, null]);
  });
  it("an approved first import makes the second a duplicate", async () => {
    const causes = (
      await evaluateOne(privateStream, async (exporter, id) => {
        const token = await activation(exporter, id, "p.>", "stream");
        return [
          { subject: "p.a", type: "stream", token },
          { subject: "p.a", type: "stream", local_subject: "copy.a", token },
        ];
      })
    ).map((d) => d.cause);
    expect(causes).toEqual([null, "duplicate_import"]);
  });
  it("a first import whose token expires soon is added all the same: the second is a duplicate", async () => {
    const causes = (
      await evaluateOne(privateStream, async (exporter, id) => {
        const token = await activation(exporter, id, "p.>", "stream", { exp: nowSec() + 3600 });
        return [
          { subject: "p.a", type: "stream", token },
          { subject: "p.a", type: "stream", local_subject: "copy.a", token },
        ];
      })
    ).map((d) => d.cause);
    expect(causes).toEqual(["activation_expiring_soon", "duplicate_import"]);
  });
});

describe("remediation names real accounts", () => {
  it("missing token: the commands name the exporter, the importer key, the subject and a push", async () => {
    const [d] = await evaluateOne(privateStream, async () => [
      { subject: "p.a", type: "stream", local_subject: "mine.a" },
    ]);
    expect(d!.cause).toBe("missing_activation_token");
    const script = d!.remediation.join("\n");
    expect(script).toContain(`nsc generate activation --account EXP --target-account ${d!.account} --subject p.a`);
    expect(script).toContain(`nsc delete import --account IMP --subject p.a --src-account ${d!.source_account}`);
    expect(script).toMatch(/nsc add import --account IMP --token \S+ --local-subject mine\.a/);
    expect(script).toContain("nsc push --account IMP");
  });
});

describe("validation by server line (found by the differential fuzzer)", () => {
  /** Two exporters of svc.>, one importer importing svc.> from the first and svc.a from the second. */
  async function overlapping(version: string | null) {
    const a = await op.account("SVC-A", { exports: [{ subject: "svc.>", type: "service" }] as Export[] });
    const b = await op.account("SVC-B", { exports: [{ subject: "svc.>", type: "service" }] as Export[] });
    const importer = await op.account("IMP", {
      imports: [
        { account: a.id, subject: "svc.>", type: "service" },
        { account: b.id, subject: "svc.a", type: "service" },
      ] as Import[],
    });
    const trust = new OperatorTrust();
    trust.addOperator(op.jwt);
    trust.rules = rulesFor(version);
    const dir = new AccountDirectory(trust);
    for (const acc of [a, b, importer]) dir.upsert(acc.jwt);
    return diagnoseAll(dir, { now: nowSec(), expiryWarningSeconds: WEEK }, [importer.id]);
  }
  it.each([
    ["2.10.29", ["account_jwt_invalid", "import_invalid"]],
    ["v2.11.9", ["account_jwt_invalid", "import_invalid"]],
    ["2.12.15", [null, null]],
    ["2.15.2", [null, null]],
    [null, [null, null]],
  ] as const)("overlapping service imports from two accounts on %s", async (version, causes) => {
    const ds = await overlapping(version);
    expect(ds.map((d) => d.cause)).toEqual(causes);
    if (causes[1]) expect(ds[1]!.message).toMatch(/overlaps "svc\.>"/);
  });
});

describe("local subjects the jwt library refuses (found by the differential fuzzer)", () => {
  const exports = [
    { subject: "s.>", type: "stream" },
    { subject: "q.*.*", type: "stream" },
  ] as Partial<Export>[];
  it.each([
    ["s.>", "l.>", null],
    ["s.a", "l.a", null],
    ["q.*.*", "l.$2.$1", null],
    ["q.*.*", "l.*.*", null],
    ["s.>", "l.>.x", "import_invalid"], // `>` not last: the subject is not even valid
    ["s.>", "l.a", "import_invalid"], // one ends in >, the other does not
    ["q.*.*", "l.$1", "import_invalid"], // the second * is not used
    ["q.*.*", "l.$3.$1.$2", "import_invalid"], // $3 does not exist
    ["q.*.*", "l.*.*.*", "import_invalid"], // one * too many
  ] as const)("%s as %s", async (subject, local, cause) => {
    const ds = await evaluateOne(exports, async () => [
      { subject: "s.other", type: "stream" },
      { subject, type: "stream", local_subject: local },
    ]);
    expect(ds[1]!.cause).toBe(cause);
    // One blocking error rejects the whole JWT: the sound import goes with it.
    expect(ds[0]!.cause).toBe(cause ? "account_jwt_invalid" : null);
  });
});
