/**
 * Fixes that fix: for every cause a deployment made with the real nsc can produce, the engine's
 * remediation (its first, likely alternative) is run verbatim with the real nsc against a real
 * nats-server (full resolver), and real messages say whether the import flows before and after.
 *
 * One nsc store and one server; each case has its own exporter and importer (named after the
 * case), pushes only what it changes, and loads the importer on the server (by connecting a client)
 * before the fix, as a live deployment would have: the server's behaviour on a loaded account is
 * what makes a fix work or not (an import the server refused at load stays refused until the
 * importer's JWT changes).
 *
 * Causes with no case here, and why:
 *  - activation_invalid, import_invalid, push_rejected: the server refuses to store a JWT with such
 *    an import (push rejected), so a JWT the server holds never has one; the live service reports
 *    push_rejected (test/integration/service.test.ts).
 *  - duplicate_import: nsc refuses to add a second import of the same subject from the same
 *    account ("account already imports stream ..."), so nsc cannot make one.
 *  - server_state_stale is a live cause (the servers' own view): its case builds it from the
 *    server's INFO reply with the core's applyServerView, as the service does.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  AccountDirectory,
  DEFAULT_EXPIRY_WARNING_SECONDS,
  OperatorTrust,
  diagnoseAll,
  type ImportDiagnosis,
} from "../../src/core/index.js";
import { applyServerView } from "../../src/core/server-observation.js";
import { decodeUnverified, signClaims, type TestAccount, type TestOperator } from "../support/deployment.js";
import { serviceFlows, streamFlows } from "../support/flow.js";
import { accountInfo, connectAs, lookupAccount, startServer, type RunningServer } from "../support/nats-server.js";
import { Nsc } from "../support/nsc.js";
import { toolPath } from "../support/tools.js";

const NEGATIVE_MS = 700; // how long a "does not flow" verdict waits
const POSITIVE_MS = 3_000;

/** The remediation's first alternative: its commands up to the first `# or …` comment. */
function firstAlternative(remediation: string[]): string[] {
  const out: string[] = [];
  for (const line of remediation.map((l) => l.trim())) {
    if (line.startsWith("# or")) break;
    if (line !== "" && !line.startsWith("#")) out.push(line);
  }
  return out;
}

type Flow = "flows" | "dead" | "refused";

/** A case's exporter and importer: nsc names and account ids. */
interface Pair {
  E: string;
  I: string;
  impId: string;
  expId: string;
}

describe.skipIf(!toolPath("nsc") || !toolPath("nats-server"))(
  "every cause's remediation, run verbatim with the real nsc, makes the import flow",
  () => {
    let nsc: Nsc;
    let server: RunningServer;
    let op: TestOperator;
    const ran: string[] = [];

    beforeAll(async () => {
      nsc = Nsc.create();
      await nsc.run("add", "operator", "--generate-signing-key", "--sys", "--name", "OP");
      op = await nsc.testOperator();
      server = await startServer(op, { allowDelete: true });
      await nsc.run("edit", "operator", "--service-url", server.url, "--account-jwt-server-url", server.url);
    });

    afterAll(async () => {
      if (process.env["NSC_TEST_VERBOSE"]) console.log(`remediations run:\n  ${ran.join("\n  ")}`);
      await server?.stop();
      await nsc?.cleanup();
    });

    /** A case's two accounts, made with nsc (not pushed). */
    async function pair(name: string): Promise<Pair> {
      const E = `${name}_EXP`;
      const I = `${name}_IMP`;
      await nsc.run("add", "account", "--name", E);
      await nsc.run("add", "account", "--name", I);
      return { E, I, impId: await nsc.accountId(I), expId: await nsc.accountId(E) };
    }

    /** c.E exports `exportSubject` publicly (with `exportFlags`), and c.I imports `remoteSubject` of it. */
    async function publicImport(
      c: Pair,
      exportSubject: string,
      remoteSubject: string,
      ...exportFlags: string[]
    ): Promise<void> {
      await nsc.run("add", "export", "--account", c.E, "--subject", exportSubject, ...exportFlags);
      await nsc.run("add", "import", "--account", c.I, "--src-account", c.expId, "--remote-subject", remoteSubject);
    }

    /** c.E's activation token for c.I on `subject`, written to `file` (`extra`: more nsc flags). */
    async function activation(c: Pair, subject: string, file: string, ...extra: string[]): Promise<void> {
      await nsc.run(
        "generate",
        "activation",
        "--account",
        c.E,
        "--target-account",
        c.impId,
        "--subject",
        subject,
        "--output-file",
        file,
        ...extra,
      );
    }

    /** c.E exports `export` privately, and c.I imports `subject` of it with an activation token. */
    async function tokenImport(
      c: Pair,
      o: { export: string; subject: string; file: string; service?: boolean; extra?: string[] },
    ): Promise<void> {
      await nsc.run(
        "add",
        "export",
        "--account",
        c.E,
        "--subject",
        o.export,
        ...(o.service ? ["--service"] : []),
        "--private",
      );
      await activation(c, o.subject, o.file, ...(o.extra ?? []));
      await nsc.run("add", "import", "--account", c.I, "--token", o.file);
    }

    const push = (...names: string[]) => Promise.all(names.map((n) => nsc.run("push", "--account", n)));
    /** nsc refuses to push an expired or not-yet-valid JWT unless forced; the server stores it. */
    const forcePush = (name: string) => nsc.run("push", "--account", name, "--force");
    const account = (name: string): Promise<TestAccount> => nsc.testAccount(op, name);

    /** The engine's verdicts on the importer's imports, from the JWTs the server holds. */
    async function diagnose(E: string, I: string): Promise<ImportDiagnosis[]> {
      const trust = new OperatorTrust();
      trust.addOperator(op.jwt);
      const dir = new AccountDirectory(trust);
      for (const name of [E, I]) {
        const jwt = (await lookupAccount(server, op, await nsc.accountId(name))) ?? (await sweptExpired(name));
        if (jwt) dir.upsert(jwt);
      }
      return diagnoseAll(
        dir,
        { now: Math.floor(Date.now() / 1000), expiryWarningSeconds: DEFAULT_EXPIRY_WARNING_SECONDS },
        [await nsc.accountId(I)],
      );
    }

    /**
     * The resolver's store deletes an expired JWT within a minute (its expiry sweep); the engine then
     * reads the expired JWT that was pushed, as the live service keeps it.
     */
    async function sweptExpired(name: string): Promise<string | null> {
      const { jwt } = await account(name);
      const exp = decodeUnverified<{ exp?: number }>(jwt).claims.exp ?? 0;
      return exp > 0 && exp <= Math.floor(Date.now() / 1000) ? jwt : null;
    }

    async function only(E: string, I: string): Promise<ImportDiagnosis> {
      const ds = await diagnose(E, I);
      expect(ds, JSON.stringify(ds.map((d) => [d.subject, d.cause]))).toHaveLength(1);
      return ds[0]!;
    }

    /** Does a message cross the import now? "refused" when the server will not let the importer's users in. */
    async function flow(
      E: string,
      I: string,
      kind: "stream" | "service",
      publish: string,
      receive: string,
      timeoutMs: number,
    ): Promise<Flow> {
      const [exp, imp] = [await account(E), await account(I)];
      try {
        const ok =
          kind === "stream"
            ? await streamFlows(server, exp, imp, publish, receive, timeoutMs)
            : await serviceFlows(server, exp, imp, publish, receive, timeoutMs);
        return ok ? "flows" : "dead";
      } catch (e) {
        if (/authorization|expired|not valid/i.test((e as Error).message)) return "refused";
        throw e;
      }
    }

    async function remediate(d: ImportDiagnosis, lines = firstAlternative(d.remediation)): Promise<void> {
      expect(lines.length, `a runnable remediation for ${d.cause}: ${JSON.stringify(d.remediation)}`).toBeGreaterThan(
        0,
      );
      for (const cmd of lines) {
        await nsc.sh(cmd); // a failure throws with the exact command and nsc's error
        ran.push(`${d.cause}: ${cmd}`);
      }
    }

    /** The whole story of one cause: broken and not flowing, remediated, active and flowing. */
    async function fixes(
      c: { E: string; I: string },
      cause: string,
      kind: "stream" | "service",
      publish: string,
      receive: string,
      before: Flow = "dead",
    ): Promise<ImportDiagnosis> {
      const broken = await only(c.E, c.I);
      expect({ status: broken.status === "active" ? "active" : broken.status, cause: broken.cause }).toEqual({
        status: cause === "activation_expiring_soon" ? "warning" : "inactive",
        cause,
      });
      expect(await flow(c.E, c.I, kind, publish, receive, before === "flows" ? POSITIVE_MS : NEGATIVE_MS)).toBe(before);
      await remediate(broken);
      const fixed = await only(c.E, c.I);
      expect({ status: fixed.status, cause: fixed.cause }).toEqual({ status: "active", cause: null });
      expect(await flow(c.E, c.I, kind, publish, receive, POSITIVE_MS)).toBe("flows");
      return broken;
    }

    it("missing_activation_token: a public export made private", async () => {
      const c = await pair("MISSING");
      await publicImport(c, "m.>", "m.x");
      await push(c.E, c.I);
      await nsc.run("edit", "export", "--account", c.E, "--subject", "m.>", "--private");
      await push(c.E);
      const broken = await fixes(c, "missing_activation_token", "stream", "m.x", "m.x");
      expect(broken.remediation[0]).toMatch(/^# the token is written to \.\/\S+ in the current directory/);
    });

    it("activation_signer_untrusted: the exporter's signing key that signed the token is removed", async () => {
      const c = await pair("SIGNER");
      await nsc.run("add", "export", "--account", c.E, "--subject", "k.>", "--private");
      await nsc.run("edit", "account", c.E, "--sk", "generate");
      const [sk] = await nsc.signingKeys(c.E);
      await activation(c, "k.x", "signer.jwt", "-K", sk!);
      await nsc.run("add", "import", "--account", c.I, "--token", "signer.jwt");
      await push(c.E, c.I);
      await nsc.run("edit", "account", c.E, "--rm-sk", sk!);
      await push(c.E);
      await fixes(c, "activation_signer_untrusted", "stream", "k.x", "k.x");
    });

    it("activation_not_yet_valid: a token that starts in an hour", async () => {
      const c = await pair("NBF");
      await tokenImport(c, { export: "n.>", subject: "n.x", file: "nbf.jwt", service: true, extra: ["--start", "1h"] });
      await push(c.E, c.I);
      await fixes(c, "activation_not_yet_valid", "service", "n.x", "n.x");
    });

    it("activation_expired: a token that expired an hour ago", async () => {
      const c = await pair("EXPIRED");
      await tokenImport(c, { export: "x.>", subject: "x.a", file: "old.jwt", extra: ["--expiry", "-1h"] });
      await push(c.E, c.I);
      await fixes(c, "activation_expired", "stream", "x.a", "x.a");
    });

    it("activation_revoked: the exporter revokes the importer's token", async () => {
      const c = await pair("REVOKED");
      await tokenImport(c, { export: "r.>", subject: "r.x", file: "rev.jwt" });
      await push(c.E, c.I);
      expect(await flow(c.E, c.I, "stream", "r.x", "r.x", POSITIVE_MS)).toBe("flows");
      await nsc.run("revocations", "add_activation", "--account", c.E, "--subject", "r.>", "--target-account", c.impId);
      await push(c.E);
      await fixes(c, "activation_revoked", "stream", "r.x", "r.x");
    });

    it("activation_expiring_soon: a token that expires in two days is renewed for 90 days", async () => {
      const c = await pair("SOON");
      await tokenImport(c, { export: "s.>", subject: "s.x", file: "soon.jwt", extra: ["--expiry", "2d"] });
      await push(c.E, c.I);
      await fixes(c, "activation_expiring_soon", "stream", "s.x", "s.x", "flows");
      const renewed = await only(c.E, c.I);
      const days = (Date.parse(renewed.token!.expires_at!) - Date.now()) / 86_400_000;
      expect(Math.round(days)).toBe(90);
    });

    it("export_not_found: an export deleted while the importer is loaded comes back with the exporter's push alone", async () => {
      const c = await pair("DELETED");
      await publicImport(c, "d.>", "d.x");
      await push(c.E, c.I);
      expect(await flow(c.E, c.I, "stream", "d.x", "d.x", POSITIVE_MS)).toBe("flows");
      await nsc.run("delete", "export", "--account", c.E, "--subject", "d.>");
      await push(c.E);
      const broken = await fixes(c, "export_not_found", "stream", "d.x", "d.x");
      // The server kept the import registered (invalid) and re-checks it when the exporter changes.
      const steps = firstAlternative(broken.remediation);
      expect(steps.slice(0, 2)).toEqual([`nsc add export --account ${c.E} --subject d.x`, `nsc push --account ${c.E}`]);
    });

    it("export_not_found: an import refused at load, once the exporter has been pushed for anything else, needs the importer re-pushed", async () => {
      const c = await pair("NOEXPORT");
      await publicImport(c, "other.>", "e.x");
      await push(c.E, c.I);
      const broken = await only(c.E, c.I);
      expect(broken.cause).toBe("export_not_found");
      expect(await flow(c.E, c.I, "stream", "e.x", "e.x", NEGATIVE_MS)).toBe("dead"); // the importer is loaded
      // nats-server retries an importer's refused imports on the exporter's next update only once:
      // an unrelated change of the exporter uses that retry up.
      await nsc.run("add", "export", "--account", c.E, "--subject", "unrelated.>");
      await push(c.E);

      // The exporter's part alone: the import the server refused at load stays dead.
      const steps = firstAlternative(broken.remediation);
      const exporterPart = steps.slice(0, steps.indexOf(`nsc push --account ${c.E}`) + 1);
      expect(exporterPart).toEqual([`nsc add export --account ${c.E} --subject e.x`, `nsc push --account ${c.E}`]);
      await remediate(broken, exporterPart);
      expect((await only(c.E, c.I)).status).toBe("active"); // by the JWTs
      expect(await flow(c.E, c.I, "stream", "e.x", "e.x", NEGATIVE_MS)).toBe("dead");
      // The rest: the importer re-signed and pushed.
      await remediate(broken, steps.slice(exporterPart.length));
      expect(await flow(c.E, c.I, "stream", "e.x", "e.x", POSITIVE_MS)).toBe("flows");
    });

    it("export_type_mismatch: a private service export deleted while a stream export of the subject remains; the service export comes back", async () => {
      const c = await pair("TYPE");
      await nsc.run("add", "export", "--account", c.E, "--subject", "t.>", "--service", "--private");
      await activation(c, "t.q", "type.jwt");
      await nsc.run("add", "export", "--account", c.E, "--subject", "t.q"); // a stream export that still matches
      await nsc.run("add", "import", "--account", c.I, "--token", "type.jwt");
      await push(c.E, c.I);
      expect(await flow(c.E, c.I, "service", "t.q", "t.q", POSITIVE_MS)).toBe("flows");
      await nsc.run("delete", "export", "--account", c.E, "--subject", "t.>");
      await push(c.E);
      const broken = await fixes(c, "export_type_mismatch", "service", "t.q", "t.q");
      expect(firstAlternative(broken.remediation)[0]).toBe(
        `nsc add export --account ${c.E} --subject t.q --service --private`,
      );
    });

    it("subject_mismatch: the import asks for more than is exported", async () => {
      const c = await pair("NARROW");
      await publicImport(c, "o.us.>", "o.>");
      await push(c.E, c.I);
      await fixes(c, "subject_mismatch", "stream", "o.us.a", "o.us.a");
    });

    it("account_token_position_mismatch: the import does not carry the importer's key", async () => {
      const c = await pair("POSITION");
      await publicImport(c, "atp.*.data", "atp.*.data", "--account-token-position", "2");
      await push(c.E, c.I);
      await fixes(c, "account_token_position_mismatch", "stream", `atp.${c.impId}.data`, `atp.${c.impId}.data`);
    });

    it("source_account_not_found: the exporter was never pushed", async () => {
      const c = await pair("NOSOURCE");
      await publicImport(c, "ns.>", "ns.x");
      await push(c.I);
      const broken = await only(c.E, c.I);
      expect(broken.cause).toBe("source_account_not_found");
      // No exporter user can connect yet: load the importer with a client of its own instead.
      const imp = await account(c.I);
      const nc = await connectAs(server, imp);
      await nc.close();
      await remediate(broken);
      expect((await only(c.E, c.I)).status).toBe("active");
      expect(await flow(c.E, c.I, "stream", "ns.x", "ns.x", POSITIVE_MS)).toBe("flows");
    });

    it("source_account_not_found: the exporter was deleted from the resolver (the same JWT pushed again would not revive it)", async () => {
      const c = await pair("GONE");
      await publicImport(c, "dl.>", "dl.x");
      await push(c.E, c.I);
      expect(await flow(c.E, c.I, "stream", "dl.x", "dl.x", POSITIVE_MS)).toBe("flows");
      const sys = await connectAs(server, op.system);
      try {
        const request = await signClaims(
          { sub: op.id, nats: { type: "generic", version: 2, accounts: [c.expId] } },
          op.key,
        );
        const reply = (await sys.request("$SYS.REQ.CLAIMS.DELETE", request, { timeout: 10_000 })).json<{
          data?: unknown;
        }>();
        expect(reply.data, JSON.stringify(reply)).toBeTruthy();
      } finally {
        await sys.close();
      }
      const broken = await only(c.E, c.I);
      expect(broken.cause).toBe("source_account_not_found");
      expect(await flow(c.E, c.I, "stream", "dl.x", "dl.x", NEGATIVE_MS)).not.toBe("flows");
      await remediate(broken);
      expect((await only(c.E, c.I)).status).toBe("active");
      expect(await flow(c.E, c.I, "stream", "dl.x", "dl.x", POSITIVE_MS)).toBe("flows");
    });

    it("source_account_expired: the exporter's JWT expired an hour ago", async () => {
      const c = await pair("SRCEXP");
      await publicImport(c, "se.>", "se.x");
      await push(c.E, c.I);
      await nsc.run("edit", "account", "--name", c.E, "--expiry", "-1h");
      await forcePush(c.E);
      await fixes(c, "source_account_expired", "stream", "se.x", "se.x", "refused");
    });

    it("account_expired: the importer's JWT expired an hour ago", async () => {
      const c = await pair("ACCEXP");
      await publicImport(c, "ae.>", "ae.x");
      await nsc.run("edit", "account", "--name", c.I, "--expiry", "-1h");
      await push(c.E);
      await forcePush(c.I);
      await fixes(c, "account_expired", "stream", "ae.x", "ae.x", "refused");
    });

    it("account_jwt_invalid: the importer's JWT is not valid for another hour", async () => {
      const c = await pair("ACCNBF");
      await publicImport(c, "an.>", "an.x");
      await nsc.run("edit", "account", "--name", c.I, "--start", "1h");
      await push(c.E);
      await forcePush(c.I);
      await fixes(c, "account_jwt_invalid", "stream", "an.x", "an.x", "refused");
    });

    it("import_cycle: two accounts import the same stream from each other; re-pushing the refused one does not help, the remediation does", async () => {
      const c = await pair("CYCLE");
      await nsc.run("add", "export", "--account", c.E, "--subject", "cy.>");
      await nsc.run("add", "export", "--account", c.I, "--subject", "cy.>");
      await nsc.run("add", "import", "--account", c.I, "--src-account", c.expId, "--remote-subject", "cy.>");
      await nsc.run("add", "import", "--account", c.E, "--src-account", c.impId, "--remote-subject", "cy.>");
      await push(c.E, c.I);
      // The importer is loaded first, so its import is the one that would close the cycle.
      const loaded = await connectAs(server, await account(c.I));
      try {
        const broken = await only(c.E, c.I);
        expect(broken.cause).toBe("import_cycle");
        expect(await flow(c.E, c.I, "stream", "cy.x", "cy.x", NEGATIVE_MS)).toBe("dead");
        // What was advised before (server_state_stale's re-sign and push) changes nothing.
        await nsc.run("edit", "account", "--name", c.I, "--tag", "retry");
        await push(c.I);
        expect(await flow(c.E, c.I, "stream", "cy.x", "cy.x", NEGATIVE_MS)).toBe("dead");
        await remediate(await only(c.E, c.I));
      } finally {
        await loaded.close();
      }
      expect(await only(c.E, c.I)).toMatchObject({ status: "active", cause: null });
      expect(await flow(c.E, c.I, "stream", "cy.x", "cy.x", POSITIVE_MS)).toBe("flows");
    });

    it("server_state_stale: a token that became valid after the importer was loaded", async () => {
      const c = await pair("STALE");
      await nsc.run("add", "export", "--account", c.E, "--subject", "st.>", "--private");
      await push(c.E, c.I);
      const loaded = await connectAs(server, await account(c.I)); // the importer is loaded from here on
      try {
        // nsc takes an absolute start to the second: a few seconds from now, after the push below.
        const nbf = Math.floor(Date.now() / 1000) + 5;
        const start = new Date(nbf * 1000)
          .toISOString()
          .replace("T", " ")
          .replace(/\.\d+Z$/, " UTC");
        await activation(c, "st.x", "stale.jwt", "--start", start);
        await nsc.run("add", "import", "--account", c.I, "--token", "stale.jwt");
        await push(c.I); // the server evaluates the import now, before nbf
        expect(Date.now(), "the push must land before the token's nbf").toBeLessThan(nbf * 1000);
        expect((await only(c.E, c.I)).cause).toBe("activation_not_yet_valid");
        // Wait for the clock (not for an order of events): the token's nbf must have passed.
        while (Date.now() < (nbf + 1) * 1000) await new Promise((r) => setTimeout(r, 100));
      } finally {
        await loaded.close();
      }
      const byJwts = await only(c.E, c.I);
      expect(byJwts.status).toBe("active");
      const info = (await accountInfo(server, op, c.impId)) as {
        imports?: { subject?: string; account?: string; invalid?: boolean }[];
      } | null;
      const registered = (info?.imports ?? []).filter((i) => i.subject === "st.x" && i.account === c.expId);
      const honouring = registered.filter((i) => !i.invalid).length;
      const stale = applyServerView(byJwts, {
        servers: info ? 1 : 0,
        registered: registered.length,
        honouring,
        exposing: 0,
      });
      expect(stale.cause).toBe("server_state_stale");
      expect(await flow(c.E, c.I, "stream", "st.x", "st.x", NEGATIVE_MS)).toBe("dead");
      await remediate(stale);
      expect(await flow(c.E, c.I, "stream", "st.x", "st.x", POSITIVE_MS)).toBe("flows");
    });
  },
);
