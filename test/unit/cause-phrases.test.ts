/**
 * The phrases and commands the cause modules are built from (src/core/causes/cause.ts), and the texts
 * of the two causes the causes/ mutation run of 2026-12-02 left unchecked (docs/decisions.md 26):
 * each asserted whole, so that a changed word, quote or flag fails.
 */
import { describe, expect, it } from "vitest";
import { causeOf, type CauseContext } from "../../src/core/causes/index.js";
import {
  NOT_YET_VALID_ACCOUNT,
  arg,
  consequence,
  generateActivation,
  reissueToken,
} from "../../src/core/causes/cause.js";
import type { ImportClaim } from "../../src/core/jwt/claims.js";
import { importClaim } from "../support/claims.js";

const IMPORTER = "AIMPORTERIMPORTERIMPORTERIMPORTERIMPORTERIMPORTERIMPO";
const EXPORTER = "AEXPORTEREXPORTEREXPORTEREXPORTEREXPORTEREXPORTEREXPO";

function context(
  type: "stream" | "service",
  extra: Partial<ImportClaim> = {},
  more: Partial<CauseContext> = {},
): CauseContext {
  const imp = importClaim({ type, subject: "svc.a", account: EXPORTER, ...extra });
  return {
    importer: { id: IMPORTER, name: "IMP" },
    exporter: { id: EXPORTER, name: "EXP" },
    imp,
    exporterSubject: imp.subject,
    localSubject: imp.localSubject ?? imp.subject,
    detail: null,
    exportClaim: null,
    activation: null,
    now: 1_800_000_000,
    ...more,
  };
}

describe("phrases", () => {
  it("quotes a shell argument only where it needs it, the shell's way", () => {
    expect(arg("orders.us-1:a=b@c%d+e")).toBe("orders.us-1:a=b@c%d+e");
    expect(arg("orders.>")).toBe("'orders.>'");
    expect(arg("a b")).toBe("'a b'");
    expect(arg("it's")).toBe("'it'\\''s'");
  });

  it("says what a dead stream or service import costs", () => {
    expect(consequence(context("stream"))).toBe('subscribers in IMP on "svc.a" receive none of its messages');
    expect(consequence(context("service"))).toBe('requests from IMP to "svc.a" get no responder and time out');
  });

  it("names the token file after the importer and the subject, and asks for exactly that subject", () => {
    expect(generateActivation(context("service", { subject: "svc.*" }))).toBe(
      `nsc generate activation --account EXP --target-account ${IMPORTER} --subject 'svc.*' --output-file IMP-svc._.activation.jwt`,
    );
    expect(reissueToken(context("stream", { localSubject: "loc.a", name: "n 1" }))[1]).toBe(
      `nsc generate activation --account EXP --target-account ${IMPORTER} --subject svc.a --output-file IMP-svc.a.activation.jwt`,
    );
    expect(reissueToken(context("stream", { localSubject: "loc.a", name: "n 1" }))[3]).toBe(
      "nsc add import --account IMP --token IMP-svc.a.activation.jwt --local-subject loc.a --name 'n 1'",
    );
  });

  it("the detail of a not-yet-valid importer begins as the evaluator writes it", () => {
    expect(NOT_YET_VALID_ACCOUNT).toBe("the account JWT is not valid before");
  });
});

describe("cause texts", () => {
  it("local_subject_partly_mapped names where the rest goes, or nowhere", () => {
    const cause = causeOf("local_subject_partly_mapped");
    const mapping = { source: "svc.a", to: ["x.a", "y.a"], percent: 40, newLocal: null };
    expect(cause.message(context("service", {}, { mapping }))).toBe(
      `IMP's service import of "svc.a" from EXP gets only 40 % of the requests on "svc.a": IMP's weighted mapping of "svc.a" sends the rest ` +
        `to "x.a" or "y.a" before imports see them, and those get no responder from EXP.`,
    );
    expect(cause.message(context("service", {}, { mapping: { ...mapping, to: [] } }))).toContain(
      "sends the rest nowhere before imports see them",
    );
  });

  it("cycle_search_refused gives the evaluator's detail, or what the walk does without one", () => {
    const cause = causeOf("cycle_search_refused");
    const detail = "its walk through the imports passes 1024 accounts";
    expect(cause.message(context("stream", {}, { detail }))).toBe(
      `IMP's stream import of "svc.a" from EXP is refused: ${detail}, so subscribers in IMP on "svc.a" receive none of its messages. ` +
        `nats-server walks EXP's imports of colliding subjects, and theirs in turn, before it adds this import; ` +
        `it stops with "import forms a cycle" when that walk comes into an account a second time, and with "search cycle depth exhausted" at 1,024 accounts, whether or not anything leads back to IMP.`,
    );
    expect(cause.message(context("stream"))).toContain(
      "is refused: the server's walk through the imports of colliding subjects refuses it, so",
    );
    expect(cause.remediation(context("stream"))).toEqual([
      `nsc delete import --account IMP --subject svc.a --src-account ${EXPORTER}`,
      "nsc push --account IMP",
      "# or have the operator remove one of the two ways into the account reached twice (or shorten the chain), then push IMP again",
    ]);
  });
});
