/** Orphaned exports: exports no account imports, at info severity, with the imports that come close. */
import type { Export, Import } from "@nats-io/jwt";
import { beforeAll, describe, expect, it } from "vitest";
import { orphanedExports } from "../../src/core/audit/orphaned.js";
import { TestOperator } from "../support/deployment.js";
import { buildFixture, directoryOf, type Fixture } from "../support/whatif-fixture.js";

let fx: Fixture;
beforeAll(async () => {
  fx = await buildFixture();
});

describe("orphaned exports", () => {
  it("lists exactly the exports no import matches, the system account apart", () => {
    const report = orphanedExports(fx.directory());
    expect(report.exports).toBe(5);
    expect(report.orphaned.map((e) => [e.account_name, e.subject, e.severity])).toEqual([
      ["EXP", "unused.>", "info"],
      ["EXP", "narrow.x.>", "info"],
    ]);
    expect(report.orphaned[0]).toMatchObject({
      type: "stream",
      token_req: false,
      account_token_position: null,
      near_misses: [],
      message: `EXP's stream export "unused.>" is imported by no account.`,
      remediation: [
        "# if no account should import it, remove it:",
        "nsc delete export --account EXP --subject 'unused.>'",
        "nsc push --account EXP",
      ],
    });
  });

  it("names the import that comes close without matching", () => {
    const narrow = orphanedExports(fx.directory()).orphaned.find((e) => e.subject === "narrow.x.>")!;
    expect(narrow.near_misses).toEqual([
      { account: fx.near.id, account_name: "NEAR", subject: "narrow.>", type: "stream", cause: "subject_mismatch" },
    ]);
    expect(narrow.message).toMatch(
      /One import comes close without matching it \(NEAR imports "narrow.>", which it does not contain\)/,
    );
  });

  it("filters by exporter", () => {
    expect(orphanedExports(fx.directory(), fx.imp1.id)).toEqual({ exports: 0, orphaned: [] });
    expect(orphanedExports(fx.directory(), fx.exp.id).orphaned).toHaveLength(2);
  });

  type Row = [string, Partial<Export>[], (exporterId: string) => Partial<Import>[], string[], string[]?];
  it.each<Row>([
    [
      "an exact import uses its export",
      [{ subject: "a.b", type: "stream" }],
      () => [{ subject: "a.b", type: "stream" }],
      [],
    ],
    [
      "a subset import uses the export that contains it",
      [{ subject: "a.>", type: "stream" }],
      () => [{ subject: "a.b.c", type: "stream" }],
      [],
    ],
    [
      "a service import is held against the exporter-side subject",
      [{ subject: "s.>", type: "service" }],
      () => [{ subject: "s.1", type: "service", local_subject: "mine.1" }],
      [],
    ],
    [
      "the exact export wins over the one that contains it",
      [
        { subject: "a.>", type: "stream" },
        { subject: "b.c", type: "stream" },
      ],
      () => [
        { subject: "a.x", type: "stream" },
        { subject: "b.c", type: "stream" },
      ],
      [],
    ],
    [
      "an import of the other type does not use it",
      [{ subject: "t.>", type: "service" }],
      () => [{ subject: "t.1", type: "stream" }],
      ["t.>"],
      ["export_type_mismatch"],
    ],
    [
      "a private export imported without a token is still imported",
      [{ subject: "p.>", type: "stream", token_req: true }],
      () => [{ subject: "p.1", type: "stream" }],
      [],
    ],
  ])("%s", async (_n, exports, imports, orphaned, nearCauses = []) => {
    const op = await TestOperator.create();
    const e = await op.account("E", { exports: exports.map((x, i) => ({ name: `e${i}`, ...x })) as Export[] });
    const i = await op.account("I", {
      imports: imports(e.id).map((x, n) => ({ name: `i${n}`, account: e.id, ...x })) as Import[],
    });
    const report = orphanedExports(directoryOf(op, [op.system, e, i]));
    expect(report.orphaned.map((o) => o.subject)).toEqual(orphaned);
    expect(report.orphaned.flatMap((o) => o.near_misses.map((m) => m.cause))).toEqual(nearCauses);
  });

  it("the system account's exports are left out: the server imports them into every account by itself", async () => {
    const op = await TestOperator.create();
    await op.system.reissue({
      exports: [
        { name: "connz", subject: "$SYS.REQ.ACCOUNT.*.CONNZ", type: "service", account_token_position: 4 },
      ] as Export[],
    });
    await op.reissue();
    expect(orphanedExports(directoryOf(op, [op.system]))).toEqual({ exports: 0, orphaned: [] });
  });

  it("an import from an account the server will not load still counts", async () => {
    const op = await TestOperator.create();
    const e = await op.account("E", { exports: [{ name: "x", subject: "x.>", type: "stream" }] as Export[] });
    const i = await op.account(
      "I",
      { imports: [{ name: "x", account: e.id, subject: "x.1", type: "stream" }] as Import[] },
      { exp: 1 },
    );
    expect(orphanedExports(directoryOf(op, [op.system, e, i])).orphaned).toEqual([]);
  });
});
