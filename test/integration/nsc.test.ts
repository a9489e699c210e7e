/**
 * The engine against a deployment made ONLY with the real nsc, pushed with `nsc push` to a real
 * nats-server (operator mode, full resolver). The JWTs the engine reads are the ones the server
 * holds (`$SYS.REQ.ACCOUNT.<id>.CLAIMS.LOOKUP`), real messages are the oracle, and the engine's
 * remediation commands are run verbatim with the real nsc.
 *
 * The steps build on each other (one nsc environment, one server), so they run in order.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  AccountDirectory,
  DEFAULT_EXPIRY_WARNING_SECONDS,
  OperatorTrust,
  diagnoseAll,
  type ImportDiagnosis,
} from "../../src/core/index.js";
import type { TestAccount, TestOperator } from "../support/deployment.js";
import { serviceFlows, streamFlows } from "../support/flow.js";
import { accountInfo, lookupAccount, startServer, type RunningServer } from "../support/nats-server.js";
import { Nsc, openStreamProbe } from "../support/nsc.js";
import { toolPath } from "../support/tools.js";

const NEGATIVE_MS = 700; // how long a "does not flow" verdict waits
// NSC_TEST_VERBOSE=1 prints what the real server did (flows, its own view of the import, timings).

describe.skipIf(!toolPath("nsc") || !toolPath("nats-server"))("nsc-made deployment on a real nats-server", () => {
  let nsc: Nsc;
  let server: RunningServer;
  let op: TestOperator;
  let exp: TestAccount;
  let imp: TestAccount;
  const log: string[] = [];

  /** The engine's view of IMP's imports, computed from the JWTs the server holds. */
  async function diagnose(): Promise<ImportDiagnosis[]> {
    const trust = new OperatorTrust();
    trust.addOperator(op.jwt);
    const dir = new AccountDirectory(trust);
    for (const a of [exp, imp]) {
      const jwt = await lookupAccount(server, op, a.id);
      // every change in these tests is pushed: the server holds exactly what nsc holds
      expect(jwt, `server JWT of ${a.name}`).toBe(await nsc.accountJwt(a.name));
      dir.upsert(jwt!);
    }
    return diagnoseAll(
      dir,
      { now: Math.floor(Date.now() / 1000), expiryWarningSeconds: DEFAULT_EXPIRY_WARNING_SECONDS },
      [imp.id],
    );
  }

  function find(ds: ImportDiagnosis[], type: "stream" | "service", subject: string): ImportDiagnosis {
    const hits = ds.filter((d) => d.type === type && d.subject === subject);
    expect(hits, `${type} import of ${subject} in ${JSON.stringify(ds.map((d) => [d.type, d.subject]))}`).toHaveLength(
      1,
    );
    return hits[0]!;
  }

  const ordersFlow = (timeoutMs = NEGATIVE_MS): Promise<boolean> =>
    streamFlows(server, exp, imp, "orders.us", "orders.us", timeoutMs);
  const pubFlow = (timeoutMs = NEGATIVE_MS): Promise<boolean> =>
    streamFlows(server, exp, imp, "pub.eu", "pub.eu", timeoutMs);
  const helpFlow = (timeoutMs = NEGATIVE_MS): Promise<boolean> =>
    serviceFlows(server, exp, imp, "help.>", "help.me", timeoutMs);

  /** IMP's import as the server registered it (`$SYS.REQ.ACCOUNT.<id>.INFO` → `imports`). */
  function serverImport(
    info: Record<string, unknown> | null,
    type: string,
    subject: string,
  ): { invalid?: boolean } | undefined {
    const imports = (info?.["imports"] ?? []) as {
      type?: string;
      subject?: string;
      account?: string;
      invalid?: boolean;
    }[];
    return imports.find((i) => i.type === type && i.subject === subject && i.account === exp.id);
  }

  /** Runs every non-comment remediation line with the real nsc, verbatim. */
  async function remediate(d: ImportDiagnosis): Promise<string[]> {
    const ran: string[] = [];
    for (const line of d.remediation) {
      const cmd = line.trim();
      if (cmd === "" || cmd.startsWith("#")) continue;
      await nsc.sh(cmd); // a failure throws with the exact command and nsc's error
      ran.push(cmd);
    }
    return ran;
  }

  /**
   * Runs, verbatim with the real nsc, the commands of one alternative of the remediation: from the
   * comment line that starts with `header` to the next alternative ("# or, ...").
   */
  async function remediateWith(d: ImportDiagnosis, header: string): Promise<string[]> {
    const lines = d.remediation.map((l) => l.trim());
    const start = lines.findIndex((l) => l.startsWith(header));
    expect(start, `"${header}" in ${JSON.stringify(d.remediation)}`).toBeGreaterThanOrEqual(0);
    const ran: string[] = [];
    for (const cmd of lines.slice(start + 1)) {
      if (cmd.startsWith("# or")) break;
      if (cmd === "" || cmd.startsWith("#")) continue;
      await nsc.sh(cmd);
      ran.push(cmd);
    }
    return ran;
  }

  beforeAll(async () => {
    const t0 = Date.now();
    nsc = Nsc.create();
    await nsc.run("add", "operator", "--generate-signing-key", "--sys", "--name", "OP");
    await nsc.run("add", "account", "--name", "EXP");
    await nsc.run("add", "account", "--name", "IMP");
    await nsc.run("add", "export", "--account", "EXP", "--subject", "orders.>", "--private");
    await nsc.run("add", "export", "--account", "EXP", "--subject", "help.>", "--service", "--private");
    await nsc.run("add", "export", "--account", "EXP", "--subject", "pub.>"); // public (for step 4)
    const impId = await nsc.accountId("IMP");
    await nsc.run(
      "generate",
      "activation",
      "--account",
      "EXP",
      "--target-account",
      impId,
      "--subject",
      "orders.>",
      "--output-file",
      "orders.jwt",
    );
    await nsc.run(
      "generate",
      "activation",
      "--account",
      "EXP",
      "--target-account",
      impId,
      "--subject",
      "help.>",
      "--output-file",
      "help.jwt",
    );
    await nsc.run("add", "import", "--account", "IMP", "--token", "orders.jwt");
    await nsc.run("add", "import", "--account", "IMP", "--token", "help.jwt");
    await nsc.run("add", "import", "--account", "IMP", "--src-account", "EXP", "--remote-subject", "pub.>");

    op = await nsc.testOperator();
    server = await startServer(op);
    await nsc.run("edit", "operator", "--service-url", server.url, "--account-jwt-server-url", server.url);
    const push = await nsc.run("push", "-A");
    log.push(`push -A: ${push.ms} ms`);
    exp = await nsc.testAccount(op, "EXP");
    imp = await nsc.testAccount(op, "IMP");
    log.push(`set-up: ${Date.now() - t0} ms`);
  });

  afterAll(async () => {
    if (process.env["NSC_TEST_VERBOSE"]) console.log(`nsc.test observations:\n  ${log.join("\n  ")}`);
    await server?.stop();
    await nsc?.cleanup();
  });

  it("1. private stream and service imports made with nsc tokens are active, and messages flow", async () => {
    const ds = await diagnose();
    expect(ds).toHaveLength(3);
    for (const d of ds)
      expect({ subject: d.subject, status: d.status, cause: d.cause }).toEqual({
        subject: d.subject,
        status: "active",
        cause: null,
      });
    expect(find(ds, "stream", "orders.>").source_account).toBe(exp.id);
    expect(find(ds, "stream", "orders.>").account_name).toBe("IMP");
    expect(await ordersFlow(3_000)).toBe(true);
    expect(await helpFlow(3_000)).toBe(true);
    expect(await pubFlow(3_000)).toBe(true);
  });

  it("2. a token signed by an exporter signing key: active, then the key is rotated away", async () => {
    await nsc.run("edit", "account", "EXP", "--sk", "generate");
    const [sk] = await nsc.signingKeys("EXP");
    expect(sk).toBeDefined();
    await nsc.run(
      "generate",
      "activation",
      "--account",
      "EXP",
      "--target-account",
      imp.id,
      "--subject",
      "orders.>",
      "--output-file",
      "orders-sk.jwt",
      "-K",
      sk!,
    );
    await nsc.run("delete", "import", "--account", "IMP", "--subject", "orders.>");
    await nsc.run("add", "import", "--account", "IMP", "--token", "orders-sk.jwt");
    await nsc.run("push", "-a", "EXP");
    await nsc.run("push", "-a", "IMP");

    let d = find(await diagnose(), "stream", "orders.>");
    expect(d.token?.issuer).toBe(sk);
    expect(d.token?.issuer_account).toBe(exp.id);
    expect({ status: d.status, cause: d.cause }).toEqual({ status: "active", cause: null });
    expect(await ordersFlow(3_000)).toBe(true);

    // A subscriber that is already connected when the key goes away.
    const probe = await openStreamProbe(server, exp, imp, "orders.us", "orders.us");
    try {
      expect(await probe.flows(3_000)).toBe(true);
      await nsc.run("edit", "account", "EXP", "--rm-sk", sk!);
      await nsc.run("push", "-a", "EXP");

      d = find(await diagnose(), "stream", "orders.>");
      expect({ status: d.status, cause: d.cause }).toEqual({
        status: "inactive",
        cause: "activation_signer_untrusted",
      });

      const existing = await probe.flows(NEGATIVE_MS);
      const fresh = await ordersFlow(NEGATIVE_MS);
      const info = await accountInfo(server, op, imp.id);
      log.push(
        `after exporter push (sk removed): existing subscriber flows=${existing}, fresh connection flows=${fresh}`,
      );
      const registered = serverImport(info, "stream", "orders.>");
      log.push(`  IMP INFO import orders.>: ${JSON.stringify(registered)}`);
      // The exporter's push alone makes the server drop the import, for old and new subscribers
      // alike (no reload of IMP needed), and its own view says so: registered, invalid.
      expect({ existing, fresh }).toEqual({ existing: false, fresh: false });
      expect(registered?.invalid).toBe(true);
    } finally {
      await probe.close();
    }
  });

  it("3. the engine's remediation for the rotated-away token, run with the real nsc, restores the flow", async () => {
    const broken = find(await diagnose(), "stream", "orders.>");
    expect(broken.cause).toBe("activation_signer_untrusted");
    log.push(`remediation (signer untrusted): ${JSON.stringify(broken.remediation)}`);
    const ran = await remediate(broken);
    expect(ran.length).toBeGreaterThan(0);

    const d = find(await diagnose(), "stream", "orders.>");
    expect({ status: d.status, cause: d.cause }).toEqual({ status: "active", cause: null });
    expect(d.token?.issuer_account ?? null).toBeNull(); // nsc signs with the identity key by default
    expect(await ordersFlow(3_000)).toBe(true);
    // the other imports were not disturbed
    expect(await helpFlow(3_000)).toBe(true);
  });

  it("4. a public export made private with `nsc edit export --private`: missing_activation_token, and its remediation", async () => {
    expect(await pubFlow(3_000)).toBe(true);
    await nsc.run("edit", "export", "--account", "EXP", "--subject", "pub.>", "--private");
    await nsc.run("push", "-a", "EXP");

    const broken = find(await diagnose(), "stream", "pub.>");
    expect({ status: broken.status, cause: broken.cause }).toEqual({
      status: "inactive",
      cause: "missing_activation_token",
    });
    const flowsBroken = await pubFlow(NEGATIVE_MS);
    const registered = serverImport(await accountInfo(server, op, imp.id), "stream", "pub.>");
    log.push(
      `after export made private: pub flows=${flowsBroken}; IMP INFO import pub.>: ${JSON.stringify(registered)}`,
    );
    expect(flowsBroken).toBe(false);
    expect(registered?.invalid).toBe(true);

    log.push(`remediation (missing token): ${JSON.stringify(broken.remediation)}`);
    await remediate(broken);
    const d = find(await diagnose(), "stream", "pub.>");
    expect({ status: d.status, cause: d.cause }).toEqual({ status: "active", cause: null });
    expect(await pubFlow(3_000)).toBe(true);
  });
  it("5. a token revoked with `nsc revocations add_activation`: activation_revoked, and the remediation that lifts the revocation restores the flow", async () => {
    expect(await helpFlow(3_000)).toBe(true);
    await nsc.run(
      "revocations",
      "add_activation",
      "--account",
      "EXP",
      "--subject",
      "help.>",
      "--target-account",
      imp.id,
      "--service",
    );
    await nsc.run("push", "-a", "EXP");

    const broken = find(await diagnose(), "service", "help.>");
    expect({ status: broken.status, cause: broken.cause }).toEqual({ status: "inactive", cause: "activation_revoked" });
    expect(await helpFlow(NEGATIVE_MS)).toBe(false);

    const ran = await remediateWith(broken, "# if the revocation is not intended");
    expect(ran[0]).toBe(
      `nsc revocations delete_activation --account EXP --subject 'help.>' --target-account ${imp.id} --service`,
    );
    const d = find(await diagnose(), "service", "help.>");
    expect({ status: d.status, cause: d.cause }).toEqual({ status: "active", cause: null });
    expect(await helpFlow(3_000)).toBe(true);
  });
});
