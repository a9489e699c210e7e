/**
 * Predictions coming true on a real nats-server, with real message flow as the judge:
 *
 *  (a) a pre-flight of an exporter JWT that removes one export and makes another private names the
 *      imports it would break; the JWT is then pushed for real, and messages stop crossing exactly
 *      those imports and no other;
 *  (b) a rotation with remove names the imports that break when a signing key goes; the exporter is
 *      reissued without the key and pushed, and exactly those imports stop;
 *  (c) a JWT pre-flight says the resolver refuses is refused, and the server keeps the stored one;
 *      and, on a second server, a strict operator's resolver refuses an account JWT signed with the
 *      operator's identity key, as pre-flight says (measured on 2.15.2).
 *
 * One deployment, one server; (b) starts from the state (a) left. Every import is probed with fresh
 * connections before and after each push, all in parallel.
 *
 *   EXP exports a.> b.> c.> (streams, public), s.> (service, public), p.> (stream, private),
 *       q.> (service, private); signing keys sk0, sk1
 *   IMP1: a.1 b.1 c.1, p.1 (token by sk0), q.1 (token by sk1)
 *   IMP2: a.2, s.2, p.2 (token by sk1), q.2 with local subject mine.q2 (token by sk0)
 *   IMP3: b.3 c.3, p.3 (token by EXP's identity key)
 */
import type { Export } from "@nats-io/jwt";
import { credsAuthenticator } from "@nats-io/nats-core";
import { connect } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AccountDirectory, DEFAULT_EXPIRY_WARNING_SECONDS, OperatorTrust } from "../../src/core/index.js";
import { preflight } from "../../src/core/whatif/preflight.js";
import { rotation } from "../../src/core/whatif/rotation.js";
import { TestOperator, activation, nowSec, type KeyPair, type TestAccount } from "../support/deployment.js";
import { serviceFlows, streamFlows } from "../support/flow.js";
import {
  lookupAccount,
  pushAccount,
  pushAll,
  pushWith,
  startServer,
  type RunningServer,
} from "../support/nats-server.js";
import { toolPath } from "../support/tools.js";
import { proposal } from "../support/whatif-fixture.js";

const NEGATIVE_MS = 700; // how long a "does not flow" verdict waits

/** One import, and the literal subjects a message crosses it on. */
interface Probe {
  importer: TestAccount;
  type: "stream" | "service";
  /** The import's subject: with the importer's name, the import's key in these tests. */
  subject: string;
  /** Stream: the exporter publishes here. Service: the exporter answers here. */
  exporterSubject: string;
  /** Stream: the importer subscribes here. Service: the importer requests here. */
  importerSubject: string;
}

const keyOf = (importer: string | null, subject: string) => `${importer} ${subject}`;

describe.skipIf(!toolPath("nats-server"))("what-if predictions on a real nats-server", () => {
  let op: TestOperator;
  let server: RunningServer;
  let exp: TestAccount;
  let sk0: KeyPair;
  let sk1: KeyPair;
  let importers: TestAccount[];
  const probes: Probe[] = [];

  beforeAll(async () => {
    op = await TestOperator.create({ signingKey: true });
    exp = await op.account(
      "EXP",
      {
        exports: [
          { name: "a", subject: "a.>", type: "stream" },
          { name: "b", subject: "b.>", type: "stream" },
          { name: "c", subject: "c.>", type: "stream" },
          { name: "s", subject: "s.>", type: "service" },
          { name: "p", subject: "p.>", type: "stream", token_req: true },
          { name: "q", subject: "q.>", type: "service", token_req: true },
        ] as Export[],
      },
      { signingKeys: 2 },
    );
    [sk0, sk1] = exp.signingKeys as [KeyPair, KeyPair];
    const imp1 = await importer("IMP1", (id) => [
      stream("a.1"),
      stream("b.1"),
      stream("c.1"),
      token(id, stream("p.1"), sk0),
      token(id, service("q.1"), sk1),
    ]);
    const imp2 = await importer("IMP2", (id) => [
      stream("a.2"),
      service("s.2"),
      token(id, stream("p.2"), sk1),
      token(id, service("q.2", "mine.q2"), sk0),
    ]);
    const imp3 = await importer("IMP3", (id) => [stream("b.3"), stream("c.3"), token(id, stream("p.3"), null)]);
    importers = [imp1, imp2, imp3];
    server = await startServer(op);
    await pushAll(server, [exp, ...importers]);
  }, 60_000);

  afterAll(async () => {
    await server?.stop();
  });

  type Declared = { subject: string; type: "stream" | "service"; local_subject?: string; token?: Promise<string> };
  const stream = (subject: string): Declared => ({ subject, type: "stream" });
  const service = (subject: string, local?: string): Declared => ({
    subject,
    type: "service",
    ...(local ? { local_subject: local } : {}),
  });
  /** The import with a token for exactly its subject, signed by `signer` (null: EXP's identity key). */
  const token = (importerId: string, d: Declared, signer: KeyPair | null): Declared => ({
    ...d,
    token: activation(exp, importerId, d.subject, d.type, signer ? { signer } : {}),
  });

  async function importer(name: string, declare: (id: string) => Declared[]): Promise<TestAccount> {
    const acc = await op.account(name);
    const declared = declare(acc.id);
    const imports = await Promise.all(
      declared.map(async (d, i) => ({
        name: `${name}-${i}`,
        account: exp.id,
        subject: d.subject,
        type: d.type,
        ...(d.local_subject ? { local_subject: d.local_subject } : {}),
        ...(d.token ? { token: await d.token } : {}),
      })),
    );
    await acc.reissue({ imports: imports });
    for (const d of declared) {
      probes.push({
        importer: acc,
        type: d.type,
        subject: d.subject,
        exporterSubject: d.subject,
        importerSubject: d.local_subject ?? d.subject,
      });
    }
    return acc;
  }

  /** Does a message cross each import now? By import key. */
  async function flowing(): Promise<Map<string, boolean>> {
    const results = await Promise.all(
      probes.map(async (p) => {
        const flows =
          p.type === "stream"
            ? await streamFlows(server, exp, p.importer, p.exporterSubject, p.importerSubject, NEGATIVE_MS)
            : await serviceFlows(server, exp, p.importer, p.exporterSubject, p.importerSubject, NEGATIVE_MS);
        return [keyOf(p.importer.name, p.subject), flows] as const;
      }),
    );
    return new Map(results);
  }

  /** The engine's directory, read from what the server's resolver stores. */
  async function storedDirectory(): Promise<AccountDirectory> {
    const trust = new OperatorTrust();
    trust.addOperator(op.jwt);
    const dir = new AccountDirectory(trust);
    for (const a of [op.system, exp, ...importers]) {
      const jwt = await lookupAccount(server, op, a.id);
      expect(jwt, `stored JWT of ${a.name}`).toBe(a.jwt);
      dir.upsert(jwt!);
    }
    return dir;
  }

  const stopped = (before: Map<string, boolean>, after: Map<string, boolean>) =>
    [...before]
      .filter(([k, f]) => f && !after.get(k))
      .map(([k]) => k)
      .sort();
  const started = (before: Map<string, boolean>, after: Map<string, boolean>) =>
    [...before]
      .filter(([k, f]) => !f && after.get(k))
      .map(([k]) => k)
      .sort();

  it("(a) a pre-flighted exporter push breaks exactly the imports it predicted", async () => {
    const before = await flowing();
    expect([...before].filter(([, f]) => !f)).toEqual([]); // everything works to begin with

    const dir = await storedDirectory();
    const claims = structuredClone(exp.claims);
    claims.exports = claims.exports!.filter((e) => e.subject !== "a.>");
    claims.exports.find((e) => e.subject === "b.>")!.token_req = true;
    const proposed = await exp.reissue(claims);
    const outcome = preflight(dir, proposed, opts());
    if (!outcome.ok) throw new Error(outcome.error);
    const predicted = outcome.result.changes
      .filter((c) => c.breaks)
      .map((c) => keyOf(c.account_name, c.subject))
      .sort();
    // What the change was meant to break (the test's own sanity), and nothing else changes.
    expect(predicted).toEqual(["IMP1 a.1", "IMP1 b.1", "IMP2 a.2", "IMP3 b.3"]);
    expect(outcome.result.changes).toHaveLength(predicted.length);
    expect(outcome.result.stored).toBe(true);

    const pushed = await pushAccount(server, op, proposed);
    expect(pushed.ok, pushed.message).toBe(true);
    const after = await flowing();
    expect(stopped(before, after)).toEqual(predicted);
    expect(started(before, after)).toEqual([]);
  }, 60_000);

  it("(b) removing a signing key breaks exactly the imports rotation predicted", async () => {
    const before = await flowing();
    const dir = await storedDirectory();
    const outcome = rotation(dir, { account: "EXP", signingKey: sk0.getPublicKey(), remove: true }, opts());
    if (!outcome.ok) throw new Error(outcome.error);
    expect(outcome.result.tokens.map((t) => keyOf(t.account_name, t.subject)).sort()).toEqual(["IMP1 p.1", "IMP2 q.2"]);
    const predicted = outcome.result.changes
      .filter((c) => c.breaks)
      .map((c) => keyOf(c.account_name, c.subject))
      .sort();
    expect(predicted).toEqual(["IMP1 p.1", "IMP2 q.2"]);
    expect(outcome.result.changes.filter((c) => c.cause !== "activation_signer_untrusted")).toEqual([]);

    await exp.reissue(exp.claims, { signingKeys: [sk1] });
    const pushed = await pushAccount(server, op, exp.jwt);
    expect(pushed.ok, pushed.message).toBe(true);
    const after = await flowing();
    expect(stopped(before, after)).toEqual(predicted);
    expect(started(before, after)).toEqual([]);
    // The key's removal is what the server now holds; the engine reading it agrees with the prediction.
    const nowDir = await storedDirectory();
    expect([...nowDir.get(exp.id)!.claims!.signingKeys.keys()]).not.toContain(sk0.getPublicKey());
  }, 60_000);

  it("(c) a JWT pre-flight says the resolver refuses is refused, and the stored one stays", async () => {
    const imp1 = importers[0]!;
    const claims = structuredClone(imp1.claims);
    claims.imports = [
      ...claims.imports!,
      { name: "bad", account: exp.id, subject: "c.9", type: "stream", share: true },
    ];
    const proposed = await proposal(imp1, claims);
    const outcome = preflight(await storedDirectory(), proposed, opts());
    if (!outcome.ok) throw new Error(outcome.error);
    expect(outcome.result).toMatchObject({ stored: false, changes: [] });
    expect(outcome.result.refused_imports.map((d) => d.subject)).toEqual(["a.1", "b.1", "c.1", "p.1", "q.1", "c.9"]);
    const pushed = await pushAccount(server, op, proposed);
    expect(pushed.ok).toBe(false);
    expect(pushed.message).toMatch(/validation/);
    expect(await lookupAccount(server, op, imp1.id)).toBe(imp1.jwt);
  });
});

describe.skipIf(!toolPath("nats-server"))("a strict operator's resolver, as pre-flight predicts it", () => {
  let server: RunningServer | undefined;
  afterAll(async () => {
    await server?.stop();
  });

  it("refuses an account JWT signed with the operator's identity key, and stores one signed with its signing key", async () => {
    const op = await TestOperator.create({ signingKey: true });
    // Strict, the server trusts no account's identity key for users either: SYS needs a signing key.
    await op.system.reissue(op.system.claims, { signingKeys: 1 });
    await op.reissue({ strict_signing_key_usage: true }); // not in @nats-io/jwt's Operator type
    server = await startServer(op);
    const creds = await op.system.userCreds({ signer: op.system.signingKeys[0]! });
    const sys = await connect({
      servers: server.url,
      authenticator: credsAuthenticator(new TextEncoder().encode(creds)),
      reconnect: false,
    });
    try {
      const trust = new OperatorTrust();
      trust.addOperator(op.jwt);
      const a = await op.account("A", { exports: [{ name: "x", subject: "x.>", type: "stream" }] as Export[] });
      const byIdentity = await proposal(a, a.claims, { issuer: op.key });
      for (const [jwt, stored] of [
        [byIdentity, false],
        [a.jwt, true],
      ] as const) {
        const outcome = preflight(new AccountDirectory(trust), jwt, opts());
        if (!outcome.ok) throw new Error(outcome.error);
        const pushed = await pushWith(sys, jwt);
        const refusal = stored ? null : "operator requires issuer to be a signing key";
        expect({ predicted: outcome.result.stored, refusal: outcome.result.refusal, pushed: pushed.ok }).toEqual({
          predicted: stored,
          refusal,
          pushed: stored,
        });
        if (refusal) expect(pushed.message).toContain(refusal);
      }
    } finally {
      await sys.close();
    }
  });
});

const opts = () => ({ now: nowSec(), expiryWarningSeconds: DEFAULT_EXPIRY_WARNING_SECONDS });
