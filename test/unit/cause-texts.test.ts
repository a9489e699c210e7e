/**
 * What the cause modules say, from a context built by hand: the parts of a message or fix the
 * mutation run of src/core/causes found unchecked (docs/decisions.md 26). Which cause applies is
 * judged on real servers in the scenario catalogue; these are the words and commands built from it.
 */
import { describe, expect, it } from "vitest";
import { causeOf, type CauseContext } from "../../src/core/causes/index.js";
import type { ActivationClaims, ExportClaim, ImportClaim } from "../../src/core/jwt/claims.js";

const IMPORTER = "AIMPORTERIMPORTERIMPORTERIMPORTERIMPORTERIMPORTERIMPO";
const EXPORTER = "AEXPORTEREXPORTEREXPORTEREXPORTEREXPORTEREXPORTEREXPO";
const NOW = 1_800_000_000;

const imp = (extra: Partial<ImportClaim> = {}): ImportClaim => ({
  index: 0,
  name: null,
  type: "service",
  subject: "svc.a",
  account: EXPORTER,
  token: null,
  to: null,
  localSubject: null,
  share: false,
  allowTrace: false,
  ...extra,
});

const exported = (extra: Partial<ExportClaim> = {}): ExportClaim => ({
  index: 0,
  name: null,
  type: "service",
  subject: "svc.*",
  tokenReq: false,
  accountTokenPosition: 0,
  revocations: new Map(),
  responseType: null,
  allowTrace: false,
  ...extra,
});

function context(extra: Partial<CauseContext> = {}): CauseContext {
  const i = extra.imp ?? imp();
  return {
    importer: { id: IMPORTER, name: "IMP" },
    exporter: { id: EXPORTER, name: "EXP" },
    imp: i,
    exporterSubject: i.subject,
    localSubject: i.localSubject ?? i.subject,
    detail: null,
    exportClaim: null,
    activation: null,
    now: NOW,
    ...extra,
  };
}

const activation = (expires: number): ActivationClaims => ({
  issuer: EXPORTER,
  subject: IMPORTER,
  name: "",
  issuedAt: NOW - 60,
  expires,
  notBefore: 0,
  issuerAccount: null,
  importSubject: "svc.a",
  kind: "service",
});

describe("the words and commands of each cause", () => {
  it("account_token_position_mismatch names the position the export sets", () => {
    const ctx = context({
      imp: imp({ subject: "svc.x.a" }),
      exportClaim: exported({ subject: "svc.*.a", accountTokenPosition: 2 }),
    });
    expect(causeOf("account_token_position_mismatch").message(ctx)).toContain("'s public key as token 2 (export");
  });

  it("activation_expiring_soon says how many hours are left", () => {
    const ctx = context({ activation: activation(NOW + 48 * 3600) });
    expect(causeOf("activation_expiring_soon").message(ctx)).toContain("(in about 48 h)");
  });

  it("activation_invalid gives the reason validation found", () => {
    const ctx = context({ detail: "the token is for a stream import, this import is a service" });
    expect(causeOf("activation_invalid").message(ctx)).toContain(
      "has an unusable activation token (the token is for a stream import, this import is a service)",
    );
  });

  it("account_expired without a detail says only that the JWT expired", () => {
    expect(causeOf("account_expired").message(context())).toMatch(/IMP's own JWT has expired\.$/);
  });

  it("missing_activation_token says who must issue the token", () => {
    expect(causeOf("missing_activation_token").message(context())).toContain("EXP must issue a token to IMP.");
  });

  it("local_subject_mapped names where the mapping sends the requests", () => {
    const ctx = context({ mapping: { source: "svc.*", to: ["gone.a", "lost.a"], percent: 0, newLocal: null } });
    expect(causeOf("local_subject_mapped").message(ctx)).toContain(
      'sends every request on "svc.a" to "gone.a" or "lost.a" before imports see it',
    );
  });

  it("push_rejected: validate, fix, push again", () => {
    expect(causeOf("push_rejected").remediation(context())).toEqual([
      "nsc validate --account IMP",
      "# fix what it reports, then:",
      "nsc push --account IMP",
    ]);
  });

  it("server_state_stale says what makes the servers look again", () => {
    expect(causeOf("server_state_stale").message(context())).toContain(
      "Re-sign IMP's JWT and push it so the servers evaluate it again.",
    );
  });

  it("jetstream_imports_incomplete names the consumers a wildcard import reaches", () => {
    const message = (stream: string, consumer: string) =>
      causeOf("jetstream_imports_incomplete").message(
        context({
          jetstream: {
            role: "pull",
            consumer: { stream, consumer },
            gaps: [{ kind: "consumer_info", subject: "x", localSubject: "x", exported: true }],
          },
        }),
      );
    expect(message("*", "*")).toContain("fetch from any consumer");
    expect(message("ORDERS", "*")).toContain("fetch from any consumer on stream ORDERS");
    expect(message("*", "pull")).toContain("fetch from consumer pull on stream (any)");
    expect(message("ORDERS", "pull")).toContain("fetch from consumer pull on stream ORDERS");
  });
});
