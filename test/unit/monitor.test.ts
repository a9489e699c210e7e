/** The live state, without NATS: what a change re-evaluates, what it reports, when time matters. */
import { beforeAll, describe, expect, it } from "vitest";
import { OperatorTrust, serversJudged } from "../../src/core/directory.js";
import { ImportMonitor } from "../../src/core/monitor.js";
import { rulesFor } from "../../src/core/validate.js";
import { activationOf, parseAccount } from "../../src/core/jwt/claims.js";
import { jwtDigest } from "../../src/core/jwt/decode.js";
import { TestOperator, activation, nowSec, type TestAccount } from "../support/deployment.js";

const WEEK = 7 * 86400;

describe("ImportMonitor", () => {
  let op: TestOperator;
  let exporter: TestAccount;
  let importers: TestAccount[];
  let bystander: TestAccount;
  let monitor: ImportMonitor;
  const now = nowSec();

  beforeAll(async () => {
    op = await TestOperator.create();
    exporter = await op.account("EXP", {
      exports: [
        { name: "o", subject: "o.>", type: "stream", token_req: true },
        { name: "p", subject: "p.>", type: "stream" },
      ],
    });
    importers = [];
    for (let i = 0; i < 3; i++) {
      const imp = await op.account(`IMP${i}`);
      await imp.reissue({
        imports: [
          {
            name: "o",
            account: exporter.id,
            subject: `o.${i}`,
            type: "stream",
            token: await activation(exporter, imp.id, "o.>", "stream", { exp: now + 3600 * (i + 1) + WEEK }),
          },
          { name: "p", account: exporter.id, subject: `p.${i}`, type: "stream" },
        ],
      });
      importers.push(imp);
    }
    const other = await op.account("OTHER", { exports: [{ name: "x", subject: "x.>", type: "stream" }] });
    bystander = await op.account("BYSTANDER", {
      imports: [{ name: "x", account: other.id, subject: "x.1", type: "stream" }],
    });
    const trust = new OperatorTrust();
    trust.addOperator(op.jwt);
    monitor = new ImportMonitor(trust, WEEK);
    const all = [exporter, ...importers, other, bystander];
    const changes = monitor.replaceAll(new Map(all.map((a) => [a.id, a.jwt])), now);
    expect(changes).toHaveLength(7);
    expect(changes.filter((c) => c.previous !== null || c.diagnosis.status !== "active")).toEqual([]);
  });

  it("an exporter change re-evaluates its importers only, and reports what changed", async () => {
    const claims = structuredClone(exporter.claims);
    claims.exports = claims.exports!.filter((e) => e.subject !== "p.>");
    await exporter.reissue(claims);
    const changes = monitor.applyAccount(exporter.id, exporter.jwt, now);
    expect(changes.map((c) => [c.diagnosis.account_name, c.diagnosis.subject, c.diagnosis.cause]).sort()).toEqual([
      ["IMP0", "p.0", "export_not_found"],
      ["IMP1", "p.1", "export_not_found"],
      ["IMP2", "p.2", "export_not_found"],
    ]);
    expect(changes.filter((c) => c.previous?.status !== "active")).toEqual([]);
    expect([...monitor.directory.affectedBy(exporter.id)]).not.toContain(bystander.id);
  });

  it("the same JWT again changes nothing", () => {
    expect(monitor.applyAccount(exporter.id, exporter.jwt, now)).toEqual([]);
  });

  it("time: the next boundary is the earliest warning instant, and tick reports it when due", () => {
    const first = now + 3600 + WEEK - WEEK; // IMP0's token enters the warning window first
    expect(monitor.nextBoundary()).toBe(first);
    expect(monitor.tick(first - 1)).toEqual([]);
    const changes = monitor.tick(first);
    expect(changes.map((c) => [c.diagnosis.account_name, c.diagnosis.cause])).toEqual([
      ["IMP0", "activation_expiring_soon"],
    ]);
    expect(monitor.nextBoundary()).toBeGreaterThan(first);
  });

  it("a rejected push reports push_rejected only for imports the stored JWT lacks", async () => {
    const imp = importers[1]!;
    const claims = structuredClone(imp.claims);
    claims.imports = [
      ...claims.imports!,
      { name: "bad", account: exporter.id, subject: "p.bad", type: "stream", share: true },
    ];
    const parsed = parseAccount(await imp.reissue(claims));
    if (!parsed.ok) throw new Error(parsed.error);
    const changes = monitor.recordRejectedPush(parsed.claims, "share on a stream import", now);
    expect(changes.map((c) => [c.diagnosis.subject, c.diagnosis.cause])).toEqual([["p.bad", "push_rejected"]]);
    expect(changes[0]!.diagnosis.message).toMatch(/share on a stream import/);
    // The stored JWT's imports keep their own verdicts.
    expect(monitor.diagnoses().find((d) => d.subject === "o.1")!.status).toBe("active");
  });

  it("a later stored JWT clears the rejected push", async () => {
    const imp = importers[1]!;
    const claims = structuredClone(imp.claims);
    claims.imports = claims.imports!.filter((i) => i.subject !== "p.bad");
    await imp.reissue(claims);
    monitor.applyAccount(imp.id, imp.jwt, now);
    expect(monitor.diagnoses().filter((d) => d.subject === "p.bad")).toEqual([]);
  });

  it("a resync without an account removes its imports and re-evaluates its importers", () => {
    const jwts = new Map([exporter, ...importers].map((a) => [a.id, a.jwt]));
    const changes = monitor.replaceAll(jwts, now);
    expect(monitor.diagnoses().filter((d) => d.account === bystander.id)).toEqual([]);
    expect(changes.filter((c) => c.diagnosis.account === bystander.id)).toEqual([]);
  });
});

describe("ImportMonitor without the JWTs' text", () => {
  it("an operator change checks every account again from the claims it holds, both ways", async () => {
    const op = await TestOperator.create({ signingKey: true });
    const exporter = await op.account("EXP", { exports: [{ name: "s", subject: "s.>", type: "stream" }] });
    const importer = await op.account("IMP", {
      imports: [{ name: "s", account: exporter.id, subject: "s.1", type: "stream" }],
    });
    const trust = new OperatorTrust();
    trust.addOperator(op.jwt);
    const monitor = new ImportMonitor(trust, WEEK);
    const now = nowSec();
    monitor.replaceAll(new Map([exporter, importer].map((a) => [a.id, a.jwt])), now);
    expect(monitor.diagnoses().map((d) => d.status)).toEqual(["active"]);

    const other = await TestOperator.create({ signingKey: true });
    const away = monitor.retrust([other.jwt], now)!;
    expect(away.map((c) => c.diagnosis.cause)).toEqual(["account_jwt_invalid"]);
    expect(monitor.directory.get(importer.id)?.problem?.kind).toBe("untrusted_issuer");

    const back = monitor.retrust([op.jwt], now)!;
    expect(back.map((c) => [c.diagnosis.status, c.diagnosis.cause])).toEqual([["active", null]]);
    expect(monitor.directory.get(importer.id)?.problem).toBeNull();
  });

  it("servers of another line or with JetStream check every account again; the same servers change nothing", async () => {
    const op = await TestOperator.create({ signingKey: true });
    const exporter = await op.account("EXP", { exports: [{ name: "s", subject: "svc.*", type: "service" }] });
    // {{random(1)}}: 2.10 leaves the mapping out, 2.12 on sends the requests to gone.0.
    const mapped = await op.account("MAPPED", {
      imports: [{ name: "s", account: exporter.id, subject: "svc.*", type: "service" }],
      mappings: { "svc.*": [{ subject: "gone.{{random(1)}}" }] },
    });
    const js = await op.account("JS", {
      imports: [{ name: "js", account: op.system.id, subject: "$JS.API.INFO", type: "service", local_subject: "js" }],
    });
    const trust = new OperatorTrust();
    trust.addOperator(op.jwt);
    trust.rules = rulesFor("2.10.29");
    const monitor = new ImportMonitor(trust, WEEK);
    const now = nowSec();
    monitor.replaceAll(new Map([op.system, exporter, mapped, js].map((a) => [a.id, a.jwt])), now);
    const verdicts = () => monitor.diagnoses().map((d) => [d.account_name, d.status, d.cause]);
    expect(verdicts()).toEqual(
      expect.arrayContaining([
        ["MAPPED", "active", null],
        ["JS", "inactive", expect.any(String)],
      ]),
    );

    expect(monitor.retrust([op.jwt], now, serversJudged(["2.10.29"], false))).toBeNull();
    // Mid-upgrade, the 2.15.2 servers install the mapping: broken there, though 2.10.29 is the oldest.
    const mixed = monitor.retrust([op.jwt], now, serversJudged(["2.10.29", "2.15.2"], false))!;
    expect(mixed.map((c) => [c.diagnosis.account_name, c.diagnosis.status, c.diagnosis.cause])).toEqual([
      ["MAPPED", "inactive", "local_subject_mapped"],
    ]);
    expect(monitor.directory.trust.rules).toEqual(rulesFor("2.10.29"));
    expect(monitor.retrust([op.jwt], now, serversJudged(["2.10.29"], false))!.length).toBe(1);
    const upgraded = monitor.retrust([op.jwt], now, serversJudged(["2.15.2"], false))!;
    expect(upgraded.map((c) => [c.diagnosis.account_name, c.diagnosis.status, c.diagnosis.cause])).toEqual([
      ["MAPPED", "inactive", "local_subject_mapped"],
    ]);
    const withJs = monitor.retrust([op.jwt], now, serversJudged(["2.15.2"], true))!;
    expect(withJs.map((c) => [c.diagnosis.account_name, c.diagnosis.status])).toEqual([["JS", "active"]]);
    expect(monitor.retrust([op.jwt], now)).toBeNull();
  });

  it("a load without an expired account keeps it (the resolver's expiry sweep deleted it); an unexpired one goes", async () => {
    const op = await TestOperator.create();
    const now = nowSec();
    const exporter = await op.account("EXP", { exports: [{ name: "s", subject: "s.>", type: "stream" }] });
    const expiring = await op.account(
      "EXPIRING",
      { imports: [{ name: "s", account: exporter.id, subject: "s.1", type: "stream" }] },
      { exp: now + 60 },
    );
    const plain = await op.account("PLAIN", {
      imports: [{ name: "s", account: exporter.id, subject: "s.2", type: "stream" }],
    });
    const trust = new OperatorTrust();
    trust.addOperator(op.jwt);
    const monitor = new ImportMonitor(trust, WEEK);
    monitor.replaceAll(new Map([exporter, expiring, plain].map((a) => [a.id, a.jwt])), now);

    monitor.replaceAll(new Map([[exporter.id, exporter.jwt]]), now + 120);
    expect(monitor.directory.get(expiring.id)).toBeDefined();
    expect(monitor.directory.get(plain.id)).toBeUndefined();
    // Its expiry is a time boundary: the tick at it reports the account expired.
    expect(monitor.tick(now + 120).map((c) => [c.diagnosis.account, c.diagnosis.cause])).toEqual([
      [expiring.id, "account_expired"],
    ]);
    expect(monitor.diagnoses().map((d) => d.account)).toEqual([expiring.id]);
  });

  it("keeps an activation token that decodes as its digest, and still tells a changed token from the same one", async () => {
    const op = await TestOperator.create();
    const now = nowSec();
    const exporter = await op.account("EXP", {
      exports: [{ name: "s", subject: "s.>", type: "stream", token_req: true }],
    });
    const importer = await op.account("IMP");
    const token = await activation(exporter, importer.id, "s.>", "stream");
    const declare = (t: string) => ({
      imports: [{ name: "s", account: exporter.id, subject: "s.1", type: "stream" as const, token: t }],
    });
    await importer.reissue(declare(token));
    const trust = new OperatorTrust();
    trust.addOperator(op.jwt);
    const monitor = new ImportMonitor(trust, WEEK);
    monitor.replaceAll(new Map([exporter, importer].map((a) => [a.id, a.jwt])), now);
    const kept = monitor.directory.get(importer.id)!.claims!.imports[0]!;
    expect(kept.token).toBe(jwtDigest(token));
    expect(activationOf(kept)?.issuer).toBe(exporter.id);
    expect(monitor.diagnoses()[0]?.token?.issuer).toBe(exporter.id);

    const rejected = async (t: string) => {
      await importer.reissue(declare(t));
      const claims = parseAccount(importer.jwt);
      if (!claims.ok) throw new Error(claims.error);
      return monitor.recordRejectedPush(claims.claims, "refused", now).length === 0
        ? monitor.diagnoses()[0]!.message
        : "";
    };
    const note = "A changed version of this import was pushed";
    expect(await rejected(token)).not.toContain(note);
    expect(await rejected(await activation(exporter, importer.id, "s.>", "stream", { exp: now + WEEK }))).toContain(
      note,
    );
    // A token that does not decode keeps its text, even one that reads like the held token's digest.
    const lookalike = await rejected(jwtDigest(token));
    expect(lookalike).toContain(note);
  });
});
