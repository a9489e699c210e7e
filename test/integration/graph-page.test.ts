/**
 * `nats-insights graph`: the HTML page in headless Chromium (it renders offline, every account that
 * imports or is imported from is on it, broken imports are red, hovering one shows its cause and
 * fix, names from JWTs stay text), and the DOT read back by Graphviz.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hasChromium, launchChromium, type Browser } from "../support/browser.js";
import { TestOperator, activation, nowSec, type TestAccount } from "../support/deployment.js";
import { ensureFreshDist, runMain } from "../support/dist.js";

/** The little of the DOM these checks read (the project compiles without the DOM library). */
interface DomElement {
  getAttribute(name: string): string | null;
  querySelector(selector: string): DomElement | null;
  textContent: string | null;
}

const HOSTILE = `"><img src=x onerror="window.__pwned=1"> & </script>`;

let dir: string;
/** The same operator's ORDERS and an account named to break out of markup, apart. */
let hostileDir: string;
let accounts: TestAccount[];
let evil: TestAccount;
let lonely: TestAccount;

beforeAll(async () => {
  await ensureFreshDist();
  const op = await TestOperator.create();
  const orders = await op.account("ORDERS", {
    exports: [
      { name: "orders", subject: "orders.>", type: "stream" },
      { name: "price", subject: "svc.price", type: "service" },
      { name: "secret", subject: "secret.>", type: "stream", token_req: true },
    ],
  });
  const billing = await op.account("BILLING");
  await billing.reissue({
    imports: [
      { name: "orders", account: orders.id, subject: "orders.eu", type: "stream" },
      { name: "price", account: orders.id, subject: "svc.price", type: "service" },
      { name: "secret", account: orders.id, subject: "secret.x", type: "stream" },
    ],
  });
  const shipping = await op.account("SHIPPING");
  await shipping.reissue({
    imports: [
      {
        name: "soon",
        account: orders.id,
        subject: "secret.ship",
        type: "stream",
        token: await activation(orders, shipping.id, "secret.ship", "stream", { exp: nowSec() + 3600 }),
      },
    ],
  });
  const analytics = await op.account("ANALYTICS");
  await analytics.reissue({
    imports: [
      { name: "gone", account: orders.id, subject: "nothing.here", type: "stream" },
      { name: "bill", account: billing.id, subject: "bill.>", type: "stream" },
    ],
  });
  evil = await op.account(HOSTILE);
  await evil.reissue({ imports: [{ name: HOSTILE, account: orders.id, subject: "orders.>", type: "stream" }] });
  lonely = await op.account("LONELY");
  accounts = [orders, billing, shipping, analytics];
  dir = mkdtempSync(join(tmpdir(), "graph-"));
  writeFileSync(join(dir, "operator.jwt"), op.jwt);
  for (const a of [...accounts, lonely, op.system]) writeFileSync(join(dir, `${a.id}.jwt`), a.jwt);
  hostileDir = mkdtempSync(join(tmpdir(), "graph-hostile-"));
  writeFileSync(join(hostileDir, "operator.jwt"), op.jwt);
  for (const a of [orders, evil]) writeFileSync(join(hostileDir, `${a.id}.jwt`), a.jwt);
}, 120_000);

afterAll(() => {
  for (const d of [dir, hostileDir]) if (d) rmSync(d, { recursive: true, force: true });
});

describe.skipIf(!hasChromium())("the graph page in headless Chromium", () => {
  let browser: Browser;
  let page: string;

  beforeAll(async () => {
    page = join(dir, "graph.html");
    const r = await runMain(["graph", "--jwt-dir", dir, "--format", "html", "--output", page]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    browser = await launchChromium();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
  });

  it("renders offline, with every account that imports or is imported from, broken imports red, and the fix on hover", async () => {
    const tab = await browser.context.newPage();
    const requests: string[] = [];
    tab.on("request", (r) => requests.push(r.url()));
    const errors: string[] = [];
    tab.on("pageerror", (e) => errors.push(e.message));
    await tab.goto(pathToFileURL(page).href);
    await tab.waitForSelector("body[data-rendered]");
    expect(errors).toEqual([]);
    expect(requests).toEqual([pathToFileURL(page).href]); // nothing fetched: no CDN, works offline

    const onPage = await tab.$$eval("g.node", (nodes) =>
      (nodes as unknown as DomElement[]).map((n) => [
        n.getAttribute("data-account"),
        n.querySelector("text")?.textContent ?? null,
      ]),
    );
    expect(onPage.sort()).toEqual(accounts.map((a) => [a.id, a.name]).sort());
    expect(onPage.map(([id]) => id)).not.toContain(lonely.id);

    const edges = await tab.$$eval("g.edge", (gs) =>
      (gs as unknown as DomElement[]).map((g) => ({
        status: g.getAttribute("data-status"),
        cause: g.getAttribute("data-cause"),
        stroke: (globalThis as unknown as { getComputedStyle(e: unknown): { stroke: string } }).getComputedStyle(
          g.querySelector("path.line"),
        ).stroke,
      })),
    );
    expect(edges).toHaveLength(6);
    const strokes = (status: string) => new Set(edges.filter((e) => e.status === status).map((e) => e.stroke));
    expect(strokes("inactive")).toEqual(new Set(["rgb(255, 0, 0)"]));
    expect(strokes("warning")).toEqual(new Set(["rgb(255, 165, 0)"]));
    expect([...strokes("active")].some((s) => s === "rgb(255, 0, 0)")).toBe(false);
    expect(
      edges
        .filter((e) => e.status === "inactive")
        .map((e) => e.cause)
        .sort(),
    ).toEqual(["export_not_found", "export_not_found", "missing_activation_token"]);

    // The pointer on the middle of the arrow itself (its bounding box's centre may be off it).
    const middle = await tab.$eval('g.edge[data-cause="missing_activation_token"] path.hit', (path) => {
      type Geometry = {
        getTotalLength(): number;
        getPointAtLength(n: number): { x: number; y: number };
        getScreenCTM(): { a: number; d: number; e: number; f: number };
      };
      const p = path as unknown as Geometry;
      const at = p.getPointAtLength(p.getTotalLength() / 2);
      const m = p.getScreenCTM();
      return { x: at.x * m.a + m.e, y: at.y * m.d + m.f };
    });
    await tab.mouse.move(middle.x, middle.y);
    const details = await tab.textContent("#details");
    expect(details).toContain("BILLING");
    expect(details).toContain("missing_activation_token");
    expect(details).toContain("nsc generate activation --account ORDERS");

    // GRAPH_SCREENSHOT=docs/graph.png keeps the picture the README shows.
    if (process.env["GRAPH_SCREENSHOT"]) await tab.screenshot({ path: process.env["GRAPH_SCREENSHOT"] });
    await tab.close();
  }, 60_000);

  it("shows a name made to break out of markup as text", async () => {
    const file = join(hostileDir, "graph.html");
    expect((await runMain(["graph", "--jwt-dir", hostileDir, "--format", "html", "--output", file])).code).toBe(0);
    const tab = await browser.context.newPage();
    await tab.goto(pathToFileURL(file).href);
    await tab.waitForSelector("body[data-rendered]");
    expect(await tab.evaluate(() => (globalThis as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
    expect(await tab.$$("img")).toHaveLength(0);
    expect(await tab.textContent(`g.node[data-account="${evil.id}"] text`)).toBe(HOSTILE);
    await tab.locator(`g.edge[data-to="${evil.id}"]`).dispatchEvent("click");
    expect(await tab.textContent("#details h2")).toBe(`ORDERS → ${HOSTILE}`);
    await tab.close();
  }, 60_000);
});

describe("the graph as DOT and Mermaid", () => {
  const graphOf = async (format: string) => {
    const r = await runMain(["graph", "--jwt-dir", dir, "--format", format]);
    expect(r.code).toBe(0);
    return r.stdout;
  };

  it.skipIf(!hasGraphviz())(
    "Graphviz reads the DOT: one node per account, one edge per import, red inactive and orange warnings",
    async () => {
      const dot = await graphOf("dot");
      const stdout = execFileSync("dot", ["-Tjson"], { input: dot, encoding: "utf8" });
      const laid = JSON.parse(stdout) as {
        objects?: { name: string; label: string }[];
        edges?: { tail: number; head: number; color?: string; label: string }[];
      };
      const nodes = laid.objects ?? [];
      expect(nodes.map((n) => [n.name, n.label]).sort()).toEqual(accounts.map((a) => [a.id, a.name]).sort());
      const edges = laid.edges ?? [];
      expect(edges).toHaveLength(6);
      const red = edges.filter((e) => e.color === "red").map((e) => e.label);
      expect(red.sort()).toEqual(
        [
          "stream nothing.here (export_not_found)",
          "stream secret.x (missing_activation_token)",
          "stream bill.> (export_not_found)",
        ].sort(),
      );
      expect(edges.filter((e) => e.color === "orange").map((e) => e.label)).toEqual([
        "stream secret.ship (activation_expiring_soon)",
      ]);
      // A name made to break out of its quotes is one label, as it was written.
      const hostile = JSON.parse(
        execFileSync("dot", ["-Tjson"], {
          input: (await runMain(["graph", "--jwt-dir", hostileDir])).stdout,
          encoding: "utf8",
        }),
      ) as { objects?: { label: string }[] };
      expect((hostile.objects ?? []).map((n) => n.label).sort()).toEqual([HOSTILE, "ORDERS"].sort());
    },
  );

  it("the Mermaid names every account once and colours each broken import", async () => {
    const mermaid = await graphOf("mermaid");
    const nodeLines = mermaid.split("\n").filter((l) => /^ {2}a\d+\["/.test(l));
    expect(nodeLines).toHaveLength(accounts.length);
    const hostile = await runMain(["graph", "--jwt-dir", hostileDir, "--format", "mermaid"]);
    expect(hostile.stdout).not.toMatch(/[<>"]img|onerror="/);
    expect(hostile.stdout).toContain(
      "#34;#62;#60;img src#61;x onerror#61;#34;window.__pwned#61;1#34;#62; #38; #60;/script#62;",
    );
    expect(mermaid.split("\n").filter((l) => l.includes("-->") || l.includes("-.->"))).toHaveLength(6);
    expect(mermaid.match(/linkStyle \d+ stroke:red/g)).toHaveLength(3);
  });
});

function hasGraphviz(): boolean {
  try {
    execFileSync("dot", ["-V"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}
