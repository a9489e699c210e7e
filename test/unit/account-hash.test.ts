/**
 * The account-scoped mapping functions (src/core/account-hash.ts): the hash, how a subject expands,
 * which lines expand it (rulesFor), and what the evaluation makes of an account using them: on
 * 2.15.3 the installed subjects decide (an import of `{{account-hash-import()}}` meets the export of
 * `{{account-hash()}}`; one the server cannot expand is left out), on 2.15.2 the subjects as written.
 * The flows themselves are measured in test/integration/account-hash.test.ts.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { accountHash, expandAccountFunctions, installedClaims } from "../../src/core/account-hash.js";
import { AccountDirectory, OperatorTrust } from "../../src/core/directory.js";
import { diagnoseAll } from "../../src/core/index.js";
import { orphanedExports } from "../../src/core/audit/orphaned.js";
import { keyedImports } from "../../src/core/import-key.js";
import { directoryBasis } from "../../src/shell/server-views.js";
import { rulesFor, validateAccount } from "../../src/core/validate.js";
import { activation, TestOperator, nowSec, type TestAccount } from "../support/deployment.js";
import { accountClaims, exportClaim, importClaim, mappingClaim } from "../support/claims.js";

const opts = () => ({ now: nowSec(), expiryWarningSeconds: 7 * 86400 });
const ID = "ABJHLOVMPA4CI6R5KLNGOB4GSLNIY7IOUPAJC4YFNDLQVIOBYQGUWVLA";

describe("accountHash", () => {
  it("is the server's getHash: 8 base-62 digits of SHA-256 (values from a Go program)", () => {
    expect(accountHash(ID)).toBe("I97K7Hsa");
    expect(accountHash("AAAAA")).toBe("HvB0gP6g");
  });
});

describe("expandAccountFunctions", () => {
  const own = { account: ID };
  const inImport = { account: ID, importAccount: "AAAAA" };
  it("replaces each function token by its account's hash, and nothing else", () => {
    expect(expandAccountFunctions("a.{{account-hash()}}.>", own)).toEqual({ ok: true, subject: "a.I97K7Hsa.>" });
    expect(expandAccountFunctions("{{Account-Hash()}}.{{ account-hash-import( ) }}", inImport)).toEqual({
      ok: true,
      subject: "I97K7Hsa.HvB0gP6g",
    });
    // another function, a token that only contains the text, and no function at all stay as written
    for (const s of ["a.{{wildcard(1)}}", "a.x{{account-hash()}}", "a.{{account-hash()}}x", "a.b"])
      expect(expandAccountFunctions(s, own)).toEqual({ ok: true, subject: s });
  });
  it("refuses arguments, and a function the context does not have", () => {
    expect(expandAccountFunctions("a.{{account-hash(x)}}", own).ok).toBe(false);
    expect(expandAccountFunctions("a.{{account-hash(,)}}", own).ok).toBe(false);
    expect(expandAccountFunctions("a.{{account-hash-import()}}", own).ok).toBe(false);
    expect(expandAccountFunctions("a.{{account-hash-leaf-remote()}}", inImport).ok).toBe(false);
  });
});

describe("installedClaims", () => {
  it("is null for an account whose subjects hold no function text", () => {
    const claims = accountClaims({
      subject: ID,
      exports: [exportClaim({ type: "stream", subject: "a.>" })],
      imports: [importClaim({ type: "stream", subject: "b", account: "AAAAA" })],
      mappings: [mappingClaim("m", ["n"])],
    });
    expect(installedClaims(claims)).toBeNull();
  });
  it("leaves out an export or import it cannot expand, and keeps the others' objects where nothing changes", () => {
    const plain = importClaim({ index: 1, type: "stream", subject: "b", account: "AAAAA" });
    const claims = accountClaims({
      subject: ID,
      exports: [
        exportClaim({ type: "stream", subject: "a.{{account-hash()}}" }),
        exportClaim({ index: 1, type: "stream", subject: "c.{{account-hash-import()}}" }),
      ],
      imports: [
        importClaim({ type: "stream", subject: "b.{{account-hash-import()}}", account: "AAAAA" }),
        plain,
        importClaim({ index: 2, type: "stream", subject: "b.{{account-hash(1)}}", account: "AAAAA" }),
      ],
    });
    const installed = installedClaims(claims)!;
    expect(installed.exports.map((e) => e.subject)).toEqual(["a.I97K7Hsa"]);
    expect(installed.imports.map((i) => i.subject)).toEqual(["b.HvB0gP6g", "b"]);
    expect(installed.imports[1]).toBe(plain);
    expect([...installed.skipped.keys()]).toEqual([2]);
  });
});

describe("which lines expand them", () => {
  it("2.14.10 and 2.15.3 on (by source), not 2.14.9, 2.15.2 or older; an unreadable version as the newest", () => {
    const lines = ["2.10.29", "2.12.15", "2.14.9", "2.14.10", "2.15.0", "2.15.2", "2.15.3", "2.16.0", "x"];
    expect(lines.map((v) => [v, rulesFor(v).expandsAccountHash])).toEqual([
      ["2.10.29", false],
      ["2.12.15", false],
      ["2.14.9", false],
      ["2.14.10", true],
      ["2.15.0", false],
      ["2.15.2", false],
      ["2.15.3", true],
      ["2.16.0", true],
      ["x", true],
    ]);
  });
  it("a mapping destination of {{account-hash()}}: 2.15.2 refuses the JWT (no such function), 2.15.3 installs it", () => {
    const claims = accountClaims({ subject: ID, mappings: [mappingClaim("m.a", ["m.{{account-hash()}}"])] });
    expect(validateAccount(claims, rulesFor("2.15.2")).other).toHaveLength(1);
    expect(validateAccount(claims, rulesFor("2.15.3")).other).toEqual([]);
    const importFn = accountClaims({ subject: ID, mappings: [mappingClaim("m.a", ["m.{{account-hash-import()}}"])] });
    expect(validateAccount(importFn, rulesFor("2.15.3")).other).toEqual([
      'mapping "m.a": the server cannot install it ({{account-hash-import()}}: the function is not available here)',
    ]);
  });
});

describe("evaluation of an account using them", () => {
  let op: TestOperator;
  let exp: TestAccount;
  let imp: TestAccount;

  beforeAll(async () => {
    op = await TestOperator.create();
    exp = await op.account("EXP", {
      exports: [
        { subject: "ah.{{account-hash()}}", type: "stream" },
        { subject: "tk.{{account-hash()}}", type: "stream", token_req: true },
        { subject: "sv.{{account-hash()}}.>", type: "service" },
      ],
    });
    imp = await op.account("IMP");
    await imp.reissue({
      imports: [
        { name: "import-fn", account: exp.id, subject: "ah.{{account-hash-import()}}", type: "stream" },
        { name: "own-fn", account: exp.id, subject: "ah.{{account-hash()}}", type: "stream" },
        { name: "argument", account: exp.id, subject: "ah.{{account-hash(1)}}", type: "stream" },
        {
          name: "token as written",
          account: exp.id,
          subject: "tk.{{account-hash-import()}}",
          type: "stream",
          token: await activation(exp, imp.id, "tk.{{account-hash-import()}}", "stream"),
        },
        {
          name: "service",
          account: exp.id,
          subject: "sv.{{account-hash-import()}}.q",
          local_subject: "mine.{{account-hash()}}.q",
          type: "service",
        },
      ],
    });
  });

  const judged = (version: string) => {
    const trust = new OperatorTrust();
    trust.addOperator(op.jwt);
    trust.rules = rulesFor(version);
    const dir = new AccountDirectory(trust);
    for (const a of [op.system, exp, imp]) dir.upsert(a.jwt);
    return { dir, diagnoses: diagnoseAll(dir, opts(), [imp.id]) };
  };

  it("on 2.15.3, by the subjects installed", () => {
    const { diagnoses } = judged("2.15.3");
    expect(diagnoses.map((d) => `${d.name}: ${d.cause ?? d.status}`)).toEqual([
      "import-fn: active",
      "own-fn: export_not_found",
      "argument: import_invalid",
      "token as written: activation_invalid",
      "service: active",
    ]);
    // the report keeps the subject as written, and its message names the one the server installs
    const own = diagnoses[1]!;
    expect(own.subject).toBe("ah.{{account-hash()}}");
    expect(own.message).toContain(`"ah.${accountHash(imp.id)}"`);
    expect(diagnoses[2]!.message).toContain("{{account-hash(1)}}: the function takes no arguments");
    expect(diagnoses[3]!.message).toContain(`"tk.${accountHash(exp.id)}"`);
  });

  it("on 2.15.2, by the subjects as written", () => {
    const { diagnoses } = judged("2.15.2");
    expect(diagnoses.map((d) => `${d.name}: ${d.cause ?? d.status}`)).toEqual([
      "import-fn: export_not_found",
      "own-fn: active",
      "argument: export_not_found",
      "token as written: export_not_found",
      "service: export_not_found",
    ]);
  });

  it("the live service looks for the import in the servers' INFO under the subjects they installed", () => {
    const { dir, diagnoses } = judged("2.15.3");
    const basis = directoryBasis(dir);
    const keys = keyedImports(imp.id, dir.get(imp.id)!.claims!.imports).map(([key]) => key);
    const service = diagnoses[4]!;
    expect(basis.exporterSubject(service, keys[4])).toBe(`sv.${accountHash(exp.id)}.q`);
    expect(basis.localSubject(keys[4]!, service)).toBe(`mine.${accountHash(imp.id)}.q`);
    // without the key (or on a line that does not expand them), the subject as written
    expect(basis.exporterSubject(service)).toBe("sv.{{account-hash-import()}}.q");
    expect(directoryBasis(judged("2.15.2").dir).exporterSubject(service, keys[4])).toBe(
      "sv.{{account-hash-import()}}.q",
    );
  });

  it("a change of line expands again (recheckTrust), and the orphaned-exports audit reads the installed exports", () => {
    const { dir } = judged("2.15.2");
    // as written, only "own-fn" meets an export
    expect(orphanedExports(dir, exp.id).orphaned.map((o) => o.subject)).toEqual([
      "tk.{{account-hash()}}",
      "sv.{{account-hash()}}.>",
    ]);
    dir.trust.rules = rulesFor("2.15.3");
    dir.recheckTrust();
    expect(diagnoseAll(dir, opts(), [imp.id])[0]!.status).toBe("active");
    // installed, "import-fn", "token as written" (its token aside) and "service" meet one each
    expect(orphanedExports(dir, exp.id).orphaned).toEqual([]);
  });
});
