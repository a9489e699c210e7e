/**
 * JetStream import sets through the engine alone (their real-server judgement: the scenario
 * catalogue and test/integration/jetstream-sharing.test.ts).
 */
import { beforeAll, describe, expect, it } from "vitest";
import { AccountDirectory, OperatorTrust, diagnoseAll, type ImportDiagnosis } from "../../src/core/index.js";
import {
  ackSubject,
  jetStreamSet,
  localApiPrefix,
  localSubjectOf,
  pullConsumers,
  type ActiveSibling,
} from "../../src/core/jetstream.js";
import type { ExportClaim, ImportClaim } from "../../src/core/jwt/claims.js";
import { TestOperator, nowSec, type TestAccount } from "../support/deployment.js";
import { JETSTREAM_LIMITS } from "../support/jetstream.js";
import { importClaim } from "../support/claims.js";

let op: TestOperator;
beforeAll(async () => {
  op = await TestOperator.create();
});

const NEXT = "$JS.API.CONSUMER.MSG.NEXT.ORDERS.pull";
const INFO = "$JS.API.CONSUMER.INFO.ORDERS.pull";
const ACK = "$JS.ACK.ORDERS.pull.>";

type Claim = { subject: string; type: "stream" | "service"; response_type?: string; local_subject?: string };
const svc = (subject: string, extra: Partial<Claim> = {}): Claim => ({ subject, type: "service", ...extra });
const str = (subject: string): Claim => ({ subject, type: "stream" });

async function deployment(
  exports: Claim[],
  imports: Claim[],
  jetStream = true,
): Promise<{ dir: AccountDirectory; exp: TestAccount; imp: TestAccount }> {
  const exp = await op.account("EXP", {
    ...(jetStream ? { limits: { ...JETSTREAM_LIMITS } } : {}),
    exports: exports as never,
  });
  const imp = await op.account("IMP", { imports: imports.map((i) => ({ ...i, account: exp.id })) });
  const trust = new OperatorTrust();
  trust.addOperator(op.jwt);
  const dir = new AccountDirectory(trust);
  for (const a of [exp, imp]) dir.upsert(a.jwt);
  return { dir, exp, imp };
}

function verdicts(dir: AccountDirectory, imp: TestAccount): Record<string, ImportDiagnosis> {
  const all = diagnoseAll(dir, { now: nowSec(), expiryWarningSeconds: 86400 }, [imp.id]);
  return Object.fromEntries(all.map((d) => [d.subject, d]));
}

describe("the consumers a JetStream API import can fetch from", () => {
  it.each([
    ["$JS.API.>", "*", "*"],
    ["$JS.API.CONSUMER.>", "*", "*"],
    [NEXT, "ORDERS", "pull"],
    ["$JS.API.CONSUMER.MSG.NEXT.ORDERS.*", "ORDERS", "*"],
    ["$JS.API.*.MSG.NEXT.*.pull", "*", "pull"],
    [">", "*", "*"],
  ])("%s → %s/%s", (subject, stream, consumer) => {
    expect(pullConsumers({ subject, type: "service", to: null, localSubject: null } as never)).toEqual({
      stream,
      consumer,
    });
  });

  it.each([
    ["$JS.hub.API.>", "*", "*"],
    ["$JS.hub.API.CONSUMER.MSG.NEXT.ORDERS.pull", "ORDERS", "pull"],
  ])("%s (a JetStream domain's API) → %s/%s in domain hub", (subject, stream, consumer) => {
    expect(pullConsumers({ subject, type: "service", to: null, localSubject: null } as never)).toEqual({
      stream,
      consumer,
      domain: "hub",
    });
  });

  // A domain may be named API (measured: test/integration/jetstream-domain-api.test.ts).
  it.each([
    ["$JS.API.API.>", "*", "*"],
    ["$JS.API.API.CONSUMER.MSG.NEXT.ORDERS.pull", "ORDERS", "pull"],
  ])("%s (the API of a domain named API) → %s/%s in domain API", (subject, stream, consumer) => {
    expect(pullConsumers({ subject, type: "service", to: null, localSubject: null } as never)).toEqual({
      stream,
      consumer,
      domain: "API",
    });
  });

  it.each([
    "$JS.API.STREAM.INFO.ORDERS",
    "$JS.hub.API.CONSUMER.INFO.ORDERS.pull",
    "$JS.*.API.>",
    "$JS.API.CONSUMER.INFO.ORDERS.pull",
    "$JS.API.CONSUMER.MSG.NEXT.ORDERS",
    "$JS.ACK.>",
  ])("%s fetches nothing", (subject) => {
    expect(pullConsumers({ subject, type: "service", to: null, localSubject: null } as never)).toBeNull();
  });
});

describe("JetStream import sets", () => {
  it("the whole API under a local prefix, exported Singleton, no ack import: a warning naming the response type and the ack import", async () => {
    const { dir, exp, imp } = await deployment([svc("$JS.API.>")], [svc("$JS.API.>", { local_subject: "JS.X.API.>" })]);
    const d = verdicts(dir, imp)["$JS.API.>"]!;
    expect(d.status).toBe("warning");
    expect(d.cause).toBe("jetstream_imports_incomplete");
    expect(d.message).toContain("fetch from any consumer");
    expect(d.message).toContain("delivers only the first");
    expect(d.message).toContain("acks from IMP never reach the consumer");
    expect(d.message).not.toContain("look the consumer up");
    expect(d.remediation).toEqual([
      "nsc add export --account EXP --subject '$JS.ACK.>' --service",
      "nsc edit export --account EXP --subject '$JS.API.>' --response-type Stream",
      "nsc push --account EXP",
      `nsc add import --account IMP --src-account ${exp.id} --remote-subject '$JS.ACK.>' --service`,
      "nsc push --account IMP",
    ]);
  });

  it("a domain's API (fuzz: a server in domain hub answers it through the import): consumer info under the domain, acks as ever", async () => {
    const next = "$JS.hub.API.CONSUMER.MSG.NEXT.ORDERS.pull";
    const { dir, exp, imp } = await deployment(
      [svc("$JS.hub.API.>", { response_type: "Stream" }), svc(ACK)],
      [svc(next, { local_subject: "JS.X.API.CONSUMER.MSG.NEXT.ORDERS.pull" }), svc(ACK)],
    );
    const all = verdicts(dir, imp);
    expect(all[ACK]!.status).toBe("active");
    const d = all[next]!;
    expect(d.cause).toBe("jetstream_imports_incomplete");
    expect(d.remediation).toEqual([
      `nsc add import --account IMP --src-account ${exp.id} --remote-subject '$JS.hub.API.CONSUMER.INFO.ORDERS.pull' --service --local-subject JS.X.API.CONSUMER.INFO.ORDERS.pull`,
      "nsc push --account IMP",
    ]);
  });

  it("a complete pull set (next with Stream responses, consumer info, acks): every import active", async () => {
    const { dir, imp } = await deployment(
      [svc(NEXT, { response_type: "Stream" }), svc(INFO), svc(ACK)],
      [
        svc(NEXT, { local_subject: "JS.X.API.CONSUMER.MSG.NEXT.ORDERS.pull" }),
        svc(INFO, { local_subject: "JS.X.API.CONSUMER.INFO.ORDERS.pull" }),
        svc(ACK),
      ],
    );
    expect(Object.values(verdicts(dir, imp)).map((d) => d.status)).toEqual(["active", "active", "active"]);
  });

  it("no ack import although the exporter exports acks: only the import to add, under the ack subject itself", async () => {
    const { dir, exp, imp } = await deployment(
      [svc(NEXT, { response_type: "Chunked" }), svc(INFO), svc(ACK)],
      [svc(NEXT), svc(INFO)],
    );
    const v = verdicts(dir, imp);
    expect(v[INFO]!.status).toBe("active");
    expect(v[NEXT]!.cause).toBe("jetstream_imports_incomplete");
    expect(v[NEXT]!.message).toContain("consumer pull on stream ORDERS");
    expect(v[NEXT]!.remediation).toEqual([
      `nsc add import --account IMP --src-account ${exp.id} --remote-subject '$JS.ACK.ORDERS.pull.>' --service`,
      "nsc push --account IMP",
    ]);
  });

  it("consumer info missing: the import to add keeps the next import's local prefix", async () => {
    const { dir, exp, imp } = await deployment(
      [svc(NEXT, { response_type: "Stream" }), svc(ACK)],
      [svc(NEXT, { local_subject: "JS.X.API.CONSUMER.MSG.NEXT.ORDERS.pull" }), svc(ACK)],
    );
    const d = verdicts(dir, imp)[NEXT]!;
    expect(d.message).toContain("look the consumer up before pulling");
    expect(d.remediation).toContain(`nsc add export --account EXP --subject '${INFO}' --service`);
    expect(d.remediation).toContain(
      `nsc add import --account IMP --src-account ${exp.id} --remote-subject '${INFO}' --service --local-subject JS.X.API.CONSUMER.INFO.ORDERS.pull`,
    );
  });

  it("an ack import under another local subject carries no acks; an inactive one neither", async () => {
    const renamed = await deployment(
      [svc(NEXT, { response_type: "Stream" }), svc(INFO), svc(ACK)],
      [svc(NEXT), svc(INFO), svc(ACK, { local_subject: "acks.>" })],
    );
    expect(verdicts(renamed.dir, renamed.imp)[NEXT]!.cause).toBe("jetstream_imports_incomplete");
    const unexported = await deployment(
      [svc(NEXT, { response_type: "Stream" }), svc(INFO)],
      [svc(NEXT), svc(INFO), svc(ACK)],
    );
    const v = verdicts(unexported.dir, unexported.imp);
    expect(v[ACK]!.cause).toBe("export_not_found");
    expect(v[NEXT]!.cause).toBe("jetstream_imports_incomplete");
    expect(v[NEXT]!.remediation[0]).toBe("nsc add export --account EXP --subject '$JS.ACK.ORDERS.pull.>' --service");
  });

  it("a push consumer: acks imported with the deliver subject are complete; acks alone are a warning on the ack import", async () => {
    const complete = await deployment(
      [str("deliver.push"), svc("$JS.ACK.ORDERS.push.>")],
      [str("deliver.push"), svc("$JS.ACK.ORDERS.push.>")],
    );
    expect(Object.values(verdicts(complete.dir, complete.imp)).map((d) => d.status)).toEqual(["active", "active"]);
    const alone = await deployment([str("deliver.push"), svc("$JS.ACK.ORDERS.push.>")], [svc("$JS.ACK.ORDERS.push.>")]);
    const d = verdicts(alone.dir, alone.imp)["$JS.ACK.ORDERS.push.>"]!;
    expect(d.cause).toBe("jetstream_imports_incomplete");
    expect(d.message).toContain("push consumer's messages never reach IMP");
    expect(d.remediation).toContain("nsc add export --account EXP --subject '<deliver subject>'");
  });

  it("an ack import from another account completes nothing: acks go to the account the import names", async () => {
    const other = await op.account("OTHER", { exports: [svc(ACK)] as never });
    const exp = await op.account("EXP", {
      limits: { ...JETSTREAM_LIMITS },
      exports: [svc(NEXT, { response_type: "Stream" }), svc(INFO), svc(ACK)] as never,
    });
    const imp = await op.account("IMP", {
      imports: [
        { ...svc(NEXT), account: exp.id },
        { ...svc(INFO), account: exp.id },
        { ...svc(ACK), account: other.id },
      ],
    });
    const trust = new OperatorTrust();
    trust.addOperator(op.jwt);
    const dir = new AccountDirectory(trust);
    for (const a of [other, exp, imp]) dir.upsert(a.jwt);
    const v = verdicts(dir, imp);
    expect(v[ACK]!.status).toBe("active");
    expect(v[NEXT]!.cause).toBe("jetstream_imports_incomplete");
    expect(v[NEXT]!.remediation).toContain(
      `nsc add import --account IMP --src-account ${exp.id} --remote-subject '${ACK}' --service`,
    );
  });

  it("the system account's $JS subjects are no JetStream set, even where its JWT carries JetStream limits", async () => {
    // nats-server never enables JetStream in the system account (docs/decisions.md 26)
    const own = await TestOperator.create();
    await own.system.reissue({ limits: { ...JETSTREAM_LIMITS }, exports: [svc(NEXT)] as never });
    const imp = await own.account("IMP", { imports: [{ ...svc(NEXT), account: own.system.id }] });
    const trust = new OperatorTrust();
    trust.addOperator(own.jwt);
    const dir = new AccountDirectory(trust);
    for (const a of [own.system, imp]) dir.upsert(a.jwt);
    expect(verdicts(dir, imp)[NEXT]!.status).toBe("active");
  });

  it("an exporter whose JWT grants no JetStream: its $JS subjects are ordinary services", async () => {
    const { dir, imp } = await deployment([svc("$JS.API.>")], [svc("$JS.API.>")], false);
    expect(verdicts(dir, imp)["$JS.API.>"]!.status).toBe("active");
  });
});

/** An import claim as the parser gives it (a service unless said otherwise). */
const claim = (subject: string, extra: Partial<ImportClaim> = {}): ImportClaim =>
  importClaim({ type: "service", subject, account: "AEXPORTER", ...extra });
const active = (...imps: ImportClaim[]): ActiveSibling[] => imps.map((imp) => ({ imp, exportClaim: null }));
const nothingExported = () => false;

describe("the subjects of a JetStream set (what each piece of src/core/jetstream.ts reads)", () => {
  it("a stream import never fetches, and a subject longer than MSG.NEXT's fetches nothing", () => {
    expect(pullConsumers(claim("$JS.API.>", { type: "stream" }))).toBeNull();
    expect(pullConsumers(claim(`${NEXT}.x`))).toBeNull();
  });

  it("the importer's subject of a service import under the deprecated `to` is its `subject` (the exporter's is `to`)", () => {
    expect(localSubjectOf(claim("fetch.orders", { to: NEXT }))).toBe("fetch.orders");
    expect(pullConsumers(claim("fetch.orders", { to: NEXT }))).toEqual({ stream: "ORDERS", consumer: "pull" });
  });

  it("the ack subject names one stream or one consumer when the other is any", () => {
    expect(ackSubject({ stream: "*", consumer: "*" })).toBe("$JS.ACK.>");
    expect(ackSubject({ stream: "ORDERS", consumer: "*" })).toBe("$JS.ACK.ORDERS.*.>");
    expect(ackSubject({ stream: "*", consumer: "pull" })).toBe("$JS.ACK.*.pull.>");
  });

  it("the importer's API prefix: the local subject less the API's tail, else the API itself", () => {
    expect(localApiPrefix(claim(NEXT, { localSubject: "JS.X.API.CONSUMER.MSG.NEXT.ORDERS.pull" }))).toBe("JS.X.API");
    // A local subject that does not end in the tail (as long as it, or sharing a token with it) keeps no prefix.
    expect(localApiPrefix(claim(NEXT, { localSubject: "fetch.a.b.c.d.e" }))).toBe("$JS.API");
    expect(localApiPrefix(claim(NEXT, { localSubject: "fetch.a.b.c.d.pull" }))).toBe("$JS.API");
    expect(localApiPrefix(claim(NEXT, { localSubject: "fetch.orders" }))).toBe("$JS.API");
    const domain = "$JS.hub.API.CONSUMER.MSG.NEXT.ORDERS.pull";
    expect(localApiPrefix(claim(domain, { localSubject: "fetch.orders" }))).toBe("$JS.hub.API");
  });

  it("one message's ack or flow-control reply imported alone serves a push consumer: the deliver subject is missing", () => {
    const deliver = {
      kind: "deliver_subject",
      subject: "<deliver subject>",
      localSubject: "<deliver subject>",
      exported: false,
    };
    for (const subject of ["$JS.ACK.ORDERS.push.1.2.3.4.0", "$JS.FC.ORDERS.push.x1", "$JS.FC.ORDERS.push.>"]) {
      const imp = claim(subject);
      expect(jetStreamSet(imp, null, active(imp), nothingExported), subject).toEqual({
        role: "push",
        consumer: { stream: "ORDERS", consumer: "push" },
        gaps: [deliver],
      });
    }
  });

  it("an ack import under another subject is no push set (it carries no ack at all)", () => {
    const imp = claim("$JS.ACK.ORDERS.push.>", { localSubject: "acks.>" });
    expect(jetStreamSet(imp, null, active(imp), nothingExported)).toBeNull();
  });

  it("a pull set's gaps: the response type to change (its export exists), consumer info and acks to import", () => {
    const next = claim(NEXT);
    const exportClaim = { subject: NEXT, responseType: "Singleton" } as ExportClaim;
    expect(jetStreamSet(next, exportClaim, active(next), nothingExported)!.gaps).toEqual([
      { kind: "singleton_response", subject: NEXT, localSubject: NEXT, exported: true },
      { kind: "consumer_info", subject: INFO, localSubject: INFO, exported: false },
      { kind: "ack", subject: ACK, localSubject: ACK, exported: false },
    ]);
  });

  it("acks are carried only by a service import that keeps the ack subject: not a stream import, not a renaming one", () => {
    const next = claim(NEXT);
    const info = claim(INFO);
    const gapKinds = (...others: ImportClaim[]) =>
      jetStreamSet(next, null, active(next, info, ...others), nothingExported)?.gaps.map((g) => g.kind) ?? [];
    expect(gapKinds(claim(ACK))).toEqual([]);
    expect(gapKinds(claim(ACK, { type: "stream" }))).toEqual(["ack"]);
    // Both sides cover the ack subject, but a client's `$JS.ACK.ORDERS.pull.…` reaches the exporter
    // as `$JS.ACK.ORDERS.ORDERS.…`: the local subject's `*` takes the stream's place.
    expect(gapKinds(claim("$JS.ACK.ORDERS.*.>", { localSubject: "$JS.ACK.*.pull.>" }))).toEqual(["ack"]);
  });

  // Which acks belong to a pull set and which to a push consumer: do the pull import's consumers
  // (stream, consumer; `*` for any) meet the ack import's?
  it.each([
    ["ORDERS.pull", "ORDERS.pull", true],
    ["ORDERS.pull", "OTHER.pull", false],
    ["ORDERS.pull", "ORDERS.other", false],
    ["*.pull", "ORDERS.pull", true],
    ["ORDERS.pull", "*.pull", true],
    ["ORDERS.*", "ORDERS.x", true],
    ["ORDERS.pull", "ORDERS.*", true],
    ["*.pull", "ORDERS.other", false],
    ["ORDERS.*", "OTHER.x", false],
  ])("a pull import of %s and an ack import of %s: the acks are the pull set's: %s", (pulled, acked, theirs) => {
    const pull = claim(`$JS.API.CONSUMER.MSG.NEXT.${pulled}`);
    const ack = claim(`$JS.ACK.${acked}.>`);
    const set = jetStreamSet(ack, null, active(pull, ack), nothingExported);
    expect(set === null).toBe(theirs);
    if (!theirs) expect(set!.gaps.map((g) => g.kind)).toEqual(["deliver_subject"]);
  });
});
