/** The import graph's model and its text formats, without a browser or Graphviz. */
import { describe, expect, it } from "vitest";
import type { ImportDiagnosis } from "../../src/core/diagnosis.js";
import { importGraph, toDot, toMermaid } from "../../src/core/graph.js";
import { graphPage, scriptJson } from "../../src/shell/graph-page.js";

const A = "A".padEnd(56, "A");
const B = "A".padEnd(56, "B");
const C = "A".padEnd(56, "C");

function diagnosis(over: Partial<ImportDiagnosis>): ImportDiagnosis {
  return {
    account: B,
    account_name: "IMP",
    name: null,
    type: "stream",
    source_account: A,
    source_account_name: "EXP",
    subject: "s.1",
    local_subject: null,
    status: "active",
    cause: null,
    message: "ok",
    remediation: [],
    token: null,
    server: null,
    idle: null,
    ...over,
  };
}

const HOSTILE = `x"; "y" -> "z\\\n</script><b>`;

describe("importGraph", () => {
  it("one node per account on an import, one edge per import from source to importer", () => {
    const g = importGraph(
      [
        diagnosis({}),
        diagnosis({ subject: "s.2", status: "inactive", cause: "export_not_found" }),
        diagnosis({ account: C, account_name: null, source_account: B, source_account_name: "IMP" }),
      ],
      new Date(0),
    );
    // By name, an unnamed account by its key.
    expect(g.nodes.map((n) => [n.id, n.name])).toEqual([
      [C, null],
      [A, "EXP"],
      [B, "IMP"],
    ]);
    expect(g.edges.map((e) => [e.from, e.to, e.subject, e.status])).toEqual([
      [A, B, "s.1", "active"],
      [A, B, "s.2", "inactive"],
      [B, C, "s.1", "active"],
    ]);
  });
});

describe("DOT", () => {
  it("colours by status, dashes idle imports, and keeps every name one quoted string", () => {
    const dot = toDot(
      importGraph(
        [
          diagnosis({ account_name: HOSTILE, status: "inactive", cause: "export_not_found" }),
          diagnosis({ subject: "w", status: "warning", cause: "activation_expiring_soon" }),
          diagnosis({ subject: "i", idle: "no_subscribers" }),
        ],
        new Date(0),
      ),
    );
    const edges = dot.split("\n").filter((l) => /^ {2}"A[A-Z]{55}" -> /.test(l));
    expect(edges).toHaveLength(3);
    expect(edges.find((l) => l.includes("export_not_found"))).toContain("color=red");
    expect(edges.find((l) => l.includes("activation_expiring_soon"))).toContain("color=orange");
    expect(edges.find((l) => l.includes('"stream i"'))).toContain("style=dashed");
    // Outside quoted strings each statement line holds only DOT syntax: quotes balance once escapes are removed.
    for (const line of dot.split("\n"))
      expect((line.replace(/\\\\/g, "").replace(/\\"/g, "").match(/"/g) ?? []).length % 2).toBe(0);
    expect(dot).toContain(`label="x\\"; \\"y\\" -> \\"z\\\\\\n</script><b>"`);
  });
});

describe("Mermaid", () => {
  it("turns every character that could end a label or become markup into an entity code", () => {
    const m = toMermaid(
      importGraph([diagnosis({ account_name: HOSTILE, status: "inactive", cause: "export_not_found" })], new Date(0)),
    );
    expect(m).toContain('["x#34;#59; #34;y#34; -#62; #34;z#92;#10;#60;/script#62;#60;b#62;"]');
    expect(m).toMatch(/linkStyle 0 stroke:red/);
  });
});

describe("the page", () => {
  it("embeds the graph as JSON that cannot end its script element", () => {
    expect(scriptJson({ s: "</script><!-- \u2028 &" })).toBe('{"s":"\\u003c/script\\u003e\\u003c!-- \\u2028 \\u0026"}');
    const page = graphPage(importGraph([diagnosis({ account_name: HOSTILE })], new Date(0)), { title: "<t>" });
    expect(page.match(/<\/script>/g)).toHaveLength(3); // data, layout library, page script
    expect(page).toContain("<title>&#60;t&#62;</title>");
    expect(page).not.toContain("<b>");
  });
});

describe("the whole text", () => {
  // Given out of order; an account first seen without a name (as an importer) keeps the name it is given later.
  // Built in each test: Stryker's pass 1 counts what runs while tests are collected as static.
  const graph = () =>
    importGraph(
      [
        diagnosis({
          subject: "s.2",
          type: "service",
          local_subject: "s.2",
          status: "inactive",
          cause: "export_not_found",
          message: 'no "s.2"',
        }),
        diagnosis({ account: C, account_name: null, subject: "z", idle: "no_subscribers" }),
        diagnosis({
          source_account: C,
          source_account_name: "SRC",
          subject: "u",
          status: "undetermined",
          cause: "import_cycle",
          message: "cy\tcle",
        }),
        diagnosis({
          subject: "s.2",
          type: "stream",
          local_subject: "l.2",
          status: "warning",
          cause: "activation_expiring_soon",
          message: "soon",
        }),
        diagnosis({ subject: "s.1" }),
      ],
      new Date(0),
    );

  it("in DOT", () => {
    expect(toDot(graph())).toBe(
      [
        "digraph imports {",
        "  rankdir=LR;",
        '  node [shape=box, style=rounded, fontname="sans-serif"];',
        '  edge [fontname="sans-serif", fontsize=10];',
        `  "${A}" [label="EXP", tooltip="${A}"];`,
        `  "${B}" [label="IMP", tooltip="${B}"];`,
        `  "${C}" [label="SRC", tooltip="${C}"];`,
        `  "${A}" -> "${B}" [label="stream s.1", tooltip="active"];`,
        `  "${A}" -> "${B}" [label="service s.2 (export_not_found)", color=red, fontcolor=red, tooltip="no \\"s.2\\""];`,
        `  "${A}" -> "${B}" [label="stream s.2 → l.2 (activation_expiring_soon)", color=orange, fontcolor=orange, tooltip="soon"];`,
        `  "${A}" -> "${C}" [label="stream z", style=dashed, tooltip="idle: no_subscribers"];`,
        `  "${C}" -> "${B}" [label="stream u (import_cycle)", color=purple, fontcolor=purple, tooltip="cy cle"];`,
        "}",
        "",
      ].join("\n"),
    );
  });

  it("in Mermaid", () => {
    expect(toMermaid(graph())).toBe(
      [
        "flowchart LR",
        '  a0["EXP"]',
        '  a1["IMP"]',
        '  a2["SRC"]',
        '  a0 -->|"stream s.1"| a1',
        '  a0 -->|"service s.2 (export_not_found)"| a1',
        '  a0 -->|"stream s.2 → l.2 (activation_expiring_soon)"| a1',
        '  a0 -.->|"stream z"| a2',
        '  a2 -->|"stream u (import_cycle)"| a1',
        "  linkStyle 1 stroke:red,color:red",
        "  linkStyle 2 stroke:orange,color:orange",
        "  linkStyle 4 stroke:purple,color:purple",
        "",
      ].join("\n"),
    );
  });
});
