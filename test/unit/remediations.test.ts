/**
 * The remediation branches the scenario catalogue does not reach: a service revoked, a private
 * export of the other type or subject, the account token at the subject's last token. Each command
 * line is what the real nsc takes (its first alternatives are run verbatim against a real server in
 * test/integration/remediation.test.ts); these pin the alternatives and branches around them,
 * which the mutation run found unchecked (docs/decisions.md 26).
 */
import { describe, expect, it } from "vitest";
import { causeOf, type CauseContext } from "../../src/core/index.js";
import type { ExportClaim, ImportClaim } from "../../src/core/jwt/claims.js";
import { importClaim, exportClaim } from "../support/claims.js";

const IMP_ID = "AD6LE5XKCEAM4WPC5WAKHDI4XLCYSDZET2YHF5YIE7RJAQJX4VUF6KEZ";
const EXP_ID = "ABBPVMW3SP3XY3UY4KPOCUZX57YXVBRS2RMATBOAZ5BBISGGIOI57MGC";

function ctx(imp: Partial<ImportClaim>, exported: Partial<ExportClaim> | null): CauseContext {
  const claim = importClaim({ type: "stream", subject: "a.b", account: EXP_ID, ...imp });
  return {
    importer: { id: IMP_ID, name: "IMP" },
    exporter: { id: EXP_ID, name: "EXP" },
    imp: claim,
    exporterSubject: claim.type === "service" && claim.to ? claim.to : claim.subject,
    localSubject: claim.localSubject ?? claim.subject,
    detail: null,
    exportClaim: exported === null ? null : exportClaim({ type: "stream", subject: "a.b", ...exported }),
    activation: null,
    now: 0,
  };
}

const DELETE = `nsc delete import --account IMP --subject a.b --src-account ${EXP_ID}`;
const RELOAD = [
  "# re-sign IMP and push it, so the server adds the import again (a push of the same JWT does nothing):",
  "nsc edit account --name IMP --tag insights-reload",
  "nsc edit account --name IMP --rm-tag insights-reload",
  "nsc push --account IMP",
];

describe("account_token_position_mismatch: the import re-added with the importer's key at the position", () => {
  const fix = (subject: string, position: number, local?: string) =>
    causeOf("account_token_position_mismatch").remediation(
      ctx({ subject: "x", ...(local ? { localSubject: local } : {}) }, { subject, accountTokenPosition: position }),
    );

  it.each([
    ["a.*.c", 2, `a.${IMP_ID}.c`],
    ["*.b", 1, `${IMP_ID}.b`],
    ["a.b.*", 3, `a.b.${IMP_ID}`], // the last token
    ["a.*.>", 2, `'a.${IMP_ID}.>'`], // quoted for the shell
  ])("export %s at %i", (subject, position, fixed) => {
    expect(fix(subject, position)).toEqual([
      `nsc delete import --account IMP --subject x --src-account ${EXP_ID}`,
      `nsc add import --account IMP --src-account ${EXP_ID} --remote-subject ${fixed}`,
      "nsc push --account IMP",
    ]);
  });

  it("keeps the import's local subject", () => {
    expect(fix("a.*", 2, "mine")[1]).toBe(
      `nsc add import --account IMP --src-account ${EXP_ID} --remote-subject a.${IMP_ID} --local-subject mine`,
    );
  });
});

describe("activation_revoked", () => {
  it("a service's revocation is deleted as a service's, the export's subject named", () => {
    const r = causeOf("activation_revoked").remediation(
      ctx({ type: "service", subject: "a.b", token: "t" }, { type: "service", subject: "a.*", tokenReq: true }),
    );
    expect(r.slice(0, 3)).toEqual([
      "# if the revocation is not intended, remove it:",
      `nsc revocations delete_activation --account EXP --subject 'a.*' --target-account ${IMP_ID} --service`,
      "nsc push --account EXP",
    ]);
    expect(r.slice(3, 7)).toEqual(RELOAD);
    expect(r.slice(7, 9)).toEqual([
      "# or, to keep the revocation of older tokens, issue a new one:",
      "# the token is written to ./IMP-a.b.activation.jwt in the current directory, where nsc add import reads it",
    ]);
    expect(r.slice(-3)).toEqual([
      "# or, if the revocation is intended, remove the import:",
      DELETE,
      "nsc push --account IMP",
    ]);
  });

  it("a stream's has no --service; without the export, the import's subject is named", () => {
    const r = causeOf("activation_revoked").remediation(ctx({ token: "t" }, null));
    expect(r[1]).toBe(`nsc revocations delete_activation --account EXP --subject a.b --target-account ${IMP_ID}`);
  });
});

describe("export_type_mismatch", () => {
  it("a stream import of a public service export: restore the stream export, or import it as a service", () => {
    const r = causeOf("export_type_mismatch").remediation(ctx({}, { type: "service" }));
    expect(r).toEqual([
      "# either export it as a stream from EXP:",
      "nsc add export --account EXP --subject a.b",
      "nsc push --account EXP",
      ...RELOAD,
      "# or import it as a service:",
      DELETE,
      `nsc add import --account IMP --src-account ${EXP_ID} --remote-subject a.b --service`,
      "nsc push --account IMP",
    ]);
  });

  it("a service import of a private stream export: the stream needs a token, which only the exporter can give", () => {
    const r = causeOf("export_type_mismatch").remediation(ctx({ type: "service", token: "t" }, { tokenReq: true }));
    expect(r).toEqual([
      "# either export it as a service from EXP:",
      "nsc add export --account EXP --subject a.b --service --private",
      "nsc push --account EXP",
      ...RELOAD,
      "# or import it as a stream:",
      DELETE,
      "# the stream export is private: ask EXP for a stream token and add the import with it",
      "nsc push --account IMP",
    ]);
  });
});

describe("subject_mismatch: the import narrowed to the export", () => {
  it("a public export: re-added for the exported subject, as the same type", () => {
    const r = causeOf("subject_mismatch").remediation(
      ctx({ type: "service", subject: "a.>" }, { type: "service", subject: "a.b.>" }),
    );
    expect(r).toEqual([
      "# narrow the import to what is exported:",
      `nsc delete import --account IMP --subject 'a.>' --src-account ${EXP_ID}`,
      `nsc add import --account IMP --src-account ${EXP_ID} --remote-subject 'a.b.>' --service`,
      "nsc push --account IMP",
    ]);
  });

  it("a private export: a token for the exported subject is needed", () => {
    const r = causeOf("subject_mismatch").remediation(ctx({ subject: "a.>" }, { subject: "a.b.>", tokenReq: true }));
    expect(r).toEqual([
      "# narrow the import to what is exported:",
      `nsc delete import --account IMP --subject 'a.>' --src-account ${EXP_ID}`,
      '# the export is private: ask EXP for a token for "a.b.>" and add the import with it',
      "nsc push --account IMP",
    ]);
  });
});
