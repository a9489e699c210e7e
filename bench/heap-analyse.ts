/**
 * Where a V8 heap snapshot's bytes go (issue 19): `node dist/bench/heap-analyse.js FILE.heapsnapshot [--top N]`.
 *
 * Snapshots of the service at 100k accounts are gigabytes of JSON, more than one JavaScript string
 * holds, so the file is read as bytes and its number arrays and strings are parsed by hand. Every
 * node's own size is then counted against a label that says what it is:
 *
 *  - objects, arrays, closures: their constructor (`Object`, `Map`, `AccountEntry`, ...);
 *  - strings and the backing stores of arrays and maps: what holds them — the owner's constructor and
 *    the property name (`AccountClaims.token`, `Map (table)`, `Array (elements) in ExportIndex.all`).
 *
 * Own sizes only (no dominator tree): they add up to the heap, and the labels say which field of which
 * structure the bytes are in, which is what deciding what to keep needs.
 */
import { openSync, readSync, closeSync, fstatSync } from "node:fs";
import { parseArgs } from "node:util";

interface Meta {
  node_fields: string[];
  node_types: [string[], ...unknown[]];
  edge_fields: string[];
  edge_types: [string[], ...unknown[]];
}

export interface Snapshot {
  nodeFields: number;
  edgeFields: number;
  nodeTypes: string[];
  edgeTypes: string[];
  nodes: Uint32Array | Float64Array;
  edges: Uint32Array;
  strings: string[];
  nodeCount: number;
}

/** Read the whole file into one Buffer (it may exceed what a string can hold, not what a Buffer can). */
function readAll(path: string): Buffer {
  const fd = openSync(path, "r");
  try {
    const size = fstatSync(fd).size;
    const buf = Buffer.allocUnsafe(size);
    let off = 0;
    while (off < size) off += readSync(fd, buf, off, Math.min(size - off, 1 << 30), off);
    return buf;
  } finally {
    closeSync(fd);
  }
}

/** Parse a JSON array of unsigned integers starting at buf[start] === '['; returns the numbers and the index after ']'. */
function parseInts(buf: Buffer, start: number, expected: number): { values: Float64Array; end: number } {
  const values = new Float64Array(expected);
  let n = 0;
  let cur = 0;
  let inNum = false;
  let i = start + 1;
  for (; i < buf.length; i++) {
    const c = buf[i]!;
    if (c >= 48 && c <= 57) {
      cur = cur * 10 + (c - 48);
      inNum = true;
    } else {
      if (inNum) {
        values[n++] = cur;
        cur = 0;
        inNum = false;
      }
      if (c === 93) break; // ]
    }
  }
  if (n !== expected) throw new Error(`expected ${expected} numbers, read ${n}`);
  return { values, end: i + 1 };
}

function parseStrings(buf: Buffer, start: number): string[] {
  const out: string[] = [];
  let i = start + 1;
  for (;;) {
    while (buf[i] !== 34 && buf[i] !== 93) i++; // " or ]
    if (buf[i] === 93) break;
    const s = i;
    let escaped = false;
    let ascii = true;
    i++;
    for (;;) {
      const c = buf[i]!;
      if (c === 92) {
        escaped = true;
        i += 2;
        continue;
      }
      if (c === 34) break;
      if (c > 127) ascii = false;
      i++;
    }
    out.push(
      escaped || !ascii ? (JSON.parse(buf.toString("utf8", s, i + 1)) as string) : buf.toString("latin1", s + 1, i),
    );
    i++;
  }
  return out;
}

export function readSnapshot(path: string): Snapshot {
  const buf = readAll(path);
  const nodesAt = buf.indexOf('"nodes":[');
  const header = JSON.parse(`${buf.toString("utf8", 0, nodesAt).replace(/,\s*$/, "")}}`) as {
    snapshot: { meta: Meta; node_count: number; edge_count: number };
  };
  const meta = header.snapshot.meta;
  const nodeFields = meta.node_fields.length;
  const edgeFields = meta.edge_fields.length;
  const nodes = parseInts(buf, nodesAt + 8, header.snapshot.node_count * nodeFields);
  const edgesAt = buf.indexOf('"edges":[', nodes.end);
  const edges = parseInts(buf, edgesAt + 8, header.snapshot.edge_count * edgeFields);
  const stringsAt = buf.indexOf('"strings":[', edges.end);
  const strings = parseStrings(buf, stringsAt + 10);
  return {
    nodeFields,
    edgeFields,
    nodeTypes: meta.node_types[0],
    edgeTypes: meta.edge_types[0],
    nodes: nodes.values,
    edges: Uint32Array.from(edges.values),
    strings,
    nodeCount: header.snapshot.node_count,
  };
}

/** Own sizes per label (see the file comment), and the heap's total. */
/** What one label holds: bytes, nodes, and for strings the text of the first one (cut at 60 characters). */
export interface Held {
  bytes: number;
  count: number;
  example: string;
}

export function breakdown(s: Snapshot): { total: number; byLabel: Map<string, Held> } {
  const TYPE = 0;
  const NAME = 1;
  const SELF = 3;
  const EDGES = 4;
  const nf = s.nodeFields;
  const ef = s.edgeFields;
  const n = s.nodeCount;
  const weak = s.edgeTypes.indexOf("weak");
  const shortcut = s.edgeTypes.indexOf("shortcut");
  const elementType = s.edgeTypes.indexOf("element");
  const hiddenType = s.edgeTypes.indexOf("hidden");
  // One retainer per node: the first strong edge that reaches it, from a node of the program if any
  // (an internalized string, shared() ones included, is first reached from V8's string table).
  const synthetic = s.nodeTypes.indexOf("synthetic");
  const isSynthetic = (node: number) => s.nodes[node * nf + TYPE] === synthetic;
  const retainer = new Int32Array(n).fill(-1);
  const retainerEdge = new Int32Array(n).fill(-1);
  for (let node = 0, e = 0; node < n; node++) {
    const count = s.nodes[node * nf + EDGES]!;
    for (let k = 0; k < count; k++, e += ef) {
      const type = s.edges[e]!;
      if (type === weak || type === shortcut) continue;
      const to = s.edges[e + 2]! / nf;
      if (retainer[to] === -1 || (isSynthetic(retainer[to]!) && !isSynthetic(node))) {
        retainer[to] = node;
        retainerEdge[to] = e;
      }
    }
  }
  const typeName = (node: number) => s.nodeTypes[s.nodes[node * nf + TYPE]!]!;
  const nameOf = (node: number) => {
    const name = s.strings[s.nodes[node * nf + NAME]!]!;
    return name.length > 60 ? `${name.slice(0, 57)}...` : name;
  };
  const edgeName = (e: number) => {
    const type = s.edges[e]!;
    if (type === elementType || type === hiddenType) return "[]";
    const name = s.strings[s.edges[e + 1]!]!;
    // Internal edges of a collection's table are named by their slot.
    return /^\d+$/.test(name) ? "[]" : name;
  };
  const ownerLabel = (node: number): string => {
    const t = typeName(node);
    return t === "object" || t === "closure" ? nameOf(node) : `(${t}) ${nameOf(node)}`;
  };
  const COLLECTIONS = new Set(["Map", "Set", "WeakMap", "WeakSet"]);
  const plain = (node: number) => {
    const t = typeName(node);
    if (t === "array" || t === "hidden" || t === "sliced string" || t === "concatenated string") return true;
    const name = nameOf(node);
    return (
      t === "object" && (name === "Object" || name === "Array" || COLLECTIONS.has(name) || name.startsWith("system /"))
    );
  };
  /**
   * What holds a node: the path from the nearest object with a telling name (a class, a Map or Set),
   * through plain objects, arrays, internal stores and string slices.
   */
  const heldBy = (node: number): string => {
    const path: string[] = [];
    let at = node;
    for (let depth = 0; depth < 12; depth++) {
      const owner = retainer[at]!;
      if (owner < 0) return `(root) ${collapse(path)}`;
      const t = typeName(owner);
      const edge = edgeName(retainerEdge[at]!);
      path.push(
        COLLECTIONS.has(nameOf(owner)) && edge === "table"
          ? `{${nameOf(owner)}}`
          : t === "sliced string"
            ? "<slice"
            : t === "concatenated string"
              ? "<concat"
              : edge === "[]"
                ? "[]"
                : `.${edge}`,
      );
      if (!plain(owner)) return `${ownerLabel(owner)}${collapse(path)}`;
      at = owner;
    }
    return `... ${collapse(path)}`;
  };
  /** The edge out of the named owner and the last named edge into the node (path is innermost first). */
  const collapse = (path: string[]): string => {
    const outer = path.slice(-2).reverse().join("");
    const inner = path.slice(0, -2).find((p) => p.startsWith(".")) ?? "";
    const slice = path.includes("<slice") ? " (slice)" : path.includes("<concat") ? " (concat)" : "";
    return path.length <= 3 ? path.reverse().join("") + slice : `${outer}…${inner}${slice}`;
  };
  const byLabel = new Map<string, Held>();
  let total = 0;
  for (let node = 0; node < n; node++) {
    const self = s.nodes[node * nf + SELF]!;
    if (self === 0) continue;
    total += self;
    const t = typeName(node);
    let label: string;
    if (t === "string" || t === "concatenated string" || t === "sliced string") label = `string in ${heldBy(node)}`;
    else if (plain(node) || t === "code" || t === "number") label = `(${t}) ${nameOf(node)} in ${heldBy(node)}`;
    else label = ownerLabel(node);
    const entry = byLabel.get(label);
    if (entry) {
      entry.bytes += self;
      entry.count++;
    } else byLabel.set(label, { bytes: self, count: 1, example: t === "string" ? nameOf(node) : "" });
  }
  return { total, byLabel };
}

/** The largest labels, one line each: MB, share, nodes, label and, for strings, an example. */
export function rows(total: number, byLabel: Map<string, Held>, top: number): string {
  const mb = (b: number) => (b / 2 ** 20).toFixed(1).padStart(8);
  return [...byLabel.entries()]
    .sort((a, b) => b[1].bytes - a[1].bytes)
    .slice(0, top)
    .map(
      ([label, v]) =>
        `${mb(v.bytes)} MB ${((100 * v.bytes) / total).toFixed(1).padStart(5)}% ${String(v.count).padStart(9)}  ${label}${v.example ? `  e.g. ${JSON.stringify(v.example)}` : ""}\n`,
    )
    .join("");
}

function main(): void {
  const { values, positionals } = parseArgs({
    options: { top: { type: "string", default: "60" }, json: { type: "boolean", default: false } },
    allowPositionals: true,
  });
  const file = positionals[0];
  if (!file) throw new Error("usage: heap-analyse FILE.heapsnapshot [--top N] [--json]");
  const t0 = performance.now();
  const snap = readSnapshot(file);
  const { total, byLabel } = breakdown(snap);
  if (values.json) {
    const top = [...byLabel.entries()].sort((a, b) => b[1].bytes - a[1].bytes).slice(0, Number(values.top));
    process.stdout.write(
      `${JSON.stringify({ total_bytes: total, nodes: snap.nodeCount, top: top.map(([label, v]) => ({ label, ...v })) }, null, 1)}\n`,
    );
    return;
  }
  process.stdout.write(
    `${file}: ${snap.nodeCount} nodes, ${(total / 2 ** 20).toFixed(1)} MB own sizes (${((performance.now() - t0) / 1000).toFixed(0)} s)\n`,
  );
  process.stdout.write(rows(total, byLabel, Number(values.top)));
}

if (process.argv[1]?.endsWith("heap-analyse.js")) main();
