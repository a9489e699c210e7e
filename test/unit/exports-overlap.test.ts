/**
 * Intersecting exports (`a.*.c` and `a.b.*`): jwt accepts them, both contain `a.b.c`, and
 * nats-server holds an import of `a.b.c` against the first it meets in its Go map's order, drawn
 * anew at each check (docs/decisions.md 45). Where they disagree the verdict is undetermined
 * (`exports_overlap`); where they agree it is their common outcome, whichever is first in the JWT.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { AccountDirectory, OperatorTrust, diagnoseAll, type ImportDiagnosis } from "../../src/core/index.js";
import { orphanedExports } from "../../src/core/audit/orphaned.js";
import { applyServerView } from "../../src/core/server-observation.js";
import { TestOperator, activation, nowSec, type TestAccount } from "../support/deployment.js";
import type { Export, Import } from "@nats-io/jwt";

const WEEK = 7 * 86400;
let op: TestOperator;
beforeAll(async () => {
  op = await TestOperator.create();
});

interface Judged {
  d: ImportDiagnosis;
  dir: AccountDirectory;
  exporter: TestAccount;
}

async function judge(
  exports: Partial<Export>[],
  imports: (exporter: TestAccount, importerId: string) => Promise<Partial<Import>[]>,
): Promise<Judged> {
  const exporter = await op.account("EXP", { exports: exports as Export[] });
  const importer = await op.account("IMP");
  await importer.reissue({
    imports: (await imports(exporter, importer.id)).map((i) => ({ account: exporter.id, ...i })) as Import[],
  });
  const trust = new OperatorTrust();
  trust.addOperator(op.jwt);
  const dir = new AccountDirectory(trust);
  dir.upsert(exporter.jwt);
  dir.upsert(importer.jwt);
  return { d: diagnoseAll(dir, { now: nowSec(), expiryWarningSeconds: WEEK }, [importer.id])[0]!, dir, exporter };
}

const verdict = ({ d }: Judged) => [d.status, d.cause];
const plain =
  (subject: string, type: "stream" | "service" = "service") =>
  async () =>
    [{ subject, type }] as Partial<Import>[];

const svc = (subject: string, extra: Partial<Export> = {}): Partial<Export> => ({ subject, type: "service", ...extra });
const str = (subject: string, extra: Partial<Export> = {}): Partial<Export> => ({ subject, type: "stream", ...extra });

describe("an import two intersecting exports contain", () => {
  it("public and private (no token): undetermined, in either JWT order", async () => {
    const both = [svc("a.*.c"), svc("a.b.*", { token_req: true })];
    for (const exports of [both, [...both].reverse()]) {
      const j = await judge(exports, plain("a.b.c"));
      expect(verdict(j)).toEqual(["undetermined", "exports_overlap"]);
      expect(j.d.message).toContain('"a.*.c" (public: honours it)');
      expect(j.d.message).toContain('"a.b.*" (private: refuses it, no activation token)');
    }
  });

  it("streams x.* (public) and *.y (private): undetermined", async () => {
    const j = await judge([str("x.*"), str("*.y", { token_req: true })], plain("x.y", "stream"));
    expect(verdict(j)).toEqual(["undetermined", "exports_overlap"]);
  });

  it("an account token position the import fails beside a public export: undetermined", async () => {
    const j = await judge([svc("q.*.z", { account_token_position: 2 }), svc("q.b.*")], plain("q.b.z"));
    expect(verdict(j)).toEqual(["undetermined", "exports_overlap"]);
    expect(j.d.message).toContain("account token position 2: refuses it");
  });

  it("both approve (a token satisfies the private one): active", async () => {
    const j = await judge([svc("a.*.c"), svc("a.b.*", { token_req: true })], async (e, id) => [
      { subject: "a.b.c", type: "service", token: await activation(e, id, "a.b.c", "service") },
    ]);
    expect(verdict(j)).toEqual(["active", null]);
  });

  it("both refuse: inactive, with the first one's cause", async () => {
    const j = await judge(
      [svc("a.*.c", { account_token_position: 2 }), svc("a.b.*", { token_req: true })],
      plain("a.b.c"),
    );
    expect(verdict(j)).toEqual(["inactive", "account_token_position_mismatch"]);
  });

  it("both public: active; services do not count against a stream import", async () => {
    expect(verdict(await judge([svc("a.*.c"), svc("a.b.*")], plain("a.b.c")))).toEqual(["active", null]);
    const j = await judge([str("a.*.c"), svc("a.b.*", { token_req: true })], plain("a.b.c", "stream"));
    expect(verdict(j)).toEqual(["active", null]);
  });

  it("one approves with a token expiring soon, the other is public: the warning stands", async () => {
    const exp = nowSec() + 3600;
    const j = await judge([svc("a.*.c"), svc("a.b.*", { token_req: true })], async (e, id) => [
      { subject: "a.b.c", type: "service", token: await activation(e, id, "a.b.c", "service", { exp }) },
    ]);
    expect(verdict(j)).toEqual(["warning", "activation_expiring_soon"]);
  });

  it("the fix: a token for the import, or the refusing export removed or made public, each pushed with the importer reloaded", async () => {
    const j = await judge([svc("a.*.c"), svc("a.b.*", { token_req: true })], plain("a.b.c"));
    const r = j.d.remediation;
    expect(r).toContain(
      `nsc generate activation --account EXP --target-account ${j.d.account} --subject a.b.c --output-file IMP-a.b.c.activation.jwt`,
    );
    expect(r).toContain("nsc delete export --account EXP --subject 'a.b.*'");
    expect(r).toContain("nsc edit export --account EXP --subject 'a.b.*' --private=false");
    expect(r.filter((l) => l === "nsc push --account EXP")).toHaveLength(2);
    expect(r.at(-1)).toBe("nsc push --account IMP");
    // An account token position is not a token's business: no activation offered, no --private=false.
    const atp = await judge([svc("q.*.z", { account_token_position: 2 }), svc("q.b.*")], plain("q.b.z"));
    expect(atp.d.remediation.some((l) => l.startsWith("nsc generate activation"))).toBe(false);
    expect(atp.d.remediation).toContain("nsc delete export --account EXP --subject 'q.*.z'");
    expect(atp.d.remediation.some((l) => l.includes("--private=false"))).toBe(false);
  });

  it("the servers' view decides it: inactive where all refuse, warning where one honours", async () => {
    const { d } = await judge([svc("a.*.c"), svc("a.b.*", { token_req: true })], plain("a.b.c"));
    const refused = applyServerView(d, { servers: 2, registered: 0, honouring: 0, exposing: 0 });
    expect([refused.status, refused.cause]).toEqual(["inactive", "exports_overlap"]);
    expect(refused.message).toContain("All 2 server(s) that have IMP loaded picked a refusing export");
    const honoured = applyServerView(d, { servers: 2, registered: 1, honouring: 1, exposing: 1 });
    expect([honoured.status, honoured.cause]).toEqual(["warning", "exports_overlap"]);
    expect(honoured.message).toContain("1 of 2 server(s) picked an export that approves it");
  });

  it("the audit counts both exports as used", async () => {
    const j = await judge([svc("a.*.c"), svc("a.b.*", { token_req: true }), svc("unused")], plain("a.b.c"));
    const orphaned = orphanedExports(j.dir, j.exporter.id).orphaned.map((o) => o.subject);
    expect(orphaned).toEqual(["unused"]);
  });
});
