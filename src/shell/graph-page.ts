/**
 * The import graph as one self-contained HTML page: the layout library (dagre, from npm, inlined),
 * the drawing script and the graph itself are all in the page, so it works offline and from a file.
 * The live service serves the same page at `/` with `live` set: it then re-reads `graph.json`
 * beside it and redraws when the verdicts change.
 *
 * Every name, subject and message comes from a JWT: the data is embedded as JSON with `<`, `>`,
 * `&` and the two JavaScript line separators escaped (it cannot end its script element), and the
 * page script puts text into the page only through textContent and attributes, never as markup.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import type { ImportGraph } from "../core/graph.js";

let layoutLibrary: string | null = null;

/** dagre's browser bundle (it carries graphlib), read once from the installed package. */
function dagreBundle(): string {
  if (layoutLibrary === null) {
    const pkg = createRequire(import.meta.url).resolve("@dagrejs/dagre/package.json");
    const bundle = readFileSync(join(dirname(pkg), "dist", "dagre.min.js"), "utf8");
    // Inlined, a closing tag in it would end its script element.
    if (/<\/script/i.test(bundle))
      throw new Error("the layout library's bundle cannot be inlined: it contains </script");
    layoutLibrary = bundle;
  }
  return layoutLibrary;
}

/** JSON that is safe inside a <script> element. */
export function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(
    /[<>&\u2028\u2029]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

/** Text safe in HTML content and attribute values. */
function html(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** What the page may load: nothing but itself, and (live) its data from the same origin. */
export const GRAPH_PAGE_CSP =
  "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'";

export interface PageOptions {
  title?: string;
  /** Re-read this URL (relative to the page) every few seconds and redraw on change. */
  live?: string;
}

export function graphPage(graph: ImportGraph, opts: PageOptions = {}): string {
  const title = opts.title ?? "NATS account imports";
  const live = opts.live ? ` data-live="${html(opts.live)}"` : "";
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="${GRAPH_PAGE_CSP}">
<title>${html(title)}</title>
<style>${STYLE}</style>
</head>
<body${live}>
<header><h1>${html(title)}</h1><p id="summary"></p>
<p class="legend"><span class="key active"></span>active <span class="key warning"></span>warning <span class="key inactive"></span>inactive <span class="key undetermined"></span>undetermined <span class="key idle"></span>idle (active, carries nothing)</p></header>
<main><div id="canvas"></div>
<aside id="details"><p class="hint">Hover over or click an import (an arrow from the source account to the importer) to see its cause and its fix.</p></aside></main>
<script id="graph-data" type="application/json">${scriptJson(graph)}</script>
<script>${dagreBundle()}</script>
<script>${SCRIPT}</script>
</body>
</html>
`;
}

const STYLE = `
body { font-family: system-ui, sans-serif; margin: 0; color: #1d2733; background: #fafbfc; }
header { padding: 12px 20px; border-bottom: 1px solid #d7dde3; background: #fff; }
h1 { font-size: 18px; margin: 0 0 4px; }
header p { margin: 2px 0; font-size: 13px; color: #4a5664; }
main { display: flex; align-items: flex-start; }
#canvas { flex: 1; min-width: 0; overflow: auto; padding: 16px; }
#details { width: 380px; min-height: 200px; padding: 12px 16px; border-left: 1px solid #d7dde3; background: #fff; font-size: 13px; position: sticky; top: 0; }
#details h2 { font-size: 15px; margin: 0 0 6px; word-break: break-all; }
#details .status { font-weight: 600; }
#details code { display: block; white-space: pre-wrap; word-break: break-all; background: #f1f3f5; padding: 4px 6px; margin: 3px 0; font-size: 12px; }
.hint { color: #6b7785; }
.key { display: inline-block; width: 22px; height: 0; border-top: 3px solid #4a5664; margin: 0 4px 3px 10px; vertical-align: middle; }
.key.active { border-color: #2f7d32; } .key.warning { border-color: orange; } .key.inactive { border-color: red; } .key.undetermined { border-color: purple; } .key.idle { border-top-style: dashed; }
svg .node rect { fill: #fff; stroke: #4a5664; stroke-width: 1.2; rx: 6; }
svg .node text { font-size: 13px; fill: #1d2733; }
svg .edge path.line { fill: none; stroke-width: 2; }
svg .edge path.hit { fill: none; stroke: transparent; stroke-width: 14; cursor: pointer; }
svg .edge text { font-size: 11px; pointer-events: none; }
svg .edge.selected path.line { stroke-width: 3.5; }
`;

/** The page's own script: lays the graph out with dagre and draws it as SVG. Plain ES2017, no markup strings. */
const SCRIPT = `
"use strict";
(function () {
  var SVG = "http://www.w3.org/2000/svg";
  var COLOURS = { active: "#2f7d32", warning: "orange", inactive: "red", undetermined: "purple" };
  var current = null;
  var selected = null;

  function el(name, attrs, parent) {
    var e = document.createElementNS(SVG, name);
    for (var k in attrs) e.setAttribute(k, String(attrs[k]));
    if (parent) parent.appendChild(e);
    return e;
  }
  function html(name, text, parent, cls) {
    var e = document.createElement(name);
    if (text !== null) e.textContent = text;
    if (cls) e.className = cls;
    parent.appendChild(e);
    return e;
  }
  function nameOf(graph, id) {
    for (var i = 0; i < graph.nodes.length; i++) if (graph.nodes[i].id === id) return graph.nodes[i].name || id;
    return id;
  }
  function label(e) {
    return e.type + " " + e.subject + (e.local_subject && e.local_subject !== e.subject ? " \\u2192 " + e.local_subject : "");
  }

  function show(graph, e) {
    var box = document.getElementById("details");
    box.textContent = "";
    html("h2", nameOf(graph, e.from) + " \\u2192 " + nameOf(graph, e.to), box);
    html("p", label(e), box);
    var status = html("p", e.status + (e.cause ? ": " + e.cause : "") + (e.idle ? " (idle: " + e.idle + ")" : ""), box, "status");
    status.style.color = COLOURS[e.status];
    if (e.status !== "active" || e.idle) html("p", e.message, box);
    if (e.remediation && e.remediation.length) {
      html("p", "Remediation:", box);
      for (var i = 0; i < e.remediation.length; i++) html("code", e.remediation[i], box);
    }
  }

  function draw(graph) {
    var g = new dagre.graphlib.Graph({ multigraph: true });
    g.setGraph({ rankdir: "LR", nodesep: 30, ranksep: 110, edgesep: 20, marginx: 10, marginy: 10 });
    g.setDefaultEdgeLabel(function () { return {}; });
    graph.nodes.forEach(function (n) {
      var text = n.name || n.id;
      g.setNode(n.id, { label: text, width: Math.max(60, 8 * text.length + 24), height: 34 });
    });
    graph.edges.forEach(function (e, i) {
      g.setEdge(e.from, e.to, { width: Math.min(260, 6 * label(e).length), height: 14, labelpos: "c" }, "e" + i);
    });
    dagre.layout(g);
    var canvas = document.getElementById("canvas");
    canvas.textContent = "";
    var size = g.graph();
    var svg = el("svg", { width: Math.max(200, size.width + 20), height: Math.max(100, size.height + 20), role: "img", "aria-label": "import graph" }, canvas);
    var defs = el("defs", {}, svg);
    ["active", "warning", "inactive", "undetermined"].forEach(function (s) {
      var m = el("marker", { id: "arrow-" + s, viewBox: "0 0 10 10", refX: 10, refY: 5, markerUnits: "userSpaceOnUse", markerWidth: 12, markerHeight: 12, orient: "auto-start-reverse" }, defs);
      el("path", { d: "M 0 0 L 10 5 L 0 10 z", fill: COLOURS[s] }, m);
    });
    graph.edges.forEach(function (e, i) {
      var lay = g.edge(e.from, e.to, "e" + i);
      var d = lay.points.map(function (p, j) { return (j ? "L" : "M") + p.x.toFixed(1) + " " + p.y.toFixed(1); }).join(" ");
      var group = el("g", { "class": "edge", "data-status": e.status, "data-cause": e.cause || "", "data-idle": e.idle || "", "data-from": e.from, "data-to": e.to, tabindex: 0 }, svg);
      var title = el("title", {}, group);
      title.textContent = label(e) + ": " + e.status + (e.cause ? " (" + e.cause + ")" : "");
      var line = el("path", { "class": "line", d: d, stroke: COLOURS[e.status], "marker-end": "url(#arrow-" + e.status + ")" }, group);
      if (e.idle) line.setAttribute("stroke-dasharray", "6 4");
      el("path", { "class": "hit", d: d }, group);
      var text = el("text", { x: lay.x, y: lay.y + 4, "text-anchor": "middle", fill: COLOURS[e.status] }, group);
      text.textContent = label(e);
      var pick = function () {
        if (selected) selected.classList.remove("selected");
        selected = group;
        group.classList.add("selected");
        show(graph, e);
      };
      group.addEventListener("mouseenter", function () { show(graph, e); });
      group.addEventListener("click", pick);
      group.addEventListener("focus", pick);
    });
    graph.nodes.forEach(function (n) {
      var lay = g.node(n.id);
      var group = el("g", { "class": "node", "data-account": n.id, transform: "translate(" + (lay.x - lay.width / 2) + "," + (lay.y - lay.height / 2) + ")" }, svg);
      el("title", {}, group).textContent = n.id;
      el("rect", { width: lay.width, height: lay.height, rx: 6 }, group);
      el("text", { x: lay.width / 2, y: lay.height / 2 + 5, "text-anchor": "middle" }, group).textContent = n.name || n.id;
    });
    var counts = { active: 0, warning: 0, inactive: 0, undetermined: 0, idle: 0 };
    graph.edges.forEach(function (e) { counts[e.status]++; if (e.idle) counts.idle++; });
    document.getElementById("summary").textContent = graph.nodes.length + " accounts, " + graph.edges.length + " imports: " + counts.active + " active, " + counts.warning + " warning, " + counts.inactive + " inactive, " + (counts.undetermined ? counts.undetermined + " undetermined, " : "") + counts.idle + " idle \\u2014 as of " + graph.generated_at;
    document.body.setAttribute("data-rendered", graph.generated_at);
  }

  // Redrawn only when an account or an import changed, not for a newer generated_at alone.
  function shape(graph) {
    return JSON.stringify([graph.nodes, graph.edges]);
  }

  function refresh(url) {
    fetch(url, { cache: "no-store" }).then(function (r) { return r.ok ? r.json() : null; }).then(function (graph) {
      if (graph && shape(graph) !== current) {
        current = shape(graph);
        draw(graph);
      }
    }).catch(function () {}).then(function () { setTimeout(function () { refresh(url); }, 2000); });
  }

  var initial = JSON.parse(document.getElementById("graph-data").textContent);
  current = shape(initial);
  draw(initial);
  var live = document.body.getAttribute("data-live");
  if (live) refresh(live);
})();
`;
