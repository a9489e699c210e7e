/**
 * An operator with strict signing-key usage, judged on a real nats-server: an account's own
 * identity key no longer counts among its signing keys, so an activation token that names the
 * exporter as issuer_account but is signed by the exporter's identity key is not trusted. The same
 * scenario from the catalogue is active under the catalogue's (non-strict) operator.
 */
import { afterAll, describe, expect, it } from "vitest";
import { AccountDirectory, DEFAULT_EXPIRY_WARNING_SECONDS, OperatorTrust, diagnoseAll } from "../../src/core/index.js";
import { TestOperator, nowSec } from "../support/deployment.js";
import { judge } from "../support/judge.js";
import { pushAll, startServer, type RunningServer } from "../support/nats-server.js";
import { SCENARIOS } from "../support/scenarios.js";
import { toolPath } from "../support/tools.js";

const SELF_SIGNED = "token signed by the exporter's own key, naming it as issuer_account";

describe.skipIf(!toolPath("nats-server"))("a strict operator, on a real nats-server", () => {
  let server: RunningServer | undefined;
  afterAll(async () => {
    await server?.stop();
  });

  it("does not trust a token signed by the exporter's identity key: no flow, not in INFO, activation_signer_untrusted", async () => {
    const scenario = SCENARIOS.find((s) => s.name === SELF_SIGNED)!;
    expect(scenario.cause).toBeNull(); // under a non-strict operator (the catalogue's)
    const op = await TestOperator.create({ signingKey: true });
    await op.system.reissue(op.system.claims, { signingKeys: 1 });
    await op.reissue({ strict_signing_key_usage: true }); // not in @nats-io/jwt's Operator type
    server = await startServer(op);
    const b = await scenario.build(op);
    await pushAll(server, b.accounts);

    const trust = new OperatorTrust();
    trust.addOperator(op.jwt);
    const dir = new AccountDirectory(trust);
    for (const a of b.accounts) dir.upsert(a.jwt);
    const [d] = diagnoseAll(dir, { now: nowSec(), expiryWarningSeconds: DEFAULT_EXPIRY_WARNING_SECONDS }, [
      b.importer.id,
    ]);
    expect({ cause: d!.cause, status: d!.status }).toEqual({
      cause: "activation_signer_untrusted",
      status: "inactive",
    });
    expect(await judge(server, b)).toEqual({ refused: [], flows: false, listed: false });
  });
});
