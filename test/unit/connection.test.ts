/** Connection settings: precedence of options, variables and a natscli context; what is refused. */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../src/config.js";
import { explainConnectError, resolveConnection, shownServers } from "../../src/shell/connection.js";

describe("connection settings", () => {
  let dir: string;
  const env = () => ({ XDG_CONFIG_HOME: join(dir, "config"), HOME: dir });
  const file = (name: string, text = "x") => {
    writeFileSync(join(dir, name), text);
    return join(dir, name);
  };
  const context = (name: string, fields: Record<string, unknown>) =>
    writeFileSync(
      join(dir, "config", "nats", "context", `${name}.json`),
      JSON.stringify({
        description: "",
        url: "",
        token: "",
        user: "",
        password: "",
        creds: "",
        nkey: "",
        cert: "",
        key: "",
        ca: "",
        nsc: "",
        tls_first: false,
        ...fields,
      }),
    );

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "insights-conn-"));
    mkdirSync(join(dir, "config", "nats", "context"), { recursive: true });
    for (const n of ["ca.pem", "cert.pem", "key.pem", "a.creds", "b.creds"]) file(n);
    context("prod", {
      url: "nats://prod:4222",
      creds: join(dir, "a.creds"),
      ca: join(dir, "ca.pem"),
      cert: "~/cert.pem",
      key: "$HOME/key.pem",
      tls_first: true,
    });
    context("userpass", { url: "nats://up:4222", user: "bob", password: "env://INSIGHTS_TEST_PW" });
    context("proxy", { socks_proxy: "socks5://x:1080" });
    context("embedded", { creds: `data:;base64,${Buffer.from("CREDS").toString("base64")}` });
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("a context supplies everything not given; ~ and $VAR are expanded as natscli does", () => {
    expect(resolveConnection({ context: "prod" }, env())).toEqual({
      servers: ["nats://prod:4222"],
      auth: { kind: "creds", secret: { path: join(dir, "a.creds") } },
      tls: {
        caFile: join(dir, "ca.pem"),
        certFile: join(dir, "cert.pem"),
        keyFile: join(dir, "key.pem"),
        handshakeFirst: true,
      },
      contextFile: join(dir, "config", "nats", "context", "prod.json"),
    });
  });

  it("options win field by field; credentials are taken whole from one place", () => {
    const s = resolveConnection({ context: "prod", url: "nats://other:4222", token: "t", tlsFirst: false }, env());
    expect(s.servers).toEqual(["nats://other:4222"]);
    expect(s.auth).toEqual({ kind: "token", token: "t" }); // not "creds and token"
    expect(s.tls).toMatchObject({ caFile: join(dir, "ca.pem"), handshakeFirst: false });
  });

  it("the service's options and NATS_* variables, flags over variables over the context", () => {
    const config = loadConfig(["--tls-first"], {
      ...env(),
      NATS_CONTEXT: "userpass",
      INSIGHTS_TEST_PW: "pw",
      NATS_CA: join(dir, "ca.pem"),
      NATS_CERT: join(dir, "cert.pem"),
      NATS_KEY: join(dir, "key.pem"),
    });
    expect(config.connection).toMatchObject({
      servers: ["nats://up:4222"],
      auth: { kind: "user", user: "bob", password: "pw" },
      tls: { caFile: join(dir, "ca.pem"), certFile: join(dir, "cert.pem"), handshakeFirst: true },
    });
    expect(loadConfig([], { NATS_URL: "nats://a:1" }).connection).toMatchObject({
      servers: ["nats://a:1"],
      auth: { kind: "none" },
      tls: null,
    });
    const withState = loadConfig(["--state-creds", join(dir, "b.creds")], { ...env(), NATS_CONTEXT: "prod" });
    expect(withState.stateConnection).toMatchObject({
      servers: ["nats://prod:4222"],
      auth: { kind: "creds", secret: { path: join(dir, "b.creds") } },
      tls: { caFile: join(dir, "ca.pem"), handshakeFirst: true },
    });
  });

  it("embedded (data:) and environment (env://) credentials", () => {
    const s = resolveConnection({ context: "embedded" }, env());
    expect(s.auth).toMatchObject({ kind: "creds", secret: { bytes: new TextEncoder().encode("CREDS") } });
    expect(resolveConnection({ creds: "env://MY_CREDS" }, { MY_CREDS: "C" }).auth).toMatchObject({
      kind: "creds",
      secret: { bytes: new TextEncoder().encode("C") },
    });
  });

  it.each([
    [{ context: "proxy" }, /"socks_proxy" is not supported here/],
    [{ context: "nope" }, /no context "nope" \(looked for .*nope\.json/],
    [{ context: "../x" }, /neither a context name nor an existing \.json file/],
    [{ context: "userpass" }, /INSIGHTS_TEST_PW is not set/],
    [{ creds: "op://vault/item/creds" }, /op:\/\/ references are not supported/],
    [{ creds: "/no/such.creds" }, /NATS_CREDS: no such file: \/no\/such\.creds/],
    [{ creds: "A", token: "t" }, /give one kind of credentials, not creds and token/],
    [{ user: "bob" }, /needs both NATS_USER and NATS_PASSWORD/],
    [{ tlsCert: "C" }, /needs its key/],
    [{ url: "http://x" }, /NATS_URL is not a NATS URL: "http:\/\/x"/],
    [{ url: "nats://u:secret@/x" }, /not a NATS URL: "nats:\/\/\*\*\*@\/x"/],
  ])("refuses %j", (inputs, message) => {
    const fixed = { ...inputs, ...("creds" in inputs && inputs.creds === "A" ? { creds: join(dir, "a.creds") } : {}) };
    expect(() => resolveConnection(fixed, env())).toThrow(ConfigError);
    expect(() => resolveConnection(fixed, env())).toThrow(message);
  });

  it("never shows a password from a URL", () => {
    expect(shownServers(resolveConnection({ url: "nats://u:secret@h:4222,nats://h2:4222" }, {}))).toBe(
      "nats://***@h:4222,nats://h2:4222",
    );
  });

  it("explains failures by the setting to change, and classes what waiting cannot fix", () => {
    const plain = resolveConnection({ url: "nats://h:1" }, {});
    const tls = resolveConnection({ url: "nats://h:1", tlsCa: join(dir, "ca.pem") }, {});
    const refused = Object.assign(new Error("connection refused"), { code: "ECONNREFUSED" });
    expect(explainConnectError(refused, plain)).toEqual({ permanent: false, message: "connection refused" });
    expect(
      explainConnectError(Object.assign(new Error("Authorization Violation"), { name: "AuthorizationError" }), plain),
    ).toMatchObject({ permanent: true });
    expect(explainConnectError(Object.assign(new Error("write EPIPE"), { code: "EPIPE" }), tls)).toMatchObject({
      permanent: true,
      message: expect.stringMatching(/probably requires a client certificate/),
    });
    expect(explainConnectError(Object.assign(new Error("write EPIPE"), { code: "EPIPE" }), plain)).toMatchObject({
      permanent: false,
    });
  });
});
