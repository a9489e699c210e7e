/**
 * The accounts and their imports as a graph: every account that imports or is imported from is a
 * node, every declared import one edge from the source account to the importer, coloured by its
 * verdict. Rendered as Graphviz DOT and Mermaid here; the HTML page draws the same model.
 * Every name and subject comes from a JWT: each format escapes it so that it stays text.
 */
import type { ImportDiagnosis } from "./diagnosis.js";

export type EdgeLook = "active" | "inactive" | "warning" | "undetermined";

export interface GraphNode {
  id: string;
  name: string | null;
}

export interface GraphEdge {
  /** The source (exporting) account. */
  from: string;
  /** The importing account. */
  to: string;
  type: "stream" | "service";
  subject: string;
  local_subject: string | null;
  status: ImportDiagnosis["status"];
  cause: ImportDiagnosis["cause"];
  /** An active import that carries nothing (null: not idle, or not known). */
  idle: ImportDiagnosis["idle"];
  message: string;
  remediation: string[];
}

export interface ImportGraph {
  generated_at: string;
  nodes: GraphNode[];
  edges: GraphEdge[];
}

export function importGraph(diagnoses: readonly ImportDiagnosis[], at: Date): ImportGraph {
  const nodes = new Map<string, GraphNode>();
  const node = (id: string, name: string | null) => {
    const known = nodes.get(id);
    if (!known || (known.name === null && name !== null)) nodes.set(id, { id, name });
  };
  const edges = diagnoses.map((d): GraphEdge => {
    node(d.source_account, d.source_account_name);
    node(d.account, d.account_name);
    return {
      from: d.source_account,
      to: d.account,
      type: d.type,
      subject: d.subject,
      local_subject: d.local_subject,
      status: d.status,
      cause: d.cause,
      idle: d.idle,
      message: d.message,
      remediation: d.remediation,
    };
  });
  const label = (n: GraphNode) => n.name ?? n.id;
  return {
    generated_at: at.toISOString(),
    nodes: [...nodes.values()].sort((a, b) => label(a).localeCompare(label(b)) || a.id.localeCompare(b.id)),
    edges: edges.sort(
      (a, b) =>
        a.from.localeCompare(b.from) ||
        a.to.localeCompare(b.to) ||
        a.subject.localeCompare(b.subject) ||
        a.type.localeCompare(b.type),
    ),
  };
}

/** What an edge is labelled with: its type and subject (and the local subject it lands on). */
export function edgeLabel(e: GraphEdge): string {
  return `${e.type} ${e.subject}${e.local_subject && e.local_subject !== e.subject ? ` → ${e.local_subject}` : ""}${e.cause ? ` (${e.cause})` : ""}`;
}

const DOT_COLOUR: Record<EdgeLook, string | null> = {
  active: null,
  inactive: "red",
  warning: "orange",
  undetermined: "purple",
};

/** A DOT double-quoted string: backslash and quote escaped, line breaks and other controls made harmless. */
function dotString(s: string): string {
  const escaped = s
    .replace(/\\/g, "\\\\")
    .replace(/"/g, '\\"')
    .replace(/\r?\n/g, "\\n")
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u001f\u007f]/g, " ");
  return `"${escaped}"`;
}

export function toDot(g: ImportGraph): string {
  const lines = [
    "digraph imports {",
    "  rankdir=LR;",
    '  node [shape=box, style=rounded, fontname="sans-serif"];',
    '  edge [fontname="sans-serif", fontsize=10];',
  ];
  for (const n of g.nodes)
    lines.push(`  ${dotString(n.id)} [label=${dotString(n.name ?? n.id)}, tooltip=${dotString(n.id)}];`);
  for (const e of g.edges) {
    const attrs = [`label=${dotString(edgeLabel(e))}`];
    const colour = DOT_COLOUR[e.status];
    if (colour) attrs.push(`color=${colour}`, `fontcolor=${colour}`);
    if (e.idle) attrs.push("style=dashed");
    attrs.push(`tooltip=${dotString(e.status === "active" ? (e.idle ? `idle: ${e.idle}` : "active") : e.message)}`);
    lines.push(`  ${dotString(e.from)} -> ${dotString(e.to)} [${attrs.join(", ")}];`);
  }
  lines.push("}");
  return `${lines.join("\n")}\n`;
}

const MERMAID_COLOUR: Record<EdgeLook, string | null> = {
  active: null,
  inactive: "red",
  warning: "orange",
  undetermined: "purple",
};

/** Mermaid text in a quoted label: every character that could end it or become markup as an entity code. */
function mermaidText(s: string): string {
  return s.replace(/[^\p{L}\p{N} .,:_\-+*()/$→]/gu, (c) => `#${c.codePointAt(0)};`);
}

export function toMermaid(g: ImportGraph): string {
  const ids = new Map(g.nodes.map((n, i) => [n.id, `a${i}`]));
  const lines = ["flowchart LR"];
  for (const n of g.nodes) lines.push(`  ${ids.get(n.id)}["${mermaidText(n.name ?? n.id)}"]`);
  const styles: string[] = [];
  g.edges.forEach((e, i) => {
    lines.push(`  ${ids.get(e.from)} ${e.idle ? "-.->" : "-->"}|"${mermaidText(edgeLabel(e))}"| ${ids.get(e.to)}`);
    const colour = MERMAID_COLOUR[e.status];
    if (colour) styles.push(`  linkStyle ${i} stroke:${colour},color:${colour}`);
  });
  return `${[...lines, ...styles].join("\n")}\n`;
}
