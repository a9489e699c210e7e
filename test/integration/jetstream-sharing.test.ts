/**
 * Another account's JetStream consumers, used by real nats.js consumers of the importer on a real
 * nats-server with JetStream (test/support/jetstream.ts). The JetStream scenarios of the catalogue
 * show each incomplete set on every server line; here: what an unapplied ack does over time (the
 * message comes back), that the imports the engine's warning names are exactly what makes the set
 * work, and flow control, which the engine cannot see from the JWTs.
 */
import { afterEach, describe, expect, it } from "vitest";
import { AccountDirectory, OperatorTrust, diagnoseAll, type ImportDiagnosis } from "../../src/core/index.js";
import { TestOperator, nowSec, type TestAccount } from "../support/deployment.js";
import {
  ACK_WAIT_MS,
  JETSTREAM_CONFIG,
  JETSTREAM_LIMITS,
  SHARED,
  createShared,
  exporterConsumerInfo,
  flowControlled,
  publishShared,
  pullAndAck,
  pushAndAck,
  type ImporterSide,
} from "../support/jetstream.js";
import { connectAs, pushAll, startServer, type RunningServer } from "../support/nats-server.js";
import { jetstream } from "@nats-io/jetstream";

const API = { subject: "$JS.API.>", type: "service", local_subject: "JS.X.API.>" };

let server: RunningServer | undefined;
afterEach(async () => {
  await server?.stop();
  server = undefined;
});

async function setUp(
  exports: object[],
  imports: (exporterId: string) => object[],
): Promise<{ op: TestOperator; side: ImporterSide }> {
  const op = await TestOperator.create();
  const exporter = await op.account("EXP", { limits: { ...JETSTREAM_LIMITS }, exports: exports as never });
  const importer = await op.account("IMP", { imports: imports(exporter.id) as never });
  server = await startServer(op, { extraConfig: JETSTREAM_CONFIG });
  await pushAll(server, [exporter, importer]);
  await createShared(server, exporter);
  return { op, side: { server, importer, exporter, apiPrefix: "JS.X.API" } };
}

function engine(op: TestOperator, accounts: TestAccount[], importer: TestAccount): ImportDiagnosis[] {
  const trust = new OperatorTrust();
  trust.addOperator(op.jwt);
  trust.jetStreamApi = true;
  const dir = new AccountDirectory(trust);
  for (const a of accounts) dir.upsert(a.jwt);
  return diagnoseAll(dir, { now: nowSec(), expiryWarningSeconds: 86400 }, [importer.id]);
}

/** The `nsc add import` lines of a remediation, as JWT import claims. */
function importsOf(remediation: string[], exporterId: string): object[] {
  return remediation
    .filter((line) => line.startsWith("nsc add import"))
    .map((line) => {
      const opt = (name: string): string | undefined => line.match(new RegExp(`--${name} '?([^' ]+)'?`))?.[1];
      expect(opt("src-account")).toBe(exporterId);
      const subject = opt("remote-subject")!;
      const local = opt("local-subject");
      return {
        name: subject,
        subject,
        account: exporterId,
        type: line.includes("--service") ? "service" : "stream",
        ...(local ? { local_subject: local } : {}),
      };
    });
}

describe("JetStream consumers shared across accounts (real consumers, nats-server with JetStream)", () => {
  it("an ack without the ack import is lost: the message comes back after the ack wait, with its delivery count up", async () => {
    const { side } = await setUp([{ subject: "$JS.API.>", type: "service", response_type: "Stream" }], (e) => [
      { ...API, account: e },
    ]);
    await publishShared(side.server, side.exporter, 1);
    const first = await pullAndAck(side, 1);
    expect(first).toMatchObject({ consumerInfo: true, fetched: 1, ackPending: 1, ackConfirmed: false });
    // The redelivery is the consumer's own doing once its ack wait passes: wait for that condition.
    const nc = await connectAs(side.server, side.importer);
    try {
      const consumer = await jetstream(nc, { apiPrefix: side.apiPrefix }).consumers.get(SHARED.stream, SHARED.pull);
      const again = await consumer.next({ expires: ACK_WAIT_MS * 5 });
      expect(again?.seq).toBe(1);
      expect(again?.info.deliveryCount).toBe(2);
    } finally {
      await nc.close();
    }
  });

  it("the imports the warning names make fetch, acks and consumer lookups work; the engine then says active", async () => {
    const exports = [
      { subject: "$JS.API.>", type: "service", response_type: "Stream" },
      { subject: "$JS.ACK.>", type: "service" },
    ];
    const { op, side } = await setUp(exports, (e) => [{ ...API, account: e }]);
    await publishShared(side.server, side.exporter, 2);
    const [warned] = engine(op, [side.exporter, side.importer], side.importer);
    expect(warned!.cause).toBe("jetstream_imports_incomplete");
    expect(await pullAndAck(side, 2)).toMatchObject({ consumerInfo: true, fetched: 2, ackPending: 2 });

    const added = importsOf(warned!.remediation, side.exporter.id);
    expect(added).toEqual([{ name: "$JS.ACK.>", subject: "$JS.ACK.>", account: side.exporter.id, type: "service" }]);
    await side.importer.reissue({ imports: [{ ...API, account: side.exporter.id }, ...added] as never });
    await pushAll(server!, [side.importer]);
    expect(engine(op, [side.exporter, side.importer], side.importer).map((d) => d.status)).toEqual([
      "active",
      "active",
    ]);
    // The two unacked messages come back after the ack wait; now their acks count.
    await publishShared(side.server, side.exporter, 1);
    let pending = Infinity;
    for (let round = 0; round < 10 && pending > 0; round++) pending = (await pullAndAck(side, 3)).ackPending;
    expect(pending).toBe(0);
    expect((await exporterConsumerInfo(side.server, side.exporter, SHARED.pull)).ack_floor.stream_seq).toBe(3);
  });

  it("a push consumer delivers through a stream import of its deliver subject, and its acks count with the ack import", async () => {
    const exports = [
      { subject: "deliver.>", type: "stream" },
      { subject: "$JS.ACK.>", type: "service" },
    ];
    const { side } = await setUp(exports, (e) => [
      { subject: "deliver.>", type: "stream", account: e },
      { subject: "$JS.ACK.ORDERS.push.>", type: "service", account: e },
    ]);
    await publishShared(side.server, side.exporter, 3);
    expect(await pushAndAck(side, 3)).toEqual({ bound: true, delivered: 3, ackPending: 0 });
  });

  it("flow control: without $JS.FC imported a flow-controlled push consumer stalls at ~2 MB; with it everything arrives", async () => {
    const exports = [
      { subject: "deliver.>", type: "stream" },
      { subject: "$JS.FC.>", type: "service" },
    ];
    const deliver = (e: string) => ({ subject: "deliver.>", type: "stream", account: e });
    const { side } = await setUp(exports, (e) => [deliver(e)]);
    await publishShared(side.server, side.exporter, 40, 100_000);
    const stalled = await flowControlled(side, 40);
    expect(stalled).toBeLessThan(40);
    // The server holds the rest back: they are pending, not lost.
    expect((await exporterConsumerInfo(side.server, side.exporter, SHARED.flow)).num_pending).toBe(40 - stalled);

    await side.importer.reissue({
      imports: [
        deliver(side.exporter.id),
        { subject: "$JS.FC.ORDERS.flow.>", type: "service", account: side.exporter.id },
      ] as never,
    });
    await pushAll(server!, [side.importer]);
    expect(await flowControlled(side, 40 - stalled)).toBe(40 - stalled);
  });
});
