/**
 * Import cycles and the system account's own exports, through the engine alone (their real-server
 * judgement is in the scenario catalogue and test/integration/remediation.test.ts).
 */
import { beforeAll, describe, expect, it } from "vitest";
import { AccountDirectory, OperatorTrust, diagnoseAll, type ImportDiagnosis } from "../../src/core/index.js";
import { applyServerView } from "../../src/core/server-observation.js";
import { TestOperator, nowSec, type TestAccount } from "../support/deployment.js";

let op: TestOperator;
beforeAll(async () => {
  op = await TestOperator.create();
});

function directory(accounts: TestAccount[], jetStreamApi = false): AccountDirectory {
  const trust = new OperatorTrust();
  trust.addOperator(op.jwt);
  trust.jetStreamApi = jetStreamApi;
  const dir = new AccountDirectory(trust);
  for (const a of accounts) dir.upsert(a.jwt);
  return dir;
}

const diagnoses = (dir: AccountDirectory, id: string): ImportDiagnosis[] =>
  diagnoseAll(dir, { now: nowSec(), expiryWarningSeconds: 86400 }, [id]);

/** Accounts in a ring: each exports `subject` and imports it from the next one. */
async function ring(
  names: string[],
  subject: string,
  type: "stream" | "service",
  local?: (i: number) => string | undefined,
): Promise<TestAccount[]> {
  const accounts = await Promise.all(names.map((n) => op.account(n)));
  for (const [i, a] of accounts.entries()) {
    const next = accounts[(i + 1) % accounts.length]!;
    const localSubject = local?.(i);
    await a.reissue({
      exports: [{ subject, type }],
      imports: [{ account: next.id, subject, type, ...(localSubject ? { local_subject: localSubject } : {}) }],
    });
  }
  return accounts;
}

describe("import cycles", () => {
  it("a ring of three accounts: every import of it is import_cycle, naming the whole ring", async () => {
    const accounts = await ring(["A", "B", "C"], "r.>", "stream");
    const dir = directory(accounts);
    for (const a of accounts) {
      const [d] = diagnoses(dir, a.id);
      expect(d!.cause).toBe("import_cycle");
      for (const name of ["A", "B", "C"]) expect(d!.message).toContain(`${name} imports stream "r.>"`);
    }
    // The remediation removes the import that leads back into the importer, then reloads the importer.
    const [a] = diagnoses(dir, accounts[0]!.id);
    expect(a!.remediation).toContain(`nsc delete import --account C --subject 'r.>' --src-account ${accounts[0]!.id}`);
    expect(a!.remediation).toContain("nsc push --account A");
  });

  it("no cycle when the accounts import from each other subjects that do not collide", async () => {
    const a = await op.account("P");
    const b = await op.account("Q");
    await a.reissue({
      exports: [{ subject: "p.>", type: "stream" }],
      imports: [{ account: b.id, subject: "q.>", type: "stream" }],
    });
    await b.reissue({
      exports: [{ subject: "q.>", type: "stream" }],
      imports: [{ account: a.id, subject: "p.>", type: "stream" }],
    });
    const dir = directory([a, b]);
    expect([...diagnoses(dir, a.id), ...diagnoses(dir, b.id)].map((d) => d.cause)).toEqual([null, null]);
  });

  it("services form a cycle the same way", async () => {
    const cyc = directory(await ring(["S1", "S2"], "s.>", "service"));
    expect(
      cyc
        .accounts()
        .flatMap((e) => diagnoses(cyc, e.id))
        .map((d) => d.cause),
    ).toEqual(["import_cycle", "import_cycle"]);
  });

  it("a service import of a cycle whose requests the importer maps away is dead on every load order: local_subject_mapped", async () => {
    // found by the fuzzer (deployment seed 1456143520, 2.12.15): the live service called it a
    // warning where a server honoured the cycle, yet the mapping kept every request from it
    const [s1, s2] = await ring(["M1", "M2"], "s.>", "service");
    await s1!.reissue({ ...s1!.claims, mappings: { "s.>": [{ subject: "gone.>" }] } });
    const dir = directory([s1!, s2!]);
    const [mapped] = diagnoses(dir, s1!.id);
    expect([mapped!.status, mapped!.cause]).toEqual(["inactive", "local_subject_mapped"]);
    expect(applyServerView(mapped!, { servers: 1, registered: 1, honouring: 1, exposing: 1 }).status).toBe("inactive");
    // a share kept on the subject leaves it to the load order
    await s1!.reissue({ ...s1!.claims, mappings: { "s.>": [{ subject: "gone.>", weight: 50 }] } });
    expect(diagnoses(directory([s1!, s2!]), s1!.id)[0]!.cause).toBe("import_cycle");
    expect(diagnoses(dir, s2!.id)[0]!.cause).toBe("import_cycle");
  });

  it("a server that loaded the accounts in another order honours it: a warning, not an exposure", async () => {
    const accounts = await ring(["X", "Y"], "x.>", "stream");
    const [d] = diagnoses(directory(accounts), accounts[0]!.id);
    const seen = applyServerView(d!, { servers: 1, registered: 1, honouring: 1, exposing: 1 });
    expect(seen.status).toBe("warning");
    expect(seen.cause).toBe("import_cycle");
    expect(seen.message).not.toMatch(/security exposure/);
  });
});

describe("the system account's own exports", () => {
  const imp = async (subject: string, local?: string) => {
    const a = await op.account("ORD");
    await a.reissue({
      imports: [{ account: op.system.id, subject, type: "service", ...(local ? { local_subject: local } : {}) }],
    });
    return a;
  };

  it("the importer's own key at token 4 is approved; a stranger's is account_token_position_mismatch, fixed with its own key", async () => {
    const own = await op.account("OWN");
    await own.reissue({
      imports: [
        { account: op.system.id, subject: `$SYS.REQ.ACCOUNT.${own.id}.STATZ`, type: "service", local_subject: "mine" },
      ],
    });
    const stranger = await imp(`$SYS.REQ.ACCOUNT.${own.id}.STATZ`, "mine");
    const dir = directory([op.system, own, stranger]);
    expect(diagnoses(dir, own.id)[0]!.cause).toBeNull();
    const wrong = diagnoses(dir, stranger.id)[0]!;
    expect(wrong.cause).toBe("account_token_position_mismatch");
    expect(wrong.remediation.join("\n")).toContain(
      `--remote-subject '$SYS.REQ.ACCOUNT.${stranger.id}.STATZ' --service --local-subject mine`,
    );
  });

  it("a server ping subject is active, and the message says the server imports it into every account itself", async () => {
    const a = await imp("$SYS.REQ.SERVER.PING.CONNZ");
    const [d] = diagnoses(directory([op.system, a]), a.id);
    expect(d!.cause).toBeNull();
    expect(d!.message).toBe(
      `ORD's service import of "$SYS.REQ.SERVER.PING.CONNZ" from SYS is active (the server imports this subject into every account itself).`,
    );
  });

  it("$JS.API.> is exported only where the servers run JetStream", async () => {
    const a = await imp("$JS.API.INFO", "js.info");
    expect(diagnoses(directory([op.system, a]), a.id)[0]!.cause).toBe("export_not_found");
    expect(diagnoses(directory([op.system, a], true), a.id)[0]!.cause).toBeNull();
  });

  it("a declared export of the same subject in the system account's JWT replaces the server's", async () => {
    // Another operator, whose system account declares the user-info export private.
    const other = await TestOperator.create({ name: "OTHER" });
    await other.system.reissue({ exports: [{ subject: "$SYS.REQ.USER.*.INFO", type: "service", token_req: true }] });
    const importer = await other.account("ORD4");
    await importer.reissue({
      imports: [{ account: other.system.id, subject: `$SYS.REQ.USER.${importer.id}.INFO`, type: "service" }],
    });
    const trust = new OperatorTrust();
    trust.addOperator(other.jwt);
    const dir = new AccountDirectory(trust);
    dir.upsert(other.system.jwt);
    dir.upsert(importer.jwt);
    expect(diagnoses(dir, importer.id)[0]!.cause).toBe("missing_activation_token");
  });

  it("a wider declared service export keeps the server from adding its own; $JS.API.> only by its exact subject", async () => {
    const other = await TestOperator.create({ name: "WIDE" });
    await other.system.reissue({ exports: [{ subject: ">", type: "service" }] });
    const stranger = await other.account("STRANGER");
    const foreign = `$SYS.REQ.ACCOUNT.${other.system.id}.STATZ`;
    await stranger.reissue({
      imports: [{ account: other.system.id, subject: foreign, type: "service", local_subject: "theirs" }],
    });
    const trust = new OperatorTrust();
    trust.addOperator(other.jwt);
    trust.jetStreamApi = true;
    const dir = new AccountDirectory(trust);
    dir.upsert(other.system.jwt);
    dir.upsert(stranger.jwt);
    // The declared public `>` approves it: no token position applies (fuzz scenario fixed-system-export-declared-wider).
    expect(diagnoses(dir, stranger.id)[0]!.cause).toBeNull();
    const held = dir.exportsOf(other.system.id)!.all.map((e) => e.subject);
    expect(held).toEqual([">", "$JS.API.>"]);
  });
});

describe("an import that only leads into a cycle", () => {
  it("is not import_cycle: the server has already broken that cycle, whichever way it was loaded", async () => {
    const [b, c] = await ring(["B", "C"], "l.>", "stream");
    const a = await op.account("A");
    await a.reissue({
      exports: [{ subject: "l.>", type: "stream" }],
      imports: [{ account: b!.id, subject: "l.>", type: "stream" }],
    });
    const dir = directory([a, b!, c!]);
    expect(diagnoses(dir, a.id).map((d) => d.cause)).toEqual([null]);
    expect([...diagnoses(dir, b!.id), ...diagnoses(dir, c!.id)].map((d) => d.cause)).toEqual([
      "import_cycle",
      "import_cycle",
    ]);
  });
});

describe("a subject the server imports into every account, imported back by the system account", () => {
  // Measured on every pinned line (test/integration/system-import-cycle.test.ts): the server's own
  // import goes through the cycle check too, and the system account's back import refuses it.
  it.each([
    ["not approved by the system account's exports", (_: string) => "$SYS.REQ.USER.INFO"],
    ["approved, the per-account subject", (id: string) => `$SYS.REQ.USER.${id}.INFO`],
  ])("declared %s: the import is import_cycle, the back import active", async (_, remote) => {
    const other = await TestOperator.create({ name: "SYSCYCLE" });
    const a = await other.account("A");
    await a.reissue({
      exports: [{ subject: "$SYS.REQ.USER.INFO", type: "service" }],
      imports: [
        { account: other.system.id, subject: remote(a.id), type: "service", local_subject: "$SYS.REQ.USER.INFO" },
      ],
    });
    await other.system.reissue({ imports: [{ account: a.id, subject: "$SYS.REQ.USER.INFO", type: "service" }] });
    const trust = new OperatorTrust();
    trust.addOperator(other.jwt);
    const dir = new AccountDirectory(trust);
    for (const acc of [other.system, a]) dir.upsert(acc.jwt);
    const [imp] = diagnoses(dir, a.id);
    expect([imp!.status, imp!.cause]).toEqual(["undetermined", "import_cycle"]);
    expect(imp!.message).toContain(`SYS imports service "$SYS.REQ.USER.INFO" from A`);
    expect(diagnoses(dir, other.system.id).map((d) => [d.status, d.cause])).toEqual([["active", null]]);
  });
});
