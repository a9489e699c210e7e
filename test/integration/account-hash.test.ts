/**
 * Account-scoped mapping functions (`{{account-hash()}}`, `{{account-hash-import()}}`) in exports,
 * imports and mappings, measured on every pinned line (or the one NATS_SERVER_BIN names) by
 * message flow, against the engine on that line's rules (`ServerRules.expandsAccountHash`).
 * 2.14.10 and 2.15.3 on replace each by an account's hash when they install the subject (an
 * export's and a mapping's: the account's own; an import's `{{account-hash()}}`: the importer's,
 * `{{account-hash-import()}}`: the source account's); 2.15.2 and older read them as literal
 * tokens, and a mapping destination's as a function they do not know (2.15.2 refuses such a push,
 * 2.12.15 and older leave the mapping out). Before, the engine compared the subjects as written on
 * every line, so it gave 2.15.3 the 2.15.2 verdicts: cases A, C, E, H and I wrong there (B, F and G
 * wrong the other way).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AccountDirectory, DEFAULT_EXPIRY_WARNING_SECONDS, OperatorTrust, diagnoseAll } from "../../src/core/index.js";
import { accountHash } from "../../src/core/account-hash.js";
import { rulesFor, type ServerRules } from "../../src/core/validate.js";
import { activation, TestOperator, type AccountClaims, type TestAccount } from "../support/deployment.js";
import { pushAccount, startServer, type RunningServer } from "../support/nats-server.js";
import { serviceFlows, streamFlows } from "../support/flow.js";
import { pinnedServers } from "../support/tools.js";

interface Case {
  name: string;
  /** The importer's claims (its imports from EXP), given EXP and the importer's own key. */
  claims: (exp: TestAccount, importerId: string) => Promise<AccountClaims>;
  /** For a stream: the exporter's subject it publishes on, as its export writes it. */
  publish?: string;
  /** What carries messages, by the line's rules (measured: the test checks it). */
  carries: (rules: ServerRules) => boolean;
}

const expanded = (r: ServerRules) => r.expandsAccountHash;
const literal = (r: ServerRules) => !r.expandsAccountHash;

const stream = (subject: string, exp: TestAccount, extra: object = {}) => ({
  imports: [{ account: exp.id, subject, type: "stream" as const, ...extra }],
});

const CASES: Case[] = [
  {
    name: "A: stream ah.{{account-hash-import()}} (the exporter's hash)",
    claims: async (exp) => stream("ah.{{account-hash-import()}}", exp),
    carries: expanded,
  },
  {
    name: "B: stream ah.{{account-hash()}} (in an import: the importer's hash)",
    claims: async (exp) => stream("ah.{{account-hash()}}", exp),
    carries: literal,
  },
  {
    name: "C: stream ah.<the exporter's hash, written out>",
    claims: async (exp) => stream(`ah.${accountHash(exp.id)}`, exp),
    carries: expanded,
  },
  {
    name: "D: stream wc.{{account-hash()}} (inside the export wc.>, either way)",
    claims: async (exp) => stream("wc.{{account-hash()}}", exp),
    publish: "wc.{{account-hash()}}",
    carries: () => true,
  },
  {
    name: "E: service sv.{{account-hash-import()}}.q as mine.{{account-hash()}}.q",
    claims: async (exp) => ({
      imports: [
        {
          account: exp.id,
          subject: "sv.{{account-hash-import()}}.q",
          local_subject: "mine.{{account-hash()}}.q",
          type: "service" as const,
        },
      ],
    }),
    carries: expanded,
  },
  {
    name: "F: stream wc.{{account-hash(x)}} (an argument: the server leaves the import out)",
    claims: async (exp) => stream("wc.{{account-hash(x)}}", exp),
    publish: "wc.{{account-hash(x)}}",
    carries: literal,
  },
  {
    name: "G: stream bad.{{account-hash-import()}}, exported so (the server leaves the export out)",
    claims: async (exp) => stream("bad.{{account-hash-import()}}", exp),
    publish: "bad.{{account-hash-import()}}",
    carries: literal,
  },
  {
    name: "H: stream wc.h, the importer mapping m.a to m.{{account-hash()}}",
    claims: async (exp) => ({
      ...stream("wc.h", exp),
      mappings: { "m.a": [{ subject: "m.{{account-hash()}}" }] },
    }),
    publish: "wc.h",
    // 2.15.2 refuses the JWT (an unknown function), 2.12.15 and older leave the mapping out
    carries: (r) => r.expandsAccountHash || !r.refusesUninstallableMappings,
  },
  {
    name: "I: token stream tk.{{account-hash-import()}}, the token granting tk.*",
    claims: async (exp, id) =>
      stream("tk.{{account-hash-import()}}", exp, { token: await activation(exp, id, "tk.*", "stream") }),
    publish: "tk.{{account-hash()}}",
    carries: expanded,
  },
  {
    name: "J: token stream tk.{{account-hash-import()}}, the token granting it as written",
    claims: async (exp, id) =>
      stream("tk.{{account-hash-import()}}", exp, {
        token: await activation(exp, id, "tk.{{account-hash-import()}}", "stream"),
      }),
    publish: "tk.{{account-hash()}}",
    // the server checks the token against the expanded subject, which it does not contain
    carries: () => false,
  },
];

const EXPORTS = [
  { subject: "ah.{{account-hash()}}", type: "stream" as const },
  { subject: "sv.{{account-hash()}}.>", type: "service" as const },
  { subject: "wc.>", type: "stream" as const },
  { subject: "bad.{{account-hash-import()}}", type: "stream" as const },
  { subject: "tk.{{account-hash()}}", type: "stream" as const, token_req: true },
];

/** A subject as written, and with its functions as the hash of each of the accounts (where a server may put one). */
function forms(subject: string, accounts: string[]): string[] {
  const hashed = accounts.map((id) =>
    subject.replaceAll("{{account-hash-import()}}", accountHash(id)).replaceAll("{{account-hash()}}", accountHash(id)),
  );
  return [...new Set([subject, ...hashed])];
}

/** Does anything the exporter publishes (or answers) on either form of its export reach the importer? */
async function carries(server: RunningServer, exp: TestAccount, imp: TestAccount, c: Case): Promise<boolean> {
  const declared = imp.claims.imports![0]!;
  if (declared.type === "stream") {
    for (const publish of forms(c.publish ?? "ah.{{account-hash()}}", [exp.id, imp.id])) {
      // the importer takes everything: only the import can bring the exporter's message
      if (await streamFlows(server, exp, imp, publish, ">", 0)) return true;
    }
    return false;
  }
  for (const request of forms(declared.local_subject ?? declared.subject, [exp.id, imp.id])) {
    if (await serviceFlows(server, exp, imp, ">", request, 0)) return true;
  }
  return false;
}

for (const { version, bin } of pinnedServers()) {
  describe.skipIf(!bin)(`account-scoped functions on nats-server v${version}${bin ? "" : " (not installed)"}`, () => {
    let op: TestOperator;
    let server: RunningServer;
    let exp: TestAccount;
    const importers: TestAccount[] = [];
    const pushed: boolean[] = [];

    beforeAll(async () => {
      op = await TestOperator.create();
      server = await startServer(op, { bin: bin! });
      exp = await op.account("AH-EXP", { exports: EXPORTS });
      const r = await pushAccount(server, op, exp.jwt);
      if (!r.ok) throw new Error(`the exporter's push was refused: ${r.message}`);
      for (const [i, c] of CASES.entries()) {
        const imp = await op.account(`AH-IMP-${i}`);
        await imp.reissue(await c.claims(exp, imp.id));
        importers.push(imp);
        pushed.push((await pushAccount(server, op, imp.jwt)).ok);
      }
    }, 120_000);

    afterAll(async () => {
      await server?.stop();
    });

    it("carries messages through exactly the imports the engine calls active, as the line's rules say", async () => {
      const rules = rulesFor(version);
      const trust = new OperatorTrust();
      trust.addOperator(op.jwt);
      trust.rules = rules;
      const dir = new AccountDirectory(trust);
      for (const a of [op.system, exp, ...importers]) dir.upsert(a.jwt);
      const opts = { now: Math.floor(Date.now() / 1000), expiryWarningSeconds: DEFAULT_EXPIRY_WARNING_SECONDS };
      const measured: string[] = [];
      const engine: string[] = [];
      const expected: string[] = [];
      for (const [i, c] of CASES.entries()) {
        const imp = importers[i]!;
        // a refused push leaves the server without the importer: nothing can carry
        const flows = pushed[i] ? await carries(server, exp, imp, c) : false;
        measured.push(`${c.name}: ${flows}`);
        const [d] = diagnoseAll(dir, opts, [imp.id]);
        engine.push(`${c.name}: ${d!.status === "active"}`);
        expected.push(`${c.name}: ${c.carries(rules)}`);
      }
      expect(measured).toEqual(expected);
      expect(engine).toEqual(measured);
    }, 300_000);
  });
}
