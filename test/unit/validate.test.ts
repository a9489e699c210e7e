/**
 * Account JWT validation rule by rule, each one as nats-io/jwt v2.8 (nats-server 2.15.2) states it:
 * Import.Validate, RenamingSubject.Validate, Export.Validate, Account.Validate's limits. Every rule
 * is checked on both sides of its line (what it refuses and the neighbour it accepts), which is what
 * the mutation run found missing (docs/decisions.md 26).
 */
import { describe, expect, it } from "vitest";
import { Prefix } from "@nats-io/nkeys";
import { Codec } from "@nats-io/nkeys/lib/codec.js";
import type {
  AccountClaims,
  ActivationClaims,
  ExportClaim,
  ImportClaim,
  MappingClaim,
} from "../../src/core/jwt/claims.js";
import {
  activationIssues,
  importIssues,
  rulesFor,
  timeProblem,
  validateAccount,
  validateOnLines,
} from "../../src/core/validate.js";
import { accountClaims, importClaim, exportClaim } from "../support/claims.js";
import { signClaims } from "../support/deployment.js";
import { identityPointSigner } from "../support/fast-keys.js";

const IMPORTER = "AD6LE5XKCEAM4WPC5WAKHDI4XLCYSDZET2YHF5YIE7RJAQJX4VUF6KEZ";
const SOURCE = "ABBPVMW3SP3XY3UY4KPOCUZX57YXVBRS2RMATBOAZ5BBISGGIOI57MGC";

const imp = (over: Partial<ImportClaim> = {}): ImportClaim =>
  importClaim({ type: "stream", subject: "a.b", account: SOURCE, ...over });

const exp = (over: Partial<ExportClaim> = {}): ExportClaim => exportClaim({ type: "stream", subject: "a.b", ...over });

const account = (over: Partial<AccountClaims> = {}): AccountClaims => accountClaims({ subject: IMPORTER, ...over });

const act = (over: Partial<ActivationClaims> = {}): ActivationClaims => ({
  issuer: SOURCE,
  subject: IMPORTER,
  name: "",
  issuedAt: 0,
  expires: 0,
  notBefore: 0,
  issuerAccount: null,
  importSubject: "a.b",
  kind: "stream",
  ...over,
});

const messages = (i: ImportClaim) => importIssues(i, IMPORTER).map((x) => x.message);
const exportProblems = (...exports: ExportClaim[]) => validateAccount(account({ exports })).other;

describe("Import.Validate", () => {
  it("allow_trace is refused on a service import only", () => {
    expect(messages(imp({ type: "service", allowTrace: true }))).toEqual([
      "allow_trace is only valid for a stream import",
    ]);
    expect(messages(imp({ type: "stream", allowTrace: true }))).toEqual([]);
    expect(messages(imp({ type: "service" }))).toEqual([]);
  });

  it("an import type other than stream or service is refused", () => {
    expect(messages(imp({ type: "services" }))).toEqual(['invalid import type "services"']);
  });

  it("share is refused on a stream import only", () => {
    expect(messages(imp({ share: true }))).toEqual(["share (latency tracking) is only valid for a service import"]);
    expect(messages(imp({ type: "service", share: true }))).toEqual([]);
  });

  it("local_subject and to together are refused", () => {
    expect(messages(imp({ type: "service", localSubject: "l.b", to: "x.b" }))).toEqual([
      "local_subject replaces to; both are set",
    ]);
    expect(messages(imp({ type: "service", to: "x.b" }))).toEqual([]);
  });
});

describe("Import.Validate: the account and the subjects", () => {
  it("an import without an account, or with an invalid subject or local subject, is refused", () => {
    expect(messages(imp({ account: "" }))).toEqual(["the account to import from is not specified"]);
    expect(messages(imp({ subject: "a..b" })).length).toBeGreaterThan(0);
    expect(messages(imp({ type: "service", localSubject: "l..b" })).some((m) => m.startsWith("local_subject: "))).toBe(
      true,
    );
  });

  it("a token that does not decode is an issue about the token", () => {
    expect(importIssues(imp({ token: "garbage" }), IMPORTER)).toEqual([
      { message: "the activation token does not decode: expected 3 chunks", aboutToken: true },
    ]);
  });

  it("a token granting an invalid subject, or not the import's, says so", () => {
    expect(activationIssues(imp(), act({ importSubject: "a..b" }), IMPORTER).join("\n")).toMatch(
      /^the token's subject: /m,
    );
    expect(activationIssues(imp(), act({ importSubject: "x.>" }), IMPORTER)).toEqual([
      'the token grants "x.>", which does not contain the import subject "a.b"',
    ]);
  });
});

describe("RenamingSubject.Validate: a local subject refers to each * of the subject once", () => {
  const local = (subject: string, localSubject: string) => messages(imp({ type: "service", subject, localSubject }));

  it.each([
    ["a.*", "l.*"],
    ["a.*", "l.$1"],
    ["a.*.*", "l.$2.$1"],
    ["*", "l.$1"],
    ["a.*", "l.$+1"], // strconv.Atoi takes a sign
    ["a.*", "l.$0"], // $0 is not past the count, so it counts
    ["a.*.>", "l.$1.>"],
    ["a.b", "l.b"],
    ["a.>", ">"],
    ["a.*", "l.$01"], // Atoi reads 01 as 1
    // Atoi refuses a number past int64: no reference but an ordinary token (jwt and the server
    // accept the JWT and honour the import: test/integration/atoi-overflow.test.ts)
    ["a.*", "l.*.$99999999999999999999"],
    ["a.*", "l.*.$9223372036854775808"],
    ["a.*", "l.*.$-9223372036854775809"],
    ["a.*", "l.$-9223372036854775808"], // the smallest int64 is a reference, not past the count
  ])("%s as %s is accepted", (subject, localSubject) => {
    expect(local(subject, localSubject)).toEqual([]);
  });

  it.each([
    ["a.*", "l.b", /does not refer to each \*/],
    ["a.*", "l.$2", /reference \$2 .* does not have/],
    ["a.*", "l.$1.$1", /does not refer to each \*/],
    ["a.*", "l.$", /does not refer to each \*/], // too short to be a reference
    ["a.*", "l.$1x", /does not refer to each \*/], // not a number
    ["a.*", "l.x1", /does not refer to each \*/], // no $
    ["a.*", "l.$x1", /does not refer to each \*/], // not a number after the $
    ["a.*", "l.$1.*", /does not refer to each \*/],
    ["a.*", "l.*.$9223372036854775807", /reference \$9223372036854775807 .* does not have/], // the largest int64
    ["a.*", "l.$-9223372036854775809", /does not refer to each \*/], // past int64: no reference
    ["a.b", "l.$1", /reference \$1 .* does not have/],
    ["a.*.c", "l.*.>", /must both end in >/],
    ["a.>", "l.b", /must both end in >/],
  ])("%s as %s is refused", (subject, localSubject, error) => {
    const issues = local(subject, localSubject);
    expect(issues.length).toBeGreaterThan(0);
    expect(issues.every((m) => m.startsWith("local_subject: "))).toBe(true);
    expect(issues.join("\n")).toMatch(error);
  });

  it("an out-of-range reference is one error, not also a missing one when a * covers the count", () => {
    expect(local("a.*", "l.*.$2")).toEqual([
      'local_subject: reference $2 in "l.*.$2" names a * that "a.*" does not have',
    ]);
  });
});

describe("an activation token against its import", () => {
  it("the token's kind must be the import's type", () => {
    expect(activationIssues(imp({ type: "service" }), act({ kind: "stream" }), IMPORTER)).toEqual([
      "the token is for a stream import, this import is a service",
    ]);
    expect(activationIssues(imp({ type: "service" }), act({ kind: "service" }), IMPORTER)).toEqual([]);
  });

  it("a token without kind fails both the type match and the kind check", () => {
    expect(activationIssues(imp(), act({ kind: "" }), IMPORTER)).toEqual([
      "the token is for a (no kind) import, this import is a stream",
      'the token\'s kind "" is invalid',
    ]);
  });

  it("a token issued by a signing key counts as the source's when its issuer_account is the source", () => {
    const signer = "AAXAVOLOMHMZMHCP5V2TGBP2NSGCRGNYVDNWOKJVOEKYJ23C32PIYLXK";
    expect(activationIssues(imp(), act({ issuer: signer, issuerAccount: SOURCE }), IMPORTER)).toEqual([]);
    expect(activationIssues(imp(), act({ issuer: signer, issuerAccount: null }), IMPORTER)).toEqual([
      `the token was issued by ${signer}, not by the source account ${SOURCE}`,
    ]);
  });

  it("an issuer_account that is not an account key is refused", () => {
    const notAnAccount = "OBDDEOZ4OTZTLYLNPPSN7KZSGSS67Y4YZ7RYVHL2WFAVOVJCWOOUC63L";
    expect(activationIssues(imp(), act({ issuerAccount: notAnAccount }), IMPORTER)).toContain(
      "the token's issuer_account is not an account public key",
    );
  });

  it("a service import's token must grant its to subject, not its local one", () => {
    const i = imp({ type: "service", subject: "local.b", to: "remote.b" });
    expect(activationIssues(i, act({ kind: "service", importSubject: "remote.*" }), IMPORTER)).toEqual([]);
    expect(activationIssues(i, act({ kind: "service", importSubject: "local.*" }), IMPORTER)).toHaveLength(1);
    // a stream's to is a prefix: the token grants its subject
    const s = imp({ subject: "s.b", to: "p" });
    expect(activationIssues(s, act({ importSubject: "s.b" }), IMPORTER)).toEqual([]);
  });
});

describe("Export.Validate", () => {
  it.each(["Singleton", "Stream", "Chunked"])("a service export may answer %s", (responseType) => {
    expect(exportProblems(exp({ type: "service", responseType }))).toEqual([]);
  });

  it("a service export's unknown response type is refused", () => {
    expect(exportProblems(exp({ type: "service", responseType: "Single" }))).toEqual([
      'export "a.b": invalid response type "Single"',
    ]);
  });

  it("a stream export has no response type and no allow_trace; a service export may trace", () => {
    expect(exportProblems(exp({ responseType: "Stream" }))).toEqual([
      'export "a.b": a stream export has no response type',
    ]);
    expect(exportProblems(exp({ allowTrace: true }))).toEqual([
      'export "a.b": allow_trace is only valid for a service export',
    ]);
    expect(exportProblems(exp({ type: "service", allowTrace: true }))).toEqual([]);
  });

  it("a stream export's response type is refused as such, whatever its value", () => {
    expect(exportProblems(exp({ responseType: "Bogus" }))).toEqual([
      'export "a.b": a stream export has no response type',
    ]);
  });

  it("an invalid export subject is refused", () => {
    expect(exportProblems(exp({ subject: "a..b" })).every((m) => m.startsWith('export "a..b": '))).toBe(true);
    expect(exportProblems(exp({ subject: "a..b" })).length).toBeGreaterThan(0);
  });

  it("exports of one type must not contain each other; of the two types they may", () => {
    expect(exportProblems(exp({ subject: "a.>" }), exp({ index: 1, subject: "a.b" }))).toEqual([
      'stream export subject "a.>" already exports "a.b"',
    ]);
    expect(
      exportProblems(exp({ type: "service", subject: "a.>" }), exp({ index: 1, type: "service", subject: "a.b" })),
    ).toEqual(['service export subject "a.>" already exports "a.b"']);
    expect(exportProblems(exp({ subject: "a.>" }), exp({ index: 1, type: "service", subject: "a.b" }))).toEqual([]);
  });

  it("an export type other than stream or service is refused", () => {
    expect(exportProblems(exp({ type: "" }))).toEqual(['export "a.b": invalid export type ""']);
  });

  it.each([
    ["a.*", 2, null],
    ["*.>", 1, null],
    ["a.b", 1, /needs a wildcard subject/],
    ["a.*", 3, /exceeds the subject's length/],
    ["a.*", 1, /must point at a '\*'/],
    ["a.>", 2, /must point at a '\*'/],
  ])("account_token_position on %s at %i", (subject, accountTokenPosition, error) => {
    const problems = exportProblems(exp({ subject, accountTokenPosition }));
    if (error === null) expect(problems).toEqual([]);
    else expect(problems).toEqual([expect.stringMatching(error)]);
  });
});

describe("Account.Validate's limits", () => {
  const wildcard = exp({ subject: "a.*" });
  const limits = (l: Partial<AccountClaims["limits"]>) => ({
    limits: { imports: -1, exports: -1, wildcardExports: false, jetStream: false, blankTier: false, ...l },
  });

  it("wildcard exports are refused only under an export limit that does not allow them", () => {
    const problem = "the account has wildcard exports, which the operator does not allow";
    expect(validateAccount(account({ exports: [wildcard], ...limits({ exports: 5 }) })).other).toEqual([problem]);
    // -1: the operator set no export limit at all, and jwt skips the wildcard check with it
    expect(validateAccount(account({ exports: [wildcard], ...limits({ exports: -1 }) })).other).toEqual([]);
    expect(
      validateAccount(account({ exports: [wildcard], ...limits({ exports: 5, wildcardExports: true }) })).other,
    ).toEqual([]);
    expect(validateAccount(account({ exports: [exp()], ...limits({ exports: 5 }) })).other).toEqual([]);
    // one wildcard export among literal ones is enough
    const mixed = [exp(), exp({ index: 1, subject: "b.*" })];
    expect(validateAccount(account({ exports: mixed, ...limits({ exports: 5 }) })).other).toEqual([problem]);
  });

  it("the import and export counts may reach their limits, not pass them", () => {
    const two = [imp(), imp({ index: 1, subject: "a.c" })];
    expect(validateAccount(account({ imports: two, ...limits({ imports: 2 }) })).other).toEqual([]);
    expect(validateAccount(account({ imports: two, ...limits({ imports: 1 }) })).other).toEqual([
      "the account has 2 imports, more than the operator allows (1)",
    ]);
    const exports = [exp(), exp({ index: 1, subject: "a.c" })];
    const allow = { wildcardExports: true };
    expect(validateAccount(account({ exports, ...limits({ exports: 2, ...allow }) })).other).toEqual([]);
    expect(validateAccount(account({ exports, ...limits({ exports: 1, ...allow }) })).other).toEqual([
      "the account has 2 exports, more than the operator allows (1)",
    ]);
  });

  it("a plain signing key must be an account key; a scoped one is checked elsewhere", () => {
    const user = "UAVOV3YMPVCCKKIDSDSIPOSMTGE2IN2YZNAXPPFRJ645J7ELJKFLJXFP";
    expect(validateAccount(account({ signingKeys: new Map([[user, "plain"]]) })).other).toEqual([
      `"${user}" is not a valid account signing key`,
    ]);
    expect(validateAccount(account({ signingKeys: new Map([[SOURCE, "plain"]]) })).other).toEqual([]);
  });
});

describe("overlapping service imports", () => {
  const svc = (index: number, subject: string, account = SOURCE, over: Partial<ImportClaim> = {}) =>
    imp({ index, type: "service", subject, account, ...over });
  const OTHER = "AAR5PCOQWLFHUOW7T577WRTALEIPPZWHZNTAID2JYYH3L3KB4XQ43JFW";

  it("the later of two overlapping service imports from one account is refused, streams never", () => {
    const v = validateAccount(account({ imports: [svc(0, "a.*"), svc(1, "a.b")] }));
    expect([...v.imports.keys()]).toEqual([1]);
    expect(v.imports.get(1)![0]!.message).toMatch(/"a.b" overlaps "a.\*" imported from the same account/);
    expect(validateAccount(account({ imports: [imp({ subject: "a.*" }), imp({ index: 1 })] })).imports.size).toBe(0);
  });

  it("the local name is what overlaps: to, then local_subject, then the subject", () => {
    const byTo = [svc(0, "x.b", SOURCE, { to: "t.b" }), svc(1, "y.b", SOURCE, { to: "t.b" })];
    expect(validateAccount(account({ imports: byTo })).imports.size).toBe(1);
    const distinctLocal = [
      svc(0, "a.b", SOURCE, { localSubject: "l.b" }),
      svc(1, "a.b", SOURCE, { localSubject: "m.b" }),
    ];
    expect(validateAccount(account({ imports: distinctLocal })).imports.size).toBe(0);
  });

  it("from different accounts: refused before jwt v2.8.1 (measured: 2.10.20, 2.10.29, 2.11.4, 2.12.4 refuse; 2.11.17, 2.12.15 accept)", () => {
    const imports = [svc(0, "a.b"), svc(1, "a.b", OTHER)];
    expect(validateAccount(account({ imports })).imports.size).toBe(0);
    for (const version of ["2.10.20", "2.10.29", "2.11.4", "2.11.14", "2.12.4"]) {
      const old = validateAccount(account({ imports }), rulesFor(version));
      expect([...old.imports.keys()]).toEqual([1]);
      expect(old.imports.get(1)![0]!.message).toMatch(/servers before 2\.12\.6/);
    }
    for (const version of ["2.11.15", "2.11.17", "2.12.15"])
      expect(validateAccount(account({ imports }), rulesFor(version)).imports.size).toBe(0);
  });
});

describe("rulesFor: the server line decides", () => {
  // From 2.12 on by each release's go.mod and source (jwt v2.8.0 in 2.12.0-2.12.5, v2.8.1 from
  // 2.12.6; left and right from 2.14.7 and 2.15.0; validateAccountClaimMappings from 2.14.8 and
  // 2.15.2; nkeys v0.4.17, and the account-hash functions, from 2.14.10 and 2.15.3), measured on 2.12.4, 2.12.15, 2.14.10, 2.15.2, 2.15.3.
  // Before 2.12: the int32 bound from 2.11.8 (97dbe4d), jwt v2.8.1 from 2.11.15; measured on 2.10.20,
  // 2.10.29, 2.11.4 and 2.11.17.
  it.each([
    ["2.10.20", false, false, "2.10", true, false, false, false],
    ["2.10.23", false, false, "2.10", true, false, false, false],
    ["2.10.24", false, false, "2.10", true, false, true, false],
    ["2.10.29", false, false, "2.10", true, false, true, false],
    ["2.11.4", false, false, "2.10", true, false, true, false],
    ["2.11.7", false, false, "2.10", true, false, true, false],
    ["2.11.8", false, false, "2.11.8", true, false, true, false],
    ["v2.11.9", false, false, "2.11.8", true, false, true, false],
    ["2.11.14", false, false, "2.11.8", true, false, true, false],
    ["2.11.15", true, false, "2.11.8", true, false, true, false],
    ["2.11.17", true, false, "2.11.8", true, false, true, false],
    ["1.4.0", false, false, "2.10", true, false, false, false],
    ["2.12.0", false, false, "2.12", true, false, true, false],
    ["2.12.4", false, false, "2.12", true, false, true, false],
    ["2.12.5", false, false, "2.12", true, false, true, false],
    ["2.12.6", true, false, "2.12", false, false, true, false],
    ["2.12.15", true, false, "2.12", false, false, true, false],
    ["2.13.0", true, false, "2.12", false, false, true, false], // never released: read as 2.14.0
    ["2.14.0", true, false, "2.12", false, false, true, false],
    ["2.14.6", true, false, "2.12", false, false, true, false],
    ["2.14.7", true, false, "2.15.2", false, false, true, false],
    ["2.14.8", true, true, "2.15.2", false, false, true, false],
    ["2.14.9", true, true, "2.15.2", false, false, true, false],
    ["2.14.10", true, true, "2.15.2", false, true, true, true],
    ["v2.14.11-RC.1", true, true, "2.15.2", false, true, true, true],
    ["2.15.0", true, false, "2.15.2", false, false, true, false],
    ["2.15.1", true, false, "2.15.2", false, false, true, false],
    ["2.15.2", true, true, "2.15.2", false, false, true, false],
    ["2.15.3", true, true, "2.15.2", false, true, true, true],
    ["2.16.0", true, true, "2.15.2", false, true, true, true],
    ["3.0.0", true, true, "2.15.2", false, true, true, true],
    ["2.15.10", true, true, "2.15.2", false, true, true, true],
    ["10.0.0", true, true, "2.15.2", false, true, true, true],
    ["release-2.10.0", true, true, "2.15.2", false, true, true, true], // not a version at its start: the current rules
    ["", true, true, "2.15.2", false, true, true, true],
    [null, true, true, "2.15.2", false, true, true, true],
    ["nonsense", true, true, "2.15.2", false, true, true, true],
  ])(
    "%s",
    (version, perSource, refusesMappings, mappingFunctions, keepsNarrowing, keys32, clusterTraffic, accountHash) => {
      expect(rulesFor(version)).toEqual({
        serviceOverlapPerSourceAccount: perSource,
        refusesUninstallableMappings: refusesMappings,
        mappingFunctions,
        cycleWalkKeepsNarrowing: keepsNarrowing,
        mappingWeightsInUint8: expect.any(Boolean),
        signingKeysNeed32Bytes: keys32,
        checksClusterTraffic: clusterTraffic,
        expandsAccountHash: accountHash,
      });
    },
  );

  it('cluster_traffic other than "", system or owner, or not a string: refused from 2.10.24 (jwt v2.7.3)', () => {
    const issue = (clusterTrafficIssue: string | undefined, v: string) =>
      validateAccount(account(clusterTrafficIssue ? { clusterTrafficIssue } : {}), rulesFor(v)).other;
    expect(issue('unknown cluster traffic option: "bogus"', "2.10.29")).toEqual([
      'unknown cluster traffic option: "bogus"',
    ]);
    expect(issue('unknown cluster traffic option: "bogus"', "2.10.23")).toEqual([]);
    expect(issue(undefined, "2.15.3")).toEqual([]);
  });

  it("service imports of two source accounts overlapping: refused before 2.12.6 (jwt v2.8.0), not after", () => {
    const svc = (index: number, subject: string, account: string) =>
      importClaim({ type: "service", subject, account, index });
    const imports = [svc(0, "a.>", SOURCE), svc(1, "a.b", IMPORTER)];
    const refused = (v: string) => validateAccount(account({ imports }), rulesFor(v)).imports.has(1);
    expect(["2.12.4", "2.12.5", "2.12.6", "2.14.10"].map(refused)).toEqual([true, true, false, false]);
  });

  it("an account signing key of 16, 31 or 33 bytes, or of small order: refused from 2.14.10 and 2.15.3", () => {
    const keyOf = (raw: Uint8Array) => new TextDecoder().decode(Codec.encode(Prefix.Account, raw));
    const keys = [
      keyOf(new Uint8Array(16).fill(7)),
      keyOf(new Uint8Array(31).fill(7)),
      keyOf(new Uint8Array(33).fill(7)),
      keyOf(new Uint8Array(32)), // 0: small order
      keyOf(Uint8Array.from({ length: 32 }, (_, i) => (i === 0 ? 1 : i === 31 ? 0x80 : 0))), // 1, sign bit set
      keyOf(Uint8Array.from({ length: 32 }, (_, i) => (i === 0 ? 0xed : i === 31 ? 0xff : 0xff))), // p, sign bit set
    ];
    const whole = keyOf(new Uint8Array(32).fill(7));
    const stored = (key: string, v: string) =>
      validateAccount(account({ signingKeys: new Map([[key, "plain" as const]]) }), rulesFor(v)).other.length === 0;
    for (const key of keys)
      expect(["2.15.2", "2.14.9", "2.15.3", "2.14.10"].map((v) => stored(key, v))).toEqual([true, true, false, false]);
    expect(["2.15.2", "2.15.3"].map((v) => stored(whole, v))).toEqual([true, true]);
  });

  it("servers of several lines: what any of them refuses is refused, each issue said once", () => {
    const svc = (index: number, subject: string, from: string) =>
      importClaim({ type: "service", subject, account: from, index });
    const claims = account({
      imports: [svc(0, "a.>", SOURCE), svc(1, "a.b", IMPORTER)],
      signingKeys: new Map([
        [new TextDecoder().decode(Codec.encode(Prefix.Account, new Uint8Array(31).fill(7))), "plain"],
      ]),
    });
    const onLines = (...versions: string[]) => {
      const v = validateOnLines(claims, versions.map(rulesFor));
      return { overlap: v.imports.has(1), other: v.other.length };
    };
    expect(onLines("2.12.4")).toEqual({ overlap: true, other: 0 });
    expect(onLines("2.15.3")).toEqual({ overlap: false, other: 1 });
    expect(onLines("2.12.4", "2.15.3")).toEqual({ overlap: true, other: 1 });
    expect(onLines("2.15.3", "2.14.10")).toEqual({ overlap: false, other: 1 });
  });
});

describe("a token signed by a key of small order (the identity point: R = identity, S = 0 verifies as Go does)", () => {
  const forger = identityPointSigner();
  const identity = forger.getPublicKey();

  it("decodes where nkeys hands it to Go's ed25519 (to 2.15.2); nkeys v0.4.17 refuses the key (2.14.10, 2.15.3)", async () => {
    const token = await signClaims(
      {
        name: "a.b",
        sub: IMPORTER,
        iss: identity,
        nats: { subject: "a.b", issuer_account: SOURCE, kind: "service", type: "activation", version: 2 },
      },
      forger,
    );
    const imports = [imp({ type: "service", token })];
    const refusal = (v: string) => validateAccount(account({ imports }), rulesFor(v)).imports.get(0)?.[0]?.message;
    expect(["2.10.29", "2.12.15", "2.15.2", "2.14.9"].map(refusal)).toEqual([
      undefined,
      undefined,
      undefined,
      undefined,
    ]);
    for (const v of ["2.15.3", "2.14.10"])
      expect(refusal(v)).toBe(
        `the activation token does not decode: its issuer ${identity} is a key of small order, which nkeys v0.4.17 refuses`,
      );
  });
});

describe("mapping weights: jwt v2.8.1 checks each weight and each sum, before it sums in a uint8", () => {
  /** A mapping of m.a: [subject, weight as written (0: absent), cluster]. */
  const mapping = (...dests: [string, number, string?][]): MappingClaim => ({
    source: "m.a",
    destinations: dests.map(([subject, written, cluster]) => ({
      subject,
      weight: written || 100,
      written,
      cluster: cluster ?? null,
    })),
  });
  const stored = (m: MappingClaim, version: string) =>
    validateAccount(account({ mappings: [m] }), rulesFor(version)).other.length === 0;

  it.each([
    ["2.10.29", true],
    ["v2.11.14", true],
    ["2.11.15", false],
    ["1.4.0", true],
    ["1.11.15", true], // only a 2.11 from .15 on
    ["3.12.5", false], // only a 2.12 before .6
    ["2.12.5", true],
    ["2.12.6", false],
    ["2.12.15", false],
    ["2.15.2", false],
    [null, false],
  ])("%s sums in a uint8: %s (go.mod: jwt v2.8.1 from 2.11.15 and 2.12.6)", (version, uint8) => {
    expect(rulesFor(version).mappingWeightsInUint8).toBe(uint8);
  });

  // Which line stores the JWT: measured on 2.10.29, 2.12.15 and 2.15.2 (test/integration/account-validation.test.ts).
  it.each([
    ["two of 50", mapping(["m.b", 50], ["m.c", 50]), true, true],
    ["one of 150", mapping(["m.b", 150]), false, false],
    ["two without a weight (200)", mapping(["m.b", 0], ["m.c", 0]), false, false],
    ["three without a weight (300: 44 in a uint8)", mapping(["m.b", 0], ["m.c", 0], ["m.d", 0]), true, false],
    ["200 and 100 (44 in a uint8)", mapping(["m.b", 200], ["m.c", 100]), true, false],
    ["two of one cluster without a weight (0 as written)", mapping(["m.b", 0, "c1"], ["m.c", 0, "c1"]), true, false],
    ["two of one cluster of 60", mapping(["m.b", 60, "c1"], ["m.c", 60, "c1"]), false, false],
    ["60 in two clusters", mapping(["m.b", 60, "c1"], ["m.c", 60, "c2"]), true, true],
  ])("%s: stored by 2.10.29 %s, by 2.12.15 %s", (_, m, old, current) => {
    expect([stored(m, "2.10.29"), stored(m, "2.12.15")]).toEqual([old, current]);
  });

  it("in a uint8, the sum outside clusters is checked at the end, a cluster's as it grows", () => {
    expect(stored(mapping(["m.b", 100]), "2.10.29")).toBe(true);
    expect(stored(mapping(["m.b", 101]), "2.10.29")).toBe(false);
    // 356 is 100 in a uint8, 357 is 101
    expect(stored(mapping(["m.b", 0], ["m.c", 0], ["m.d", 0], ["m.e", 56]), "2.10.29")).toBe(true);
    expect(stored(mapping(["m.b", 0], ["m.c", 0], ["m.d", 0], ["m.e", 57]), "2.10.29")).toBe(false);
    // a cluster at 200 after its first destination is refused, though 200 + 100 is 44 in a uint8
    expect(stored(mapping(["m.b", 200, "c1"], ["m.c", 100, "c1"]), "2.10.29")).toBe(false);
    expect(stored(mapping(["m.b", 100, "c1"], ["m.c", 0, "c1"], ["m.d", 0, "c2"]), "2.10.29")).toBe(true);
    // each cluster apart from the rest
    expect(stored(mapping(["m.b", 100, "c1"], ["m.c", 100]), "2.10.29")).toBe(true);
    expect(stored(mapping(["m.b", 100, "c1"], ["m.c", 100]), "2.12.15")).toBe(true);
  });

  it("names the mapping in a subject's error, its source's or a destination's", () => {
    const bad: MappingClaim = {
      source: "m..a",
      destinations: [{ subject: "m..b", weight: 100, written: 0, cluster: null }],
    };
    const other = validateAccount(account({ mappings: [bad] })).other;
    expect(other.filter((e) => e.startsWith("mapping: "))).toHaveLength(1);
    expect(other.filter((e) => e.startsWith('mapping "m..a": '))).toHaveLength(1);
    expect(other.every((e) => e.length > 'mapping "m..a": '.length)).toBe(true);
  });

  it("names the mapping, and the cluster whose sum is over", () => {
    const issues = (m: MappingClaim, version: string) =>
      validateAccount(account({ mappings: [m] }), rulesFor(version)).other;
    const over = mapping(["m.b", 60, "c1"], ["m.c", 60, "c1"], ["m.d", 0], ["m.e", 60]);
    const expected = [
      'mapping "m.a" in cluster "c1" exceeds 100% among its weighted destinations',
      'mapping "m.a" exceeds 100% among its weighted destinations',
    ];
    expect(issues(over, "2.10.29")).toEqual(expected);
    expect(issues(over, "2.12.15")).toEqual(expected);
    expect(issues(mapping(["m.b", 150]), "2.12.15")).toEqual([
      'mapping "m.a" has a weight 150 that exceeds 100',
      'mapping "m.a" exceeds 100% among its weighted destinations',
    ]);
  });
});

describe("signing keys: jwt asks nkeys for a valid encoding, whatever the number of bytes (before nkeys v0.4.17)", () => {
  const keyOf = (n: number) => new TextDecoder().decode(Codec.encode(Prefix.Account, new Uint8Array(n).fill(7)));
  const other = (key: string, kind: "plain" | "scoped" = "plain", version = "2.15.2") =>
    validateAccount(account({ signingKeys: new Map([[key, kind]]) }), rulesFor(version)).other;

  it.each([16, 31, 32, 33])("a key of %i bytes passes (measured: every line to 2.15.2 stores the JWT)", (n) => {
    expect(other(keyOf(n))).toEqual([]);
  });

  it("a bad checksum, another role's prefix or a key past 1,024 characters does not", () => {
    const bad = keyOf(32).slice(0, -1) + "A";
    const user = new TextDecoder().decode(Codec.encode(Prefix.User, new Uint8Array(32).fill(7)));
    for (const key of [bad, user, keyOf(700), ""])
      expect(other(key)).toEqual([`"${key}" is not a valid account signing key`]);
    expect(keyOf(630).length).toBeLessThanOrEqual(1024);
    expect(other(keyOf(630))).toEqual([]);
  });

  it("a user scope's key too (UserScope.Validate; measured)", () => {
    expect(other("not-a-key", "scoped")).toEqual(['"not-a-key" is not a valid account signing key']);
    expect(other(keyOf(16), "scoped")).toEqual([]);
  });

  it("from nkeys v0.4.17 (2.14.10, 2.15.3; measured) only a key of 32 bytes passes, a user scope's too", () => {
    for (const kind of ["plain", "scoped"] as const) {
      for (const n of [16, 31, 33, 630])
        expect(other(keyOf(n), kind, "2.15.3")).toEqual([`"${keyOf(n)}" is not a valid account signing key`]);
      expect(other(keyOf(32), kind, "2.15.3")).toEqual([]);
    }
  });
});

describe("tiered JetStream limits", () => {
  it('a tier named "" is refused on every line (measured); untiered limits beside tiers are not (jwt clears them)', () => {
    const limits = { imports: -1, exports: -1, wildcardExports: true, jetStream: true };
    expect(validateAccount(account({ limits: { ...limits, blankTier: true } })).other).toEqual([
      'the JetStream limits name a tier "", which jwt refuses',
    ]);
    expect(
      validateAccount(account({ limits: { ...limits, blankTier: true } }), rulesFor("2.10.29")).other,
    ).toHaveLength(1);
    expect(validateAccount(account({ limits: { ...limits, blankTier: false } })).other).toEqual([]);
  });
});

describe("timeProblem: exp is expired at its second, nbf valid from its second", () => {
  it.each([
    [{ expires: 100, notBefore: 0 }, 99, null],
    [{ expires: 100, notBefore: 0 }, 100, "expired"],
    [{ expires: 0, notBefore: 0 }, 1e10, null],
    [{ expires: 0, notBefore: 100 }, 99, "not_yet_valid"],
    [{ expires: 0, notBefore: 100 }, 100, null],
    [{ expires: 50, notBefore: 100 }, 99, "expired"],
  ])("%o at %i", (claims, now, problem) => {
    expect(timeProblem(claims, now)).toBe(problem);
  });
});

describe("Subject.Validate and HasWildCards, as an import and an export report them", () => {
  it("each error of a subject is its own message, in jwt's order, naming the subject", () => {
    expect(messages(imp({ subject: "" }))).toEqual(["subject cannot be empty"]);
    expect(messages(imp({ subject: "a b" }))).toEqual(['subject "a b" cannot have spaces']);
    expect(messages(imp({ subject: ".a" }))).toEqual([`subject ".a" cannot start or end with a '.'`]);
    expect(messages(imp({ subject: "a." }))).toEqual([`subject "a." cannot start or end with a '.'`]);
    expect(messages(imp({ subject: "a..b" }))).toEqual([`subject "a..b" cannot contain consecutive '.'`]);
    expect(messages(imp({ subject: " a..b." }))).toEqual([
      'subject " a..b." cannot have spaces',
      `subject " a..b." cannot start or end with a '.'`,
      `subject " a..b." cannot contain consecutive '.'`,
    ]);
    expect(messages(imp({ subject: "a.b" }))).toEqual([]);
  });

  it("a wildcard is a whole token: svc.a* has none, for the token position and the operator's limit", () => {
    expect(exportProblems(exp({ subject: "svc.a*", accountTokenPosition: 2 }))).toEqual([
      'export "svc.a*": account_token_position needs a wildcard subject',
    ]);
    const limited = { imports: -1, exports: 5, wildcardExports: false, jetStream: false, blankTier: false };
    expect(validateAccount(account({ exports: [exp({ subject: "svc.a*" })], limits: limited })).other).toEqual([]);
    expect(validateAccount(account({ exports: [exp({ subject: "svc.>" })], limits: limited })).other).toEqual([
      "the account has wildcard exports, which the operator does not allow",
    ]);
  });
});
