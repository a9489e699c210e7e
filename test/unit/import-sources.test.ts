/**
 * The source accounts an account JWT's imports name (`importSources`, src/core/directory.ts), which the
 * live service looks up next: stored JWTs the full resolver does not list (expired ones) and, with a
 * memory or URL resolver, the accounts it reports unseen (src/live/account-loader.ts,
 * src/shell/server-accounts.ts; judged on real servers in test/integration/memory-resolver.test.ts
 * and expiry.test.ts). The JWT is read before anything verifies it, so any claim set must give a
 * list, never an exception, and only account keys are named: anything else is never asked for.
 */
import { createAccount, createUser } from "@nats-io/nkeys";
import { beforeAll, describe, expect, it } from "vitest";
import { importSources } from "../../src/core/directory.js";
import { TestOperator, signClaims } from "../support/deployment.js";

describe("the sources an account JWT's imports name", () => {
  let op: TestOperator;
  const a = createAccount().getPublicKey();
  const b = createAccount().getPublicKey();
  /** An account JWT with this `nats` claim, signed as the operator would (the signature is not read). */
  const withNats = (nats: unknown) =>
    signClaims({ sub: createAccount().getPublicKey(), name: "IMP", ...(nats === undefined ? {} : { nats }) }, op.key);

  beforeAll(async () => {
    op = await TestOperator.create();
  });

  it("names each import's account, in the JWT's order", async () => {
    const importer = await op.account("IMP", {
      imports: [
        { name: "s", account: a, subject: "s.>", type: "stream" },
        { name: "q", account: b, subject: "q", type: "service" },
      ],
    });
    expect(importSources(importer.jwt)).toEqual([a, b]);
    expect(importSources((await op.account("NONE")).jwt)).toEqual([]);
  });

  it("names no account that is not an account key, and skips imports that are no objects", async () => {
    const jwt = await withNats({
      type: "account",
      version: 2,
      imports: [
        null,
        7,
        "s",
        { subject: "s" },
        { account: 42, subject: "s" },
        { account: "EXPORTER", subject: "s" },
        { account: createUser().getPublicKey(), subject: "s" },
        { account: a, subject: "s" },
      ],
    });
    expect(importSources(jwt)).toEqual([a]);
  });

  it("gives no source, and does not throw, for claims without a list of imports", async () => {
    for (const nats of [undefined, null, "account", 2, { type: "account" }, { imports: "s" }, { imports: { a } }]) {
      expect(importSources(await withNats(nats))).toEqual([]);
    }
    expect(importSources("not a JWT")).toEqual([]);
  });
});
