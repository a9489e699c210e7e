/** The expiry forecast: which tokens expire within N days, soonest first, what that does, and how to renew. */
import { beforeAll, describe, expect, it } from "vitest";
import { expiringTokens } from "../../src/core/audit/expiring.js";
import type { AccountDirectory } from "../../src/core/index.js";
import { activation, nowSec } from "../support/deployment.js";
import { DAY, buildFixture, directoryOf, type Fixture } from "../support/whatif-fixture.js";

let fx: Fixture;
let dir: AccountDirectory;
beforeAll(async () => {
  fx = await buildFixture();
  dir = fx.directory();
});

const opts = (now = fx.now) => ({ now, expiryWarningSeconds: 7 * DAY });
const listed = (days: number, account?: string, now = fx.now) =>
  expiringTokens(dir, opts(now), days, account).map((t) => [
    t.account_name,
    t.subject,
    Math.round(t.expires_in_seconds / DAY),
  ]);

describe("the window", () => {
  it.each<[number, [string, string, number][]]>([
    [1, []],
    [5, [["IMP3", "pub.c", 5]]],
    [
      30,
      [
        ["IMP3", "pub.c", 5],
        ["IMP2", "priv.b", 10],
      ],
    ],
    [
      40,
      [
        ["IMP3", "pub.c", 5],
        ["IMP2", "priv.b", 10],
        ["IMP3", "priv.c", 40],
      ],
    ],
  ])("%i days: soonest first, the boundary second included", (days, expected) => {
    expect(listed(days)).toEqual(expected);
  });

  it("a token that has expired is not listed (the check reports it)", () => {
    // at its exp second a token is expired
    expect(listed(30, undefined, fx.now + 10 * DAY)).toEqual([["IMP3", "priv.c", 30]]);
    expect(listed(30, undefined, fx.now + 5 * DAY)).toEqual([["IMP2", "priv.b", 5]]);
  });

  it.each<[string, () => string, string[]]>([
    ["an importer", () => fx.imp2.id, ["priv.b"]],
    ["an importer by name", () => "IMP3", ["pub.c", "priv.c"]],
    ["the exporter", () => fx.exp.id, ["pub.c", "priv.b", "priv.c"]],
    ["an account without tokens", () => fx.near.id, []],
  ])("only the tokens into or out of %s", (_n, account, subjects) => {
    const id = dir.resolve(account())!.id;
    expect(listed(60, id).map((r) => r[1])).toEqual(subjects);
  });
});

describe("each token", () => {
  it("says what its import will be at that second: a private import dies, a public one does not care", () => {
    const [pub, priv] = expiringTokens(dir, opts(), 30);
    expect({
      subject: pub!.subject,
      status: pub!.status,
      at: pub!.status_at_expiry,
      cause: pub!.cause_at_expiry,
    }).toEqual({ subject: "pub.c", status: "active", at: "active", cause: null });
    expect({
      subject: priv!.subject,
      status: priv!.status,
      at: priv!.status_at_expiry,
      cause: priv!.cause_at_expiry,
    }).toEqual({ subject: "priv.b", status: "active", at: "inactive", cause: "activation_expired" });
  });

  it("within the warning window it is the check's warning", () => {
    const [, priv] = expiringTokens(dir, opts(fx.now + 4 * DAY), 30);
    expect([priv!.subject, priv!.status, priv!.cause]).toEqual(["priv.b", "warning", "activation_expiring_soon"]);
  });

  it("renews for as long as it lasted, signed by the key that signed it", () => {
    const priv = expiringTokens(dir, opts(), 30).find((t) => t.subject === "priv.b")!;
    expect(priv.renewal).toEqual([
      `# the token is written to ./IMP2-priv.b.activation.jwt in the current directory, where nsc add import reads it`,
      `nsc generate activation --account EXP --target-account ${fx.imp2.id} --subject priv.b --output-file IMP2-priv.b.activation.jwt --private-key ${fx.sk0.getPublicKey()} --expiry 10d`,
      `nsc delete import --account IMP2 --subject priv.b --src-account ${fx.exp.id}`,
      `nsc add import --account IMP2 --token IMP2-priv.b.activation.jwt --name priv`,
      `nsc push --account IMP2`,
    ]);
  });

  it("signed by a key the exporter no longer has: renewed with one that stays", async () => {
    const gone = await fx.op.account("GONE");
    const other = await fx.op.account(
      "X",
      { exports: [{ name: "p", subject: "p.>", type: "stream", token_req: true }] },
      { signingKeys: 1 },
    );
    // lasts 30 h from its iat (now): renewed as "1d", clear of the unit boundary at 24 h
    const token = await activation(other, gone.id, "p.1", "stream", { signer: fx.sk0, exp: nowSec() + 30 * 3600 });
    await gone.reissue({ imports: [{ name: "p", account: other.id, subject: "p.1", type: "stream", token }] });
    const [t] = expiringTokens(directoryOf(fx.op, [other, gone]), opts(), 30);
    // sk0 is EXP's key, not X's: X does not trust the token; renew it with X's own signing key
    expect(t!.renewal[1]).toMatch(new RegExp(`--private-key ${other.signingKeys[0]!.getPublicKey()} --expiry 1d$`));
  });
});
