/**
 * Hostile input and least privilege, on a real nats-server: the service runs as a system-account
 * user holding exactly REQUIRED_PERMISSIONS; bad JWTs are pushed on all three update subjects and
 * bad requests sent to the endpoint. It keeps answering, its state does not move, each bad input
 * is logged once with its reason, and nothing it logs or publishes holds a seed, creds or a token.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Msg, NatsConnection } from "@nats-io/nats-core";
import { encodeUser, createUser } from "@nats-io/jwt";
import { InsightsApp } from "../../src/app.js";
import { loadConfig } from "../../src/config.js";
import { createLogger } from "../../src/shell/log.js";
import { validator } from "../../src/service/schemas.js";
import { REQUIRED_PERMISSIONS } from "../../src/shell/permissions.js";
import { TestOperator, activation, forgeSignature, signClaims, type TestAccount } from "../support/deployment.js";
import { connectSystem, pushAll, startServer, type RunningServer } from "../support/nats-server.js";
import { toolPath } from "../support/tools.js";

const JWT = /eyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{40,}/;
const SEED = /S[OAUCN][A-Z2-7]{54}/;

describe.skipIf(!toolPath("nats-server"))("hostile input and least privilege", () => {
  let op: TestOperator;
  let server: RunningServer;
  let app: InsightsApp;
  let sys: NatsConnection;
  let dir: string;
  let importer: TestAccount;
  let exporter: TestAccount;
  let credsText = "";
  const logs: string[] = [];
  const published: string[] = [];

  const check = async (body = "{}") => sys.request("insights.imports.check", body, { timeout: 3000 });
  const stateOf = async () => {
    const r = (await check()).json<Record<string, unknown>>();
    delete r["checked_at"];
    return r;
  };

  beforeAll(async () => {
    op = await TestOperator.create();
    server = await startServer(op);
    exporter = await op.account("EXP", { exports: [{ name: "o", subject: "o.>", type: "stream", token_req: true }] });
    importer = await op.account("IMP");
    await importer.reissue({
      imports: [
        {
          name: "o",
          account: exporter.id,
          subject: "o.1",
          type: "stream",
          token: await activation(exporter, importer.id, "o.>", "stream"),
        },
      ],
    });
    await pushAll(server, [exporter, importer]);

    // The service's user: exactly the documented permissions.
    const ukp = createUser();
    const userJwt = await encodeUser("insights", ukp, op.system.key, {
      pub: { allow: [...REQUIRED_PERMISSIONS.publish] },
      sub: { allow: [...REQUIRED_PERMISSIONS.subscribe] },
      resp: { ...REQUIRED_PERMISSIONS.responses },
    });
    const { fmtCreds } = await import("@nats-io/jwt");
    credsText = new TextDecoder().decode(fmtCreds(userJwt, ukp));
    dir = mkdtempSync(join(tmpdir(), "hostile-"));
    writeFileSync(join(dir, "sys.creds"), credsText);

    sys = await connectSystem(server, op);
    sys.subscribe("insights.events.imports.>", { callback: (_e: unknown, m: Msg) => void published.push(m.string()) });
    const sink = new Writable({
      write: (chunk: Buffer, _enc, done) => (logs.push(...chunk.toString().split("\n").filter(Boolean)), done()),
    });
    app = await InsightsApp.start(
      loadConfig(["--nats-url", server.url, "--creds", join(dir, "sys.creds")], {}),
      createLogger("info", sink),
    );
  }, 60_000);

  afterAll(async () => {
    await app?.stop();
    await sys?.close();
    await server?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("works with exactly the documented permissions: loads, answers, sees pushes, publishes events", async () => {
    const before = (await check()).json<{ summary: { imports: number; active: number } }>();
    expect(before.summary).toMatchObject({ imports: 1, active: 1 });
    // A real breaking push must still be seen and turned into an event.
    const claims = structuredClone(exporter.claims);
    claims.exports![0]!.revocations = { [importer.id]: Math.floor(Date.now() / 1000) + 60 };
    await exporter.reissue(claims);
    await sys.request("$SYS.REQ.CLAIMS.UPDATE", exporter.jwt, { timeout: 3000 });
    const deadline = Date.now() + 3000;
    while (!published.some((e) => e.includes("activation_revoked")) && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 50));
    expect(published).toContainEqual(expect.stringContaining("activation_revoked"));
    const stats = await sys.request("$SRV.STATS.insights", "", { timeout: 2000 });
    expect(stats.json<{ name: string }>().name).toBe("insights");
  });

  it("bad JWTs on all three update subjects leave the state untouched and are logged once per reason", async () => {
    await app.settled();
    const before = await stateOf();
    const eventsBefore = published.length;
    const garbage = "definitely not a jwt";
    const truncated = importer.jwt.slice(0, 100);
    const oversized = "x".repeat(900_000);
    const forged = forgeSignature(importer.jwt);
    const userJwt = await encodeUser("u", createUser(), importer.key);
    const mistyped = await signClaims(
      { sub: importer.id, nats: { type: "account", version: 2, imports: { evil: true } } },
      op.key,
    );
    const bad = [garbage, truncated, oversized, forged, userJwt, mistyped];
    const subjects = [
      "$SYS.REQ.CLAIMS.UPDATE",
      `$SYS.REQ.ACCOUNT.${importer.id}.CLAIMS.UPDATE`,
      `$SYS.ACCOUNT.${importer.id}.CLAIMS.UPDATE`,
    ];
    for (const subject of subjects) for (const jwt of bad) sys.publish(subject, jwt);
    // Delete requests the server would refuse: garbage, signed by an account, and by a trusted
    // operator key but not self-signed. Heard (the permission holds), logged, nothing removed.
    const byAccount = await signClaims(
      { sub: importer.id, nats: { version: 2, accounts: [importer.id] } },
      importer.key,
    );
    const notSelfSigned = await signClaims({ sub: importer.id, nats: { version: 2, accounts: [importer.id] } }, op.key);
    for (const request of [garbage, byAccount, notSelfSigned]) sys.publish("$SYS.REQ.CLAIMS.DELETE", request);
    // A request after them on the same connection reaches the service after them: once it is
    // answered, the service has heard every one, and settling waits for what each set off.
    await sys.request("insights.imports.check", JSON.stringify({ account: importer.id }), { timeout: 5000 });
    await app.settled();
    expect(await stateOf()).toEqual(before);
    expect(published.length).toBe(eventsBefore);
    const warnings = logs
      .map((l) => JSON.parse(l) as { level: number; msg: string })
      .filter((l) => l.level === 40 && (l.msg.startsWith("pushed JWT") || l.msg.startsWith("delete request")));
    const reasons = warnings.map((w) => w.msg).filter((m) => m.startsWith("pushed JWT"));
    expect(new Set(reasons).size).toBe(reasons.length); // once per reason, however often it came
    expect(reasons.length).toBeGreaterThanOrEqual(4);
    expect(reasons.join("\n")).toMatch(/does not decode: expected 3 chunks/);
    expect(reasons.join("\n")).toMatch(/signature verification/);
    expect(reasons.join("\n")).toMatch(/not account claims \(user\)/);
    expect(reasons.join("\n")).toMatch(/nats\.imports is not an array/);
    const deleteReasons = warnings.map((w) => w.msg).filter((m) => m.startsWith("delete request"));
    expect(deleteReasons.sort()).toEqual(
      [
        "delete request does not decode: expected 3 chunks",
        "delete request is not self-signed",
        `delete request is signed by ${importer.id}, not a trusted operator key`,
      ].sort(),
    );
  });

  it("bad requests get 400s and the service keeps answering", async () => {
    for (const body of ["{", '{"limit":"x"}', "[]", '{"status":1}', "x".repeat(70_000)]) {
      const r = await check(body);
      expect(r.headers?.get("Nats-Service-Error-Code")).toBe("400");
    }
    const after = await check();
    expect(after.headers?.get("Nats-Service-Error-Code") ?? null).toBeNull();
    const validReply = validator("check-reply");
    expect(validReply(after.json()) ? null : validReply.errors).toBeNull();
  });

  it("nothing logged or published holds a seed, the creds or a whole JWT", async () => {
    const everything = [...logs, ...published, JSON.stringify(await stateOf())].join("\n");
    expect(everything).not.toMatch(SEED);
    expect(everything).not.toMatch(JWT);
    expect(everything).not.toContain(credsText.split("\n")[1]!); // the user JWT line of the creds
    expect(everything).not.toContain("NKEY SEED");
  });
});
