/** The pure parts of the service: configuration, request parsing, the check reply and its size. */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ServiceError } from "@nats-io/services";
import { ConfigError, loadConfig } from "../../src/config.js";
import { parseRequest } from "../../src/service/endpoint.js";
import { fitLists } from "../../src/service/payload.js";

const enc = (s: string) => new TextEncoder().encode(s);

describe("configuration", () => {
  const creds = join(mkdtempSync(join(tmpdir(), "cfg-")), "sys.creds");
  writeFileSync(creds, "not read here");

  it("defaults, environment, and flags that win over the environment", () => {
    expect(loadConfig([], {})).toMatchObject({
      natsUrl: "nats://127.0.0.1:4222",
      credsPath: null,
      epochSeconds: 60,
      expiryWarningDays: 7,
    });
    const env = { NATS_URL: "nats://a:4222", NATS_CREDS: creds, INSIGHTS_EPOCH_SECONDS: "5" };
    expect(loadConfig([], env)).toMatchObject({ natsUrl: "nats://a:4222", credsPath: creds, epochSeconds: 5 });
    expect(loadConfig(["--nats-url", "nats://b:4222", "--epoch", "9"], env)).toMatchObject({
      natsUrl: "nats://b:4222",
      epochSeconds: 9,
    });
  });

  it.each([
    [["--creds", "/no/such/file"], {}, /^NATS_CREDS: no such file: \/no\/such\/file$/],
    [["--epoch", "0"], {}, /^INSIGHTS_EPOCH_SECONDS must be a positive number/],
    [[], { INSIGHTS_EXPIRY_WARNING_DAYS: "soon" }, /^INSIGHTS_EXPIRY_WARNING_DAYS must be a positive number/],
    [["--nats-url", "http://x"], {}, /^NATS_URL is not a NATS URL/],
    [["--log-level", "loud"], {}, /^LOG_LEVEL must be one of/],
    [["--frobnicate"], {}, /^Unknown option '--frobnicate'/],
  ] as [string[], NodeJS.ProcessEnv, RegExp][])("%j %j is a one-line ConfigError", (argv, env, message) => {
    let error: unknown;
    try {
      loadConfig(argv, env);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).not.toContain("\n");
  });
});

describe("request parsing", () => {
  const parse = (s: string) => parseRequest(enc(s), "check-request");
  const errorOf = (s: string | Uint8Array) => {
    try {
      parseRequest(typeof s === "string" ? enc(s) : s, "check-request");
    } catch (e) {
      return e as ServiceError;
    }
    throw new Error("no error");
  };
  it("accepts an empty body and {} alike", () => {
    expect(parse("")).toEqual({});
    expect(parse(" {} ")).toEqual({});
    expect(parse('{"account":"A","status":"inactive","limit":10}')).toEqual({
      account: "A",
      status: "inactive",
      limit: 10,
    });
  });
  it.each([
    ['{"cause":"gremlins"}', /^cause: must be one of missing_activation_token, /],
    ['{"limit":"ten"}', /^limit: must be integer$/],
    ['{"offset":-1}', /^offset: must be >= 0$/],
    ["[1,2]", /^body: must be object$/],
    ["{", /^body: not JSON$/],
  ])("%s → 400 naming the field", (body, message) => {
    const e = errorOf(body);
    expect(e.code).toBe(400);
    expect(e.message).toMatch(message);
  });
  it("refuses a body over 64 KiB before parsing it", () => {
    const e = errorOf(new Uint8Array(64 * 1024 + 1));
    expect(e.code).toBe(400);
    expect(e.message).toMatch(/^body: 65537 bytes/);
  });
});

describe("replies fit the server's max_payload", () => {
  it("drops diagnoses from the page and marks it truncated", () => {
    const imports = Array.from({ length: 1000 }, (_, i) => ({ subject: `s.${i}`, message: "x".repeat(200) }));
    const body = fitLists({ summary: {}, imports, total: 1000, offset: 0, truncated: false }, ["imports"], 64 * 1024);
    expect(Buffer.byteLength(body)).toBeLessThanOrEqual(64 * 1024);
    const parsed = JSON.parse(body) as { imports: unknown[]; truncated: boolean; total: number };
    expect(parsed.truncated).toBe(true);
    expect(parsed.imports.length).toBeGreaterThan(100);
    expect(parsed.total).toBe(1000);
  });
  it("leaves a small reply alone", () => {
    const reply = { imports: [{ a: 1 }], truncated: false };
    expect(fitLists(reply, ["imports"], 1024)).toBe(JSON.stringify(reply));
  });
});
