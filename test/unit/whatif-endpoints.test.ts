/**
 * The endpoints without NATS: a request body goes through the same parsing and validation as
 * on the wire, then the handler; every reply validates against its published schema, and every
 * bad request is a 4xx naming the field.
 */
import { createAccount } from "@nats-io/jwt";
import { ServiceError } from "@nats-io/services";
import { beforeAll, describe, expect, it } from "vitest";
import { diagnoseAll, type AccountDirectory } from "../../src/core/index.js";
import { MAX_TOKEN_BYTES } from "../../src/core/jwt/decode.js";
import { checkEndpoint } from "../../src/service/check.js";
import { bindEndpoint, type Endpoint, type EndpointSource } from "../../src/service/endpoint.js";
import { expiringEndpoint } from "../../src/service/expiring.js";
import { orphanedEndpoint } from "../../src/service/orphaned.js";
import { DEFAULT_MAX_PAYLOAD, fitLists } from "../../src/service/payload.js";
import { preflightEndpoint } from "../../src/service/preflight.js";
import { rotationEndpoint } from "../../src/service/rotation.js";
import { SCHEMA_FILES, validator } from "../../src/service/schemas.js";
import { ENDPOINTS } from "../../src/service/service.js";
import { DAY, buildFixture, proposal, type Fixture } from "../support/whatif-fixture.js";

let fx: Fixture;
let dir: AccountDirectory;
const endpoints = {
  preflight: preflightEndpoint,
  rotation: rotationEndpoint,
  expiring: expiringEndpoint,
  orphaned: orphanedEndpoint,
};

beforeAll(async () => {
  fx = await buildFixture();
  dir = fx.directory();
});

/** What the endpoints answer from: the fixture's directory, as of the fixture's now. */
function source(maxPayload = DEFAULT_MAX_PAYLOAD): EndpointSource {
  const options = () => ({ now: fx.now, expiryWarningSeconds: 7 * DAY });
  const diagnosesOf = (id: string | null) => diagnoseAll(dir, options(), id === null ? undefined : [id]);
  return { directory: () => dir, diagnosesOf, options, maxPayload: () => maxPayload };
}

const enc = (s: string) => new TextEncoder().encode(s);

/** As registerService does it: size, JSON, schema, then the answer, fitted; the reply parsed back. */
function call(spec: Endpoint, body: string): Record<string, unknown> {
  return JSON.parse(bindEndpoint(spec, source())(enc(body))) as Record<string, unknown>;
}

function errorOf(spec: Endpoint, body: string): ServiceError {
  try {
    call(spec, body);
  } catch (e) {
    if (e instanceof ServiceError) return e;
    throw e;
  }
  throw new Error("no error");
}

function expectValid(spec: Endpoint, reply: unknown): void {
  const validate = validator(spec.response);
  expect(validate(reply) ? null : validate.errors).toBeNull();
}

describe("every schema compiles, and every endpoint names schemas that exist", () => {
  it.each(SCHEMA_FILES.map((n) => [n]))("%s", (name) => {
    expect(() => validator(name)).not.toThrow();
  });
  it("subjects and names", () => {
    expect(Object.values(endpoints).map((e) => [e.name, e.subject])).toEqual([
      ["preflight", "insights.imports.preflight"],
      ["rotation", "insights.imports.rotation"],
      ["expiring", "insights.imports.expiring"],
      ["orphaned", "insights.exports.orphaned"],
    ]);
  });
});

describe("insights.imports.check, from the same definition", () => {
  it("pages the diagnoses; the reply validates", () => {
    const all = call(checkEndpoint, "{}");
    expectValid(checkEndpoint, all);
    const total = all["total"] as number;
    expect(total).toBeGreaterThan(2);
    const page = call(checkEndpoint, '{"limit":1,"offset":1}');
    expect(page).toMatchObject({ total, offset: 1, truncated: true });
    expect(page["imports"]).toEqual([(all["imports"] as unknown[])[1]]);
  });

  it("an unknown account is a 404 naming the field", () => {
    const e = errorOf(checkEndpoint, '{"account":"NOBODY"}');
    expect({ code: e.code, message: e.message }).toEqual({
      code: 404,
      message: 'account: no account "NOBODY" is known (give a public key or a JWT name)',
    });
  });

  it("the service registers every endpoint", () => {
    expect(ENDPOINTS.map((e) => e.subject)).toEqual([
      "insights.imports.check",
      ...Object.values(endpoints).map((e) => e.subject),
      "insights.imports.history",
    ]);
  });
});

describe("insights.imports.preflight", () => {
  it.each<[string, () => Promise<string>, Record<string, unknown>]>([
    [
      "an exporter change that breaks",
      async () => proposal(fx.exp, { ...fx.exporterClaims(), exports: [] }),
      { stored: true, breaks: true },
    ],
    ["the stored JWT", async () => fx.imp1.jwt, { stored: true, breaks: false, changes: [] }],
    [
      "a JWT the resolver refuses",
      async () =>
        proposal(fx.imp1, {
          imports: [{ name: "x", account: fx.exp.id, subject: "pub.q", type: "stream", share: true }],
        }),
      { stored: false, breaks: false },
    ],
  ])("%s: the reply validates", async (_n, jwt, expected) => {
    const reply = call(endpoints.preflight, JSON.stringify({ jwt: `\n${await jwt()}\n` }));
    expectValid(endpoints.preflight, reply);
    expect(reply).toMatchObject(expected);
  });

  it("counts in summary what the lists carry", async () => {
    const reply = call(
      endpoints.preflight,
      JSON.stringify({ jwt: await proposal(fx.exp, { ...fx.exporterClaims(), exports: [] }) }),
    );
    // NEAR's import was already inactive: a change, not a break
    expect(reply["summary"]).toEqual({ changes: 8, breaks: 7, removed: 0, refused_imports: 0 });
  });

  it.each<[string, string, RegExp]>([
    ["no jwt", "{}", /^body: must have required property 'jwt'$/],
    ["a number", '{"jwt":5}', /^jwt: must be string$/],
    ["an empty string", '{"jwt":""}', /^jwt: must NOT have fewer than 1 characters$/],
    ["an unknown field", '{"jwt":"a.b.c","push":true}', /^unknown field "push"$/],
    ["not a JWT", '{"jwt":"a.b.c"}', /^jwt: not an account JWT: /],
    ["not JSON", "eyJhbGciOi", /^body: not JSON$/],
  ])("%s → 400 naming the field", (_n, body, message) => {
    const e = errorOf(endpoints.preflight, body);
    expect({ code: e.code, message: e.message }).toMatchObject({ code: 400 });
    expect(e.message).toMatch(message);
  });

  it("takes a body as large as the largest JWT, and no larger", () => {
    const big = JSON.stringify({ jwt: "x".repeat(200 * 1024) });
    expect(errorOf(endpoints.preflight, big).message).toMatch(/^jwt: not an account JWT: expected 3 chunks$/);
    const tooBig = JSON.stringify({ jwt: "x".repeat(MAX_TOKEN_BYTES + 1024) });
    expect(errorOf(endpoints.preflight, tooBig).message).toMatch(/^body: \d+ bytes, more than the \d+ allowed$/);
    const justOver = JSON.stringify({ jwt: "x".repeat(MAX_TOKEN_BYTES + 1) });
    expect(errorOf(endpoints.preflight, justOver).message).toMatch(/^jwt: must NOT have more than 1048576 characters$/);
  });
});

describe("insights.imports.rotation", () => {
  it.each([false, true])("remove: %s — the reply validates", (remove) => {
    const reply = call(
      endpoints.rotation,
      JSON.stringify({ account: "EXP", signing_key: fx.sk0.getPublicKey(), remove }),
    );
    expectValid(endpoints.rotation, reply);
    expect(reply["summary"]).toEqual({ tokens: 2, changes: remove ? 2 : 0, breaks: remove ? 2 : 0 });
  });

  it("remove defaults to false", () => {
    expect(
      call(endpoints.rotation, JSON.stringify({ account: fx.exp.id, signing_key: fx.sk1.getPublicKey() }))["remove"],
    ).toBe(false);
  });

  it.each<[string, () => string, number, RegExp]>([
    ["no signing key", () => '{"account":"EXP"}', 400, /^body: must have required property 'signing_key'$/],
    [
      "a key of the wrong kind",
      () => JSON.stringify({ account: "EXP", signing_key: `U${fx.sk0.getPublicKey().slice(1)}` }),
      400,
      /^signing_key: must match pattern/,
    ],
    [
      "a key with a bad checksum",
      () => JSON.stringify({ account: "EXP", signing_key: flipLast(fx.sk0.getPublicKey()) }),
      400,
      /^signing_key: not an account public key \(bad checksum\)$/,
    ],
    [
      "remove not a boolean",
      () => JSON.stringify({ account: "EXP", signing_key: fx.sk0.getPublicKey(), remove: "yes" }),
      400,
      /^remove: must be boolean$/,
    ],
    [
      "an account name too long",
      () => JSON.stringify({ account: "E".repeat(257), signing_key: fx.sk0.getPublicKey() }),
      400,
      /^account: must NOT have more than 256 characters$/,
    ],
    [
      "an unknown account",
      () => JSON.stringify({ account: "NOPE", signing_key: fx.sk0.getPublicKey() }),
      404,
      /^account: no account "NOPE" is known/,
    ],
    [
      "removing a key the account does not have",
      () => JSON.stringify({ account: "EXP", signing_key: createAccount().getPublicKey(), remove: true }),
      404,
      /^signing_key: .* is not a signing key of EXP$/,
    ],
  ])("%s", (_n, body, code, message) => {
    const e = errorOf(endpoints.rotation, body());
    expect(e.code).toBe(code);
    expect(e.message).toMatch(message);
  });
});

describe("insights.imports.expiring", () => {
  it.each<[string, Record<string, unknown>, string[]]>([
    ["the default window is 30 days", {}, ["pub.c", "priv.b"]],
    ["a wider window", { days: 60 }, ["pub.c", "priv.b", "priv.c"]],
    ["one account, by name", { days: 60, account: "IMP2" }, ["priv.b"]],
    ["a page", { days: 60, limit: 1, offset: 1 }, ["priv.b"]],
  ])("%s: the reply validates", (_n, body, subjects) => {
    const reply = call(endpoints.expiring, JSON.stringify(body));
    expectValid(endpoints.expiring, reply);
    expect((reply["tokens"] as { subject: string }[]).map((t) => t.subject)).toEqual(subjects);
  });

  it("pages like the check: total, offset, truncated", () => {
    expect(call(endpoints.expiring, JSON.stringify({ days: 60, limit: 1 }))).toMatchObject({
      total: 3,
      offset: 0,
      truncated: true,
      days: 60,
    });
  });

  it.each<[string, string, number, RegExp]>([
    ["days 0", '{"days":0}', 400, /^days: must be >= 1$/],
    ["days past ten years", '{"days":3651}', 400, /^days: must be <= 3650$/],
    ["days fractional", '{"days":1.5}', 400, /^days: must be integer$/],
    ["limit 0", '{"limit":0}', 400, /^limit: must be >= 1$/],
    ["an unknown account", '{"account":"NOPE"}', 404, /^account: no account "NOPE" is known/],
  ])("%s", (_n, body, code, message) => {
    const e = errorOf(endpoints.expiring, body);
    expect(e.code).toBe(code);
    expect(e.message).toMatch(message);
  });
});

describe("insights.exports.orphaned", () => {
  it.each<[string, Record<string, unknown>, string[]]>([
    ["every account", {}, ["unused.>", "narrow.x.>"]],
    ["one exporter", { account: "EXP" }, ["unused.>", "narrow.x.>"]],
    ["an account that exports nothing", { account: "IMP1" }, []],
  ])("%s: the reply validates", (_n, body, subjects) => {
    const reply = call(endpoints.orphaned, JSON.stringify(body));
    expectValid(endpoints.orphaned, reply);
    expect((reply["exports"] as { subject: string }[]).map((e) => e.subject)).toEqual(subjects);
  });

  it.each<[string, string, number, RegExp]>([
    ["offset -1", '{"offset":-1}', 400, /^offset: must be >= 0$/],
    ["an unknown field", '{"severity":"info"}', 400, /^unknown field "severity"$/],
    ["an unknown account", '{"account":"NOPE"}', 404, /^account: no account "NOPE" is known/],
  ])("%s", (_n, body, code, message) => {
    const e = errorOf(endpoints.orphaned, body);
    expect(e.code).toBe(code);
    expect(e.message).toMatch(message);
  });
});

describe("replies fit max_payload", () => {
  it("lists are cut to the same length, the counts stay whole, and the reply still validates", async () => {
    const jwt = await proposal(fx.exp, { ...fx.exporterClaims(), exports: [] });
    const body = bindEndpoint(preflightEndpoint, source(6 * 1024))(enc(JSON.stringify({ jwt })));
    expect(Buffer.byteLength(body)).toBeLessThanOrEqual(6 * 1024);
    const reply = JSON.parse(body) as { truncated: boolean; changes: unknown[]; summary: { changes: number } };
    expect(reply.truncated).toBe(true);
    expect(reply.changes.length).toBeLessThan(8);
    expect(reply.summary.changes).toBe(8);
    expectValid(preflightEndpoint, reply);
  });

  it("fitLists leaves a reply that fits as it is", () => {
    expect(fitLists({ a: [1, 2], truncated: false }, ["a"], 1024)).toBe('{"a":[1,2],"truncated":false}');
  });
});

function flipLast(key: string): string {
  return key.slice(0, -1) + (key.endsWith("A") ? "B" : "A");
}
