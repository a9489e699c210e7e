/**
 * The cost side of the core (issue 5), without NATS: a change re-evaluates only the imports it can
 * affect and still reaches the verdicts of a full evaluation; what the performance work added —
 * removed-key tracking, the sorted-id cache, one account's errors, shared parsed claims, decoding
 * with another thread's signature verdict — behaves like what it replaces.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { accountErrors } from "../../src/core/report.js";
import { OperatorTrust } from "../../src/core/directory.js";
import { parseActivation } from "../../src/core/jwt/claims.js";
import { decodeJwt, decodeJwtVerified, decodeUncached } from "../../src/core/jwt/decode.js";
import { embeddedTokens, ParallelVerifier } from "../../src/shell/verify-threads.js";
import { ImportMonitor } from "../../src/core/monitor.js";
import {
  TestOperator,
  activation,
  decodeUnverified,
  forgeSignature,
  nowSec,
  signClaims,
  type TestAccount,
} from "../support/deployment.js";

const WEEK = 7 * 86400;

/** Every diagnosis by key, for comparing two monitors. */
const snapshot = (m: ImportMonitor) => Object.fromEntries(m.keyed().sort(([a], [b]) => (a < b ? -1 : 1)));

describe("incremental re-evaluation", () => {
  let op: TestOperator;
  let hub: TestAccount;
  let other: TestAccount;
  let importers: TestAccount[];
  let monitor: ImportMonitor;
  let trust: OperatorTrust;
  const now = nowSec();
  const all = () => [hub, other, ...importers];

  beforeAll(async () => {
    op = await TestOperator.create({ signingKey: true });
    hub = await op.account(
      "HUB",
      { exports: [{ name: "o", subject: "o.>", type: "stream", token_req: true }] },
      { signingKeys: 1 },
    );
    other = await op.account("OTHER", { exports: [{ name: "p", subject: "p.>", type: "stream" }] });
    importers = [];
    for (let i = 0; i < 4; i++) {
      const imp = await op.account(`IMP${i}`);
      await imp.reissue({
        imports: [
          {
            name: "o",
            account: hub.id,
            subject: `o.${i}`,
            type: "stream",
            token: await activation(hub, imp.id, "o.>", "stream", { signer: hub.signingKeys[0]! }),
          },
          { name: "p", account: other.id, subject: `p.${i}`, type: "stream" },
          { name: "q", account: other.id, subject: `p.q.${i}`, type: "stream" },
        ],
      });
      importers.push(imp);
    }
    // The hub imports from OTHER too: its own imports are re-evaluated whole when it changes.
    await hub.reissue({ ...hub.claims, imports: [{ name: "p", account: other.id, subject: "p.hub", type: "stream" }] });
    trust = new OperatorTrust();
    trust.addOperator(op.jwt);
    monitor = new ImportMonitor(trust, WEEK);
    monitor.replaceAll(new Map(all().map((a) => [a.id, a.jwt])), now);
  });

  it("an exporter change re-evaluates its own imports and its importers' imports from it, nothing else", async () => {
    const claims = structuredClone(hub.claims);
    claims.exports![0]!.revocations = { [importers[1]!.id]: now + 60 };
    await hub.reissue(claims);
    const before = monitor.importsEvaluated;
    const changes = monitor.applyAccount(hub.id, hub.jwt, now);
    expect(monitor.importsEvaluated - before).toBe(1 + importers.length);
    expect(changes.map((c) => [c.diagnosis.account_name, c.diagnosis.cause])).toEqual([["IMP1", "activation_revoked"]]);

    const fresh = new ImportMonitor(trust, WEEK);
    fresh.replaceAll(new Map(all().map((a) => [a.id, a.jwt])), now);
    expect(snapshot(monitor)).toEqual(snapshot(fresh));
  });

  it("a removed exporter leaves its importers' other imports alone", () => {
    const before = monitor.importsEvaluated;
    const changes = monitor.applyAccount(other.id, null, now);
    // OTHER imports nothing; each importer has two imports from it, the hub one.
    expect(monitor.importsEvaluated - before).toBe(2 * importers.length + 1);
    expect(changes).toHaveLength(2 * importers.length + 1);
    expect(changes.filter((c) => c.diagnosis.cause !== "source_account_not_found")).toEqual([]);
    monitor.applyAccount(other.id, other.jwt, now);
  });

  it("names the imports that disappeared, once", async () => {
    expect(monitor.takeRemovedKeys()).toEqual([]);
    const imp = importers[0]!;
    const kept = structuredClone(imp.claims);
    await imp.reissue({ ...kept, imports: kept.imports!.filter((i) => i.name !== "q") });
    monitor.applyAccount(imp.id, imp.jwt, now);
    const removed = monitor.takeRemovedKeys();
    expect(removed).toHaveLength(1);
    expect(removed![0]).toContain(`${imp.id}|stream|${other.id}|p.q.0`);
    expect(monitor.has(removed![0]!)).toBe(false);
    expect(monitor.takeRemovedKeys()).toEqual([]);
    await imp.reissue(kept);
    monitor.applyAccount(imp.id, imp.jwt, now);
    expect(monitor.takeRemovedKeys()).toEqual([]);
  });

  it("keeps accounts() in id order across additions and removals", async () => {
    const ids = () => monitor.directory.accounts().map((e) => e.id);
    expect(ids()).toEqual(
      all()
        .map((a) => a.id)
        .sort(),
    );
    const late = await op.account("LATE");
    monitor.applyAccount(late.id, late.jwt, now);
    expect(ids()).toEqual([...all(), late].map((a) => a.id).sort());
    monitor.applyAccount(late.id, null, now);
    expect(ids()).toEqual(
      all()
        .map((a) => a.id)
        .sort(),
    );
  });

  it("gives one account's errors, or everybody's", async () => {
    const rogue = await TestOperator.create();
    const stray = await rogue.account("STRAY");
    monitor.applyAccount(stray.id, stray.jwt, now);
    expect(accountErrors(monitor.directory).map((e) => e.account)).toEqual([stray.id]);
    expect(accountErrors(monitor.directory, stray.id).map((e) => e.account_name)).toEqual(["STRAY"]);
    expect(accountErrors(monitor.directory, hub.id)).toEqual([]);
    expect(accountErrors(monitor.directory, "nobody")).toEqual([]);
    monitor.applyAccount(stray.id, null, now);
  });
});

describe("decoding helpers of the cold load", () => {
  let op: TestOperator;
  let exporter: TestAccount;
  let importer: TestAccount;

  beforeAll(async () => {
    op = await TestOperator.create();
    exporter = await op.account("E", { exports: [{ name: "o", subject: "o.>", type: "stream", token_req: true }] });
    importer = await op.account("I");
    await importer.reissue({
      imports: [
        {
          name: "o",
          account: exporter.id,
          subject: "o.1",
          type: "stream",
          token: await activation(exporter, importer.id, "o.>", "stream"),
        },
        { name: "plain", account: exporter.id, subject: "o.2", type: "stream" },
        {
          name: "two",
          account: exporter.id,
          subject: "o.3",
          type: "stream",
          token: await activation(exporter, importer.id, "o.3", "stream"),
        },
      ],
    });
  });

  it("shares one frozen parse of each activation token", () => {
    const token = decodeUnverified<{ nats: { imports: { token?: string }[] } }>(importer.jwt).claims.nats.imports[0]!
      .token!;
    const a = parseActivation(token);
    const b = parseActivation(token);
    expect(a).toBe(b);
    expect(a).toMatchObject({ ok: true });
    expect(a.ok && Object.isFrozen(a.claims)).toBe(true);
  });

  it("lists the tokens inside an account JWT in declaration order", () => {
    const payload = decodeUnverified(importer.jwt).claims;
    const tokens = embeddedTokens(payload);
    expect(tokens).toHaveLength(2);
    expect(tokens.map((t) => decodeUnverified<{ nats: { subject: string } }>(t).claims.nats.subject)).toEqual([
      "o.>",
      "o.3",
    ]);
  });

  it("decodes with another thread's verdict exactly as it would have verified", async () => {
    // A verdict replaces the signature check and nothing else.
    const forged = forgeSignature(exporter.jwt);
    expect(decodeUncached(forged, () => false)).toEqual(decodeJwt(forged));
    const good = await signClaims(
      { sub: importer.id, name: "x", nats: { type: "account", version: 2, limits: { imports: -1, exports: -1 } } },
      op.key,
    );
    expect(decodeJwtVerified(good, true)).toEqual(decodeJwt(good));
    // What fails before the signature fails the same whatever the verdict.
    expect(decodeUncached("a.b", () => true)).toEqual({ ok: false, error: "expected 3 chunks" });
  });

  it("does not start threads below a large load, nor from TypeScript sources", () => {
    expect(ParallelVerifier.start([importer.jwt, exporter.jwt])).toBeNull();
    expect(ParallelVerifier.start(Array.from({ length: 500 }, () => importer.jwt))).toBeNull();
  });
});
