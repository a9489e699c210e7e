/**
 * What the cause modules say, from a context built by hand: the parts of a message or fix the
 * mutation run of src/core/causes found unchecked (docs/decisions.md 26). Which cause applies is
 * judged on real servers in the scenario catalogue; these are the words and commands built from it.
 */
import { describe, expect, it } from "vitest";
import { causeOf, type CauseContext } from "../../src/core/causes/index.js";
import type { ActivationClaims, ExportClaim, ImportClaim } from "../../src/core/jwt/claims.js";
import type { JetStreamSet } from "../../src/core/jetstream.js";

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

  it("push_rejected gives the server's reason where there is one, and nothing in its place where not", () => {
    const cause = causeOf("push_rejected");
    const tail = "; it keeps serving the previous version of IMP.";
    expect(cause.message(context())).toBe(
      `IMP's service import of "svc.a" from EXP was pushed, but the server rejected the JWT${tail}`,
    );
    expect(cause.message(context({ detail: "bad mapping" }))).toBe(
      `IMP's service import of "svc.a" from EXP was pushed, but the server rejected the JWT (bad mapping)${tail}`,
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

/** The survivors of the causes/ pass 1 of 2026-12-02 afternoon (docs/decisions.md 26), each asserted whole. */
describe("cause texts asserted whole", () => {
  const pull = (stream: string, consumer: string, gaps: JetStreamSet["gaps"]): CauseContext =>
    context({ jetstream: { role: "pull", consumer: { stream, consumer }, gaps } });
  const gap = (kind: JetStreamSet["gaps"][number]["kind"], subject: string, exported = true) => ({
    kind,
    subject,
    localSubject: subject,
    exported,
  });

  it("jetstream_imports_incomplete: a pull consumer of any name, two gaps joined", () => {
    const ctx = pull("*", "*", [gap("consumer_info", "$JS.API.CONSUMER.INFO.*.*"), gap("ack", "$JS.ACK.*.*.>")]);
    expect(causeOf("jetstream_imports_incomplete").message(ctx)).toBe(
      `IMP's service import of "svc.a" from EXP lets IMP fetch from any consumer. Fetching works, but ` +
        `clients in IMP that look the consumer up before pulling (nats.js consumers.get) get no answer; ` +
        `acks from IMP never reach the consumer and fail without an error: every message is redelivered after the consumer's ack wait (consumers with ack policy none are not affected).`,
    );
  });

  it("jetstream_imports_incomplete: the acks of a push consumer", () => {
    const ctx = context({
      jetstream: {
        role: "push",
        consumer: { stream: "ORDERS", consumer: "p" },
        gaps: [gap("deliver_subject", "dlv.p", false)],
      },
    });
    expect(causeOf("jetstream_imports_incomplete").message(ctx)).toBe(
      `IMP's service import of "svc.a" from EXP carries IMP's acks for consumer p on stream ORDERS, a push consumer. The import is active, but ` +
        `the push consumer's messages never reach IMP: they go to its deliver subject in EXP, which IMP does not import.`,
    );
  });

  it("jetstream_imports_incomplete without its set, and a fix that only changes the export", () => {
    const cause = causeOf("jetstream_imports_incomplete");
    expect(cause.message(context())).toBe(
      `IMP's service import of "svc.a" from EXP is part of an incomplete set of JetStream imports.`,
    );
    const ctx = pull("ORDERS", "pull", [gap("singleton_response", "$JS.API.CONSUMER.MSG.NEXT.ORDERS.pull")]);
    expect(cause.remediation(ctx)).toEqual([
      "nsc edit export --account EXP --subject '$JS.API.CONSUMER.MSG.NEXT.ORDERS.pull' --response-type Stream",
      "nsc push --account EXP",
      "# re-sign IMP and push it, so the server adds the import again (a push of the same JWT does nothing):",
      "nsc edit account --name IMP --tag insights-reload",
      "nsc edit account --name IMP --rm-tag insights-reload",
      "nsc push --account IMP",
    ]);
  });

  it("jetstream_imports_incomplete: the fix for every kind of gap at once", () => {
    const ctx = context({
      jetstream: {
        role: "push",
        consumer: { stream: "ORDERS", consumer: "p" },
        gaps: [
          gap("deliver_subject", "dlv.p", false),
          gap("ack", "$JS.ACK.ORDERS.p.>", false),
          { ...gap("consumer_info", "$JS.API.CONSUMER.INFO.ORDERS.p"), localSubject: "hub.INFO.ORDERS.p" },
          gap("singleton_response", "$JS.API.CONSUMER.MSG.NEXT.ORDERS.p"),
        ],
      },
    });
    const add = `nsc add import --account IMP --src-account ${EXPORTER} --remote-subject`;
    expect(causeOf("jetstream_imports_incomplete").remediation(ctx)).toEqual([
      "# <deliver subject>: the consumer's deliver subject, as `nats consumer info` shows it to EXP",
      "nsc add export --account EXP --subject dlv.p",
      "nsc add export --account EXP --subject '$JS.ACK.ORDERS.p.>' --service",
      "nsc edit export --account EXP --subject '$JS.API.CONSUMER.MSG.NEXT.ORDERS.p' --response-type Stream",
      "nsc push --account EXP",
      `${add} dlv.p`,
      `${add} '$JS.ACK.ORDERS.p.>' --service`,
      `${add} '$JS.API.CONSUMER.INFO.ORDERS.p' --service --local-subject hub.INFO.ORDERS.p`,
      "nsc push --account IMP",
    ]);
  });

  it("jetstream_imports_incomplete: the exporter pushes only what it changes", () => {
    const fix = (gaps: JetStreamSet["gaps"]) =>
      causeOf("jetstream_imports_incomplete").remediation(pull("O", "c", gaps));
    const add = `nsc add import --account IMP --src-account ${EXPORTER} --remote-subject`;
    expect(fix([gap("consumer_info", "$JS.API.CONSUMER.INFO.O.c")])).toEqual([
      `${add} '$JS.API.CONSUMER.INFO.O.c' --service`,
      "nsc push --account IMP",
    ]);
    expect(fix([gap("ack", "$JS.ACK.O.c.>", false)])).toEqual([
      "nsc add export --account EXP --subject '$JS.ACK.O.c.>' --service",
      "nsc push --account EXP",
      `${add} '$JS.ACK.O.c.>' --service`,
      "nsc push --account IMP",
    ]);
  });

  it("local_subject_mapped: a mapping that drops the requests", () => {
    const ctx = context({ mapping: { source: "svc.*", to: [], percent: 0, newLocal: null } });
    expect(causeOf("local_subject_mapped").message(ctx)).toBe(
      `IMP's service import of "svc.a" from EXP is registered, but IMP's mapping of "svc.*" sends every request on "svc.a" to ` +
        `nowhere (dropped) before imports see it, and nothing is mapped onto "svc.a": requests from IMP get no responder from EXP.`,
    );
  });

  it("missing_activation_token", () => {
    expect(causeOf("missing_activation_token").message(context())).toBe(
      `IMP's service import of "svc.a" from EXP matches a private export, but the import carries no activation token, ` +
        `so requests from IMP to "svc.a" get no responder and time out. EXP must issue a token to IMP.`,
    );
  });

  it("server_state_stale names the servers where it knows them", () => {
    const cause = causeOf("server_state_stale");
    const text = (who: string) =>
      `IMP's service import of "svc.a" from EXP is valid by its JWTs, but ${who} that have IMP loaded do not honour it, ` +
      `so requests from IMP to "svc.a" get no responder and time out there. Re-sign IMP's JWT and push it so the servers evaluate it again.`;
    expect(cause.message(context())).toBe(text("the servers"));
    expect(cause.message(context({ detail: "n1 and n2" }))).toBe(text("n1 and n2"));
  });
});
