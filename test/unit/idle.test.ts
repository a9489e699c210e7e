/**
 * Idle imports judged from the servers' answers (src/core/idle.ts): which account's subscriptions
 * on which subject are asked about, and when the answers make an import idle. The real-server side
 * (SUBSZ on a two-node cluster, flow confirming each verdict) is test/integration/idle.test.ts.
 */
import { describe, expect, it } from "vitest";
import type { ImportDiagnosis, ImportStatus } from "../../src/core/diagnosis.js";
import { idleFrom, interestQuestion, type InterestQuestion } from "../../src/core/idle.js";

const diagnosis = (over: Partial<ImportDiagnosis>): ImportDiagnosis => ({
  account: "AIMP",
  account_name: "IMP",
  name: "i",
  type: "stream",
  source_account: "AEXP",
  source_account_name: "EXP",
  subject: "ev.x",
  local_subject: null,
  status: "active",
  cause: null,
  message: "",
  remediation: [],
  token: null,
  server: null,
  idle: null,
  ...over,
});

describe("interestQuestion", () => {
  it("asks about a service import's exporter, on the subject the exporter sees", () => {
    const d = diagnosis({ type: "service", subject: "svc.a", local_subject: "mine.a" });
    expect(interestQuestion(d, "svc.renamed")).toEqual({
      account: "AEXP",
      subject: "svc.renamed",
      idle: "no_responders",
    });
  });

  it("asks about a stream import's importer, on its local subject, else the subject", () => {
    expect(interestQuestion(diagnosis({ local_subject: "mine.x" }), "ev.x")).toEqual({
      account: "AIMP",
      subject: "mine.x",
      idle: "no_subscribers",
    });
    expect(interestQuestion(diagnosis({}), "other")).toEqual({
      account: "AIMP",
      subject: "ev.x",
      idle: "no_subscribers",
    });
  });

  it("asks nothing about an import that is not active", () => {
    for (const status of ["inactive", "warning", "undetermined"] satisfies ImportStatus[]) {
      expect(interestQuestion(diagnosis({ status }), "ev.x")).toBeNull();
      expect(interestQuestion(diagnosis({ status, type: "service" }), "ev.x")).toBeNull();
    }
  });
});

describe("idleFrom", () => {
  const stream: InterestQuestion = { account: "AIMP", subject: "ev.x", idle: "no_subscribers" };
  const service: InterestQuestion = { account: "AEXP", subject: "svc.a", idle: "no_responders" };

  it("is the question's reason when every server answered and none has interest", () => {
    expect(idleFrom(stream, [false, false], 2)).toBe("no_subscribers");
    expect(idleFrom(service, [false], 1)).toBe("no_responders");
    expect(idleFrom(service, [false, false, false], 2)).toBe("no_responders");
  });

  it("is not idle when any server has interest, answered or not", () => {
    expect(idleFrom(stream, [false, true], 2)).toBeNull();
    expect(idleFrom(stream, [true, false], 2)).toBeNull();
    expect(idleFrom(stream, [true], 3)).toBeNull();
    expect(idleFrom(stream, [null, true], 2)).toBeNull();
  });

  it("is unknown while a server has not answered or cannot say", () => {
    expect(idleFrom(stream, [false], 2)).toBeNull();
    expect(idleFrom(stream, [], 1)).toBeNull();
    expect(idleFrom(stream, [false, null], 2)).toBeNull();
    expect(idleFrom(stream, [null, false], 2)).toBeNull();
  });
});
