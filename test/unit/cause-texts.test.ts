/**
 * What the cause modules say, from a context built by hand: the parts of a message or fix the
 * mutation run of src/core/causes found unchecked (docs/decisions.md 26). Which cause applies is
 * judged on real servers in the scenario catalogue; these are the words and commands built from it.
 */
import { describe, expect, it } from "vitest";
import { causeOf, type CauseContext } from "../../src/core/causes/index.js";
import type { ActivationClaims, ExportClaim, ImportClaim } from "../../src/core/jwt/claims.js";
import type { JetStreamSet } from "../../src/core/jetstream.js";
import { importClaim, exportClaim } from "../support/claims.js";

const IMPORTER = "AIMPORTERIMPORTERIMPORTERIMPORTERIMPORTERIMPORTERIMPO";
const EXPORTER = "AEXPORTEREXPORTEREXPORTEREXPORTEREXPORTEREXPORTEREXPO";
const NOW = 1_800_000_000;

const imp = (extra: Partial<ImportClaim> = {}): ImportClaim =>
  importClaim({ type: "service", subject: "svc.a", account: EXPORTER, ...extra });

const exported = (extra: Partial<ExportClaim> = {}): ExportClaim =>
  exportClaim({ type: "service", subject: "svc.*", ...extra });

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

/**
 * The survivors of the causes/ pass 1 of 2026-12-02 evening (docs/decisions.md 26): each cause's
 * message and fix asserted whole, with and without the detail the evaluator gives, from a context
 * built by hand.
 */
describe("every cause's message and fix, whole", () => {
  const so = `so requests from IMP to "svc.a" get no responder and time out`;
  const phrase = `IMP's service import of "svc.a" from EXP`;
  const deleteIt = (subject = "svc.a") =>
    `nsc delete import --account IMP --subject ${subject} --src-account ${EXPORTER}`;
  const resign = (name: string, why: string) => [
    `# re-sign ${name} and push it, ${why} (a push of the same JWT does nothing):`,
    `nsc edit account --name ${name} --tag insights-reload`,
    `nsc edit account --name ${name} --rm-tag insights-reload`,
    `nsc push --account ${name}`,
  ];
  const reload = resign("IMP", "so the server adds the import again");
  const reissue = (subject = "svc.a", extra = "") => [
    `# the token is written to ./IMP-${subject}.activation.jwt in the current directory, where nsc add import reads it`,
    `nsc generate activation --account EXP --target-account ${IMPORTER} --subject ${subject} --output-file IMP-${subject}.activation.jwt${extra}`,
    deleteIt(subject),
    `nsc add import --account IMP --token IMP-${subject}.activation.jwt`,
    "nsc push --account IMP",
  ];
  const text = (code: Parameters<typeof causeOf>[0], ctx: CauseContext) => {
    const cause = causeOf(code);
    return { message: cause.message(ctx), fix: cause.remediation(ctx) };
  };
  const stream = imp({ type: "stream", subject: "st.a" });

  it("the causes that quote the evaluator's detail, and what they say without one", () => {
    const cases: [Parameters<typeof causeOf>[0], (detail: string) => string, string[]][] = [
      [
        "account_expired",
        (d) => `${phrase} cannot work because IMP's own JWT has expired${d ? ` (${d})` : ""}.`,
        ["nsc edit account --name IMP --expiry 0", "nsc push --account IMP"],
      ],
      [
        "account_jwt_invalid",
        (d) => `${phrase} cannot work because the server will not load IMP's JWT (${d || "invalid"}), ${so}.`,
        ["nsc validate --account IMP", "# fix what it reports, then:", "nsc push --account IMP"],
      ],
      [
        "activation_invalid",
        (d) => `${phrase} has an unusable activation token (${d || "it fails validation"}), ${so}.`,
        reissue(),
      ],
      [
        "activation_signer_untrusted",
        (d) =>
          `${phrase} has an activation token that EXP no longer trusts (${d || "untrusted signer"}), ${so}. Reissue the token with a key EXP still has.`,
        reissue(),
      ],
      [
        "duplicate_import",
        (d) =>
          `${phrase} is ignored: ${d || "an earlier import of the same subject from the same account is the one the server keeps"}, ${so}. ` +
          `To see the stream under a second name, subscribe to the first import's local subject, or import a narrower subject of EXP.`,
        [deleteIt(), "nsc push --account IMP"],
      ],
      [
        "duplicate_of_cycle_import",
        (d) =>
          `${phrase} ${d || "repeats an earlier import of the same subject from the same account, which is on a cycle of imports"}. ` +
          "nats-server keeps one stream import per subject and source account, and refuses one import of a cycle on each server (that of the account it looked up first): " +
          `where IMP was loaded first the earlier import is refused and this one works; elsewhere the earlier one is added and this one is refused as its duplicate (${so.slice(3)}). ` +
          "The servers' own view (check --server, the live service) says which; a restart can change it.",
        [
          "# keep one import of the subject: remove this one, or break the earlier import's cycle and keep that one",
          deleteIt(),
          "nsc push --account IMP",
        ],
      ],
      [
        "import_invalid",
        (d) => `${phrase} is invalid (${d || "fails validation"}); the server rejects the whole account JWT, ${so}.`,
        [deleteIt(), "# add it again correctly (nsc add import ...), then:", "nsc push --account IMP"],
      ],
      [
        "source_account_expired",
        (d) => `${phrase} comes from an account whose JWT is not valid now (${d || "expired"}), ${so}.`,
        ["nsc edit account --name EXP --expiry 0 --start 0", "nsc push --account EXP", ...reload],
      ],
      [
        "source_account_not_found",
        (d) => `${phrase} names a source account the server cannot load${d ? ` (${d})` : ""}, ${so}.`,
        [
          "# push the source account again, if it exists in your nsc store:",
          ...resign("EXP", "so the server loads it again"),
          ...reload,
          "# or remove the import:",
          deleteIt(),
          "nsc push --account IMP",
        ],
      ],
    ];
    for (const [code, message, fix] of cases) {
      for (const detail of [null, "DETAIL"]) {
        expect(text(code, context({ detail })), `${code}, detail ${detail}`).toEqual({
          message: message(detail ?? ""),
          fix,
        });
      }
    }
  });

  it("account_jwt_invalid: a JWT not valid yet is fixed by its start, not by validation", () => {
    const ctx = context({ detail: "the account JWT is not valid before 2027-01-01T00:00:00.000Z" });
    expect(text("account_jwt_invalid", ctx).fix).toEqual([
      "nsc edit account --name IMP --start 0",
      "nsc push --account IMP",
    ]);
  });

  it("the activation token's times, and a renewal for 90 days", () => {
    const token = (expires: number, notBefore = 0) => ({ ...activation(expires), notBefore });
    expect(text("activation_expired", context({ activation: token(NOW - 3600) }))).toEqual({
      message: `${phrase} has an activation token that expired at 2027-01-15T07:00:00.000Z, ${so}.`,
      fix: reissue("svc.a", " --expiry 90d"),
    });
    expect(text("activation_expiring_soon", context({ activation: token(NOW + 48 * 3600) })).fix).toEqual(
      reissue("svc.a", " --expiry 90d"),
    );
    expect(text("activation_not_yet_valid", context({ activation: token(0, NOW + 3600) }))).toEqual({
      message:
        `${phrase} has an activation token that is not valid before 2027-01-15T09:00:00.000Z, ${so}. ` +
        `nats-server does not re-enable it by itself when that time comes, and pushing the same JWT again changes nothing: reissue the token (which re-signs the importer's JWT) and push it.`,
      fix: reissue(),
    });
  });

  it("activation_revoked: the revocation removed for the export's subject (--service for a service)", () => {
    const fix = (subject: string, service: string, ctx: CauseContext, importSubject: string) => [
      "# if the revocation is not intended, remove it:",
      `nsc revocations delete_activation --account EXP --subject ${subject} --target-account ${IMPORTER}${service}`,
      "nsc push --account EXP",
      ...reload,
      "# or, to keep the revocation of older tokens, issue a new one:",
      ...reissue(importSubject),
      "# or, if the revocation is intended, remove the import:",
      deleteIt(importSubject),
      "nsc push --account IMP",
    ];
    const service = context({ exportClaim: exported() });
    expect(text("activation_revoked", service)).toEqual({
      message: `${phrase} uses an activation token that EXP has revoked, ${so}. If the revocation was not intended, remove it (or issue a new token); if it was, remove the import.`,
      fix: fix("'svc.*'", " --service", service, "svc.a"),
    });
    const streamCtx = context({ imp: stream });
    expect(text("activation_revoked", streamCtx).fix).toEqual(fix("st.a", "", streamCtx, "st.a"));
  });

  it("export_not_found and export_type_mismatch: export it, or change the import", () => {
    const exportIt = (flag: string) => [
      `nsc add export --account EXP --subject svc.a${flag}`,
      "nsc push --account EXP",
      ...reload,
    ];
    expect(text("export_not_found", context())).toEqual({
      message: `${phrase} matches no service export of EXP, ${so}.`,
      fix: [
        "# either export it from EXP:",
        ...exportIt(" --service"),
        "# or remove the import:",
        deleteIt(),
        "nsc push --account IMP",
      ],
    });
    expect(text("export_type_mismatch", context({ exportClaim: exported({ type: "stream" }) })).fix).toEqual([
      "# either export it as a service from EXP:",
      ...exportIt(" --service"),
      "# or import it as a stream:",
      deleteIt(),
      `nsc add import --account IMP --src-account ${EXPORTER} --remote-subject svc.a`,
      "nsc push --account IMP",
    ]);
    expect(text("export_type_mismatch", context({ exportClaim: exported({ type: "stream" }) })).message).toBe(
      `${phrase} matches only a stream export of EXP, ${so}. Export it as a service from EXP, or import it as a stream.`,
    );
    expect(text("export_type_mismatch", context({ imp: stream, exportClaim: exported() })).message).toBe(
      `IMP's stream import of "st.a" from EXP matches only a service export of EXP, ` +
        `so subscribers in IMP on "st.a" receive none of its messages. Export it as a stream from EXP, or import it as a service.`,
    );
    const privateOther = context({ imp: stream, exportClaim: exported({ tokenReq: true }) });
    expect(text("export_type_mismatch", privateOther).fix.slice(-3)).toEqual([
      deleteIt("st.a"),
      "# the service export is private: ask EXP for a service token and add the import with it",
      "nsc push --account IMP",
    ]);
  });

  it("local_subject_mapped: the import moved onto the mapping's destination keeps its name, unless it has a token", () => {
    const mapping = { source: "svc.*", to: ["gone.a"], percent: 0, newLocal: "gone.a" };
    const removeMapping = [
      `# remove the mapping that takes requests on "svc.a" elsewhere:`,
      "nsc delete mapping --account IMP --from 'svc.*'",
      "nsc push --account IMP",
    ];
    const moved = (name: string) => [
      ...removeMapping,
      "# or keep the mapping and import the service on the subject requests are mapped to:",
      deleteIt(),
      `nsc add import --account IMP --src-account ${EXPORTER} --remote-subject svc.a --service --local-subject gone.a${name}`,
      "nsc push --account IMP",
    ];
    expect(text("local_subject_mapped", context({ imp: imp({ name: "calc" }), mapping })).fix).toEqual(
      moved(" --name calc"),
    );
    expect(text("local_subject_mapped", context({ mapping })).fix).toEqual(moved(""));
    expect(text("local_subject_mapped", context({ imp: imp({ token: "tok" }), mapping })).fix).toEqual(removeMapping);
  });

  it("local_subject_partly_mapped: each destination can go on its own", () => {
    const ctx = context({ mapping: { source: "svc.*", to: ["gone.a", "b a"], percent: 40, newLocal: null } });
    expect(text("local_subject_partly_mapped", ctx)).toEqual({
      message: `${phrase} gets only 40 % of the requests on "svc.a": IMP's weighted mapping of "svc.*" sends the rest to "gone.a" or "b a" before imports see them, and those get no responder from EXP.`,
      fix: [
        `# remove the mapping, or only the destinations that lead away from "svc.a":`,
        "nsc delete mapping --account IMP --from 'svc.*'",
        "# or: nsc delete mapping --account IMP --from 'svc.*' --to gone.a",
        "# or: nsc delete mapping --account IMP --from 'svc.*' --to 'b a'",
        "nsc push --account IMP",
      ],
    });
  });

  it("local_subject_mappings_overlap: every mapping with its share, the range, and all but the first deleted", () => {
    const overlapping = [
      { source: "svc.*", percent: 60 },
      { source: "svc.a", percent: 0 },
      { source: "s v", percent: 0 },
    ];
    const ctx = context({ mapping: { source: "svc.*", to: [], percent: 0, newLocal: null, overlapping } });
    expect(text("local_subject_mappings_overlap", ctx)).toEqual({
      message:
        `${phrase} is registered, but 3 of IMP's mappings take requests on "svc.a": "svc.*" (keeps 60 %), "svc.a" (keeps 0 %), "s v" (keeps 0 %). ` +
        `nats-server applies the one it installed first, in an order drawn anew each time it loads IMP, so between 0 % and 60 % ` +
        `of the requests reach EXP depending on the server and its last restart; the others get no responder.`,
      fix: [
        `# leave one mapping on "svc.a": delete the others (or narrow their sources apart), keeping "svc.*":`,
        "nsc delete mapping --account IMP --from svc.a",
        "nsc delete mapping --account IMP --from 's v'",
        "nsc push --account IMP",
      ],
    });
  });

  describe("the replies causes name whose mapping takes the answers, and fix that account", () => {
    const inbox = {
      source: "*.>",
      to: ["moved.>"],
      percent: 0,
      newLocal: null,
      leg: "inbox" as const,
      replySubject: "_INBOX.*.*",
    };
    const response = { ...inbox, source: "_R_.>", to: [], leg: "response" as const, replySubject: "_R_.*.*" };

    it("replies_mapped, on the requester's inbox or on the server's reply subject", () => {
      expect(text("replies_mapped", context({ mapping: inbox }))).toEqual({
        message:
          `${phrase} carries requests to EXP, but IMP's mapping of "*.>" sends the replies on their way to the requester (on its inbox, "_INBOX.*.*" by the NATS clients' default) ` +
          `to "moved.>": requests from IMP to "svc.a" are served and time out.`,
        fix: [
          `# remove the mapping that takes the replies away, or narrow its source so it no longer covers "_INBOX.*.*":`,
          "nsc delete mapping --account IMP --from '*.>'",
          "nsc push --account IMP",
        ],
      });
      expect(text("replies_mapped", context({ mapping: response }))).toEqual({
        message:
          `${phrase} carries requests to EXP, but EXP's mapping of "_R_.>" sends its responders' replies (on the reply subject the server gives each request, "_R_.*.*") ` +
          `elsewhere: requests from IMP to "svc.a" are served and time out.`,
        fix: [
          `# remove the mapping that takes the replies away, or narrow its source so it no longer covers "_R_.*.*":`,
          "nsc delete mapping --account EXP --from '_R_.>'",
          "nsc push --account EXP",
        ],
      });
    });

    it("replies_partly_mapped and replies_mappings_overlap give the share, or each mapping's", () => {
      expect(text("replies_partly_mapped", context({ mapping: { ...inbox, percent: 40 } })).message).toBe(
        `${phrase} gets only 40 % of its answers back: IMP's weighted mapping of "*.>" sends the rest of the replies on their way to the requester ` +
          `(on its inbox, "_INBOX.*.*" by the NATS clients' default) to "moved.>", and those requests from IMP time out although they were served.`,
      );
      const overlapping = [
        { source: "*.*.*", percent: 40 },
        { source: "_R_.>", percent: 0 },
      ];
      expect(text("replies_mappings_overlap", context({ mapping: { ...response, overlapping } }))).toEqual({
        message:
          `${phrase} carries requests to EXP, but 2 of EXP's mappings take its responders' replies (on the reply subject the server gives each request, "_R_.*.*"): ` +
          `"*.*.*" (keeps 40 %), "_R_.>" (keeps 0 %). nats-server applies the one it installed first, in an order drawn anew each time it loads EXP, ` +
          `so between 0 % and 40 % of the answers come back depending on the server and its last restart; the other requests time out although they were served.`,
        fix: [
          `# leave one mapping on "_R_.*.*": delete the others (or narrow their sources apart), keeping "*.*.*":`,
          "nsc delete mapping --account EXP --from '_R_.>'",
          "nsc push --account EXP",
        ],
      });
    });
  });

  it("account_token_position_mismatch: a position past the export's tokens leaves its subject as it is", () => {
    // jwt refuses such an export (the JWT is not stored), so only a context built by hand has one.
    const ctx = context({
      imp: imp({ subject: "svc.x.a" }),
      exportClaim: exported({ subject: "svc.*.a", accountTokenPosition: 4 }),
    });
    expect(text("account_token_position_mismatch", ctx).fix[1]).toBe(
      `nsc add import --account IMP --src-account ${EXPORTER} --remote-subject 'svc.*.a' --service`,
    );
  });

  describe("import_cycle", () => {
    const at = (id: string, name: string | null, from: string, subject: string) => ({
      account: { id, name },
      imp: imp({ account: from, subject }),
    });
    const first = at(IMPORTER, "IMP", EXPORTER, "svc.a");
    const tail = (closedBy: string) =>
      `${closedBy} nats-server refuses one import of the cycle on each server: that of the account it looked up first (the first client to connect to it, or an account importing from it). ` +
      `The JWTs do not say which, so whether this one works is undetermined: where IMP was loaded first it is refused (requests from IMP to "svc.a" get no responder and time out), elsewhere another import of the cycle is. ` +
      `The servers' own view (check --server, the live service) says which; a restart can change it.`;
    const removeThis = [deleteIt(), "nsc push --account IMP"];
    const breakAt = (owner: string, ownerId: string, subject: string, from: string, fromId: string) => [
      `# break the cycle where it leads back: remove ${owner}'s import of "${subject}" from ${from}`,
      `nsc delete import --account ${owner} --subject ${subject} --src-account ${fromId}`,
      `nsc push --account ${owner}`,
      ...reload,
      "# or remove this import instead:",
      ...removeThis,
    ];

    it("names the import that closes the cycle, and its source by name where the cycle has it", () => {
      const ctx = context({
        detail: "IMP → EXP → THIRD → FOURTH → THIRD",
        cycle: [
          first,
          at(EXPORTER, "EXP", "ATHIRD", "t.a"),
          at("ATHIRD", "THIRD", "AFOURTH", "f.a"),
          at("AFOURTH", "FOURTH", "ATHIRD", "back.a"),
        ],
      });
      expect(text("import_cycle", ctx)).toEqual({
        message:
          `${phrase} forms a cycle of imports (IMP → EXP → THIRD → FOURTH → THIRD).` +
          tail(` FOURTH's import of "back.a" from THIRD closes it.`),
        fix: breakAt("FOURTH", "AFOURTH", "back.a", "THIRD", "ATHIRD"),
      });
    });

    it("a source outside the cycle's list: the exporter by its label, another account by its id", () => {
      const toExporter = context({ cycle: [first, at("AFOURTH", null, EXPORTER, "e.a")] });
      expect(text("import_cycle", toExporter)).toEqual({
        message: `${phrase} forms a cycle of imports.` + tail(` AFOURTH's import of "e.a" from EXP closes it.`),
        fix: breakAt("AFOURTH", "AFOURTH", "e.a", "EXP", EXPORTER),
      });
      const toOther = context({ cycle: [first, at("AFOURTH", null, "AFIFTH", "f.a")] });
      expect(text("import_cycle", toOther).fix[0]).toBe(
        `# break the cycle where it leads back: remove AFOURTH's import of "f.a" from AFIFTH`,
      );
    });

    it("a cycle that ends at the importer itself: only this import to remove", () => {
      const ctx = context({ cycle: [first] });
      expect(text("import_cycle", ctx)).toEqual({
        message: `${phrase} forms a cycle of imports.` + tail(""),
        fix: removeThis,
      });
    });
  });

  it("jetstream_imports_incomplete: a fetch export with a single response, whatever type it names", () => {
    const next = "$JS.API.CONSUMER.MSG.NEXT.O.c";
    const ctx = (responseType: string | null) =>
      context({
        exportClaim: exported({ responseType }),
        jetstream: {
          role: "pull",
          consumer: { stream: "O", consumer: "c" },
          gaps: [{ kind: "singleton_response", subject: next, localSubject: next, exported: true }],
        },
      });
    const message = (type: string) =>
      `${phrase} lets IMP fetch from consumer c on stream O. Fetching works, but the export "${next}" answers with one message (response type ${type}), so a fetch of more than one message delivers only the first.`;
    expect(text("jetstream_imports_incomplete", ctx(null)).message).toBe(message("Singleton"));
    expect(text("jetstream_imports_incomplete", ctx("Chunked")).message).toBe(message("Chunked"));
  });

  it("a code without a module is an error that names it", () => {
    expect(() => causeOf("no_such_cause" as Parameters<typeof causeOf>[0])).toThrow(
      "no cause module for no_such_cause",
    );
  });
});
