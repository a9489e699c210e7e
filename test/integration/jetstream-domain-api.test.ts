/**
 * A JetStream domain named `API` (`jetstream { domain: API }`): its domain-qualified API is
 * `$JS.API.API.…`, which a server in that domain maps onto `$JS.API.…` in every JetStream account
 * (generateJSMappingTable), the exporter's included, as it does for any other domain. So an import of
 * `$JS.API.API.CONSUMER.MSG.NEXT.<stream>.<consumer>` is a pull import like `$JS.hub.API.…` in domain
 * hub, and needs the rest of the set: a response type that streams, an ack import, a consumer info
 * import.
 *
 * Measured on every pinned line with real nats.js consumers (test/support/jetstream.ts), 2 messages
 * in the stream: the whole set fetches 2 and its acks are applied; exported Singleton a fetch gets
 * 1; without the ack import both are fetched and both still wait for an ack; without the consumer
 * info import the look-up fails and the fetch works. The engine gave no JetStream-set warning for
 * any of these (it read no domain named `API`) and warned about the ack import instead; it now
 * reads the set as it does any domain's.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { AccountDirectory, DEFAULT_EXPIRY_WARNING_SECONDS, OperatorTrust, diagnoseAll } from "../../src/core/index.js";
import { TestOperator, type TestAccount } from "../support/deployment.js";
import {
  JETSTREAM_LIMITS,
  SHARED,
  createShared,
  publishShared,
  pullAndAck,
  type PullOutcome,
} from "../support/jetstream.js";
import { pushAll, startServer } from "../support/nats-server.js";
import { pinnedServers } from "../support/tools.js";

const DOMAIN_API = `jetstream: {\n    store_dir: "js"\n    max_mem: 64MB\n    max_file: 256MB\n    domain: API\n}\n`;
const NEXT = `$JS.API.API.CONSUMER.MSG.NEXT.${SHARED.stream}.${SHARED.pull}`;
const INFO = `$JS.API.API.CONSUMER.INFO.${SHARED.stream}.${SHARED.pull}`;
const ACK = `$JS.ACK.${SHARED.stream}.${SHARED.pull}.>`;
/** Where the importer's clients reach the exporter's API. */
const PREFIX = "JS.X.API";

interface Case {
  name: string;
  responseType?: string;
  ack: boolean;
  info: boolean;
  /** What the importer's consumers got on every line. */
  measured: Pick<PullOutcome, "consumerInfo" | "fetched" | "ackPending">;
  /** The engine's verdict on the MSG.NEXT import, and what its fix must ask for. */
  engine: { status: "active" | "warning"; fix: string[] };
}

const CASES: Case[] = [
  {
    name: "the whole set",
    responseType: "Stream",
    ack: true,
    info: true,
    measured: { consumerInfo: true, fetched: 2, ackPending: 0 },
    engine: { status: "active", fix: [] },
  },
  {
    name: "exported Singleton",
    ack: true,
    info: true,
    measured: { consumerInfo: true, fetched: 1, ackPending: 1 },
    engine: { status: "warning", fix: ["--subject '$JS.API.API.>' --response-type Stream"] },
  },
  {
    name: "no ack import",
    responseType: "Stream",
    ack: false,
    info: true,
    measured: { consumerInfo: true, fetched: 2, ackPending: 2 },
    engine: { status: "warning", fix: [`--remote-subject '${ACK}' --service`] },
  },
  {
    name: "no consumer info import",
    responseType: "Stream",
    ack: true,
    info: false,
    measured: { consumerInfo: false, fetched: 2, ackPending: 0 },
    engine: {
      status: "warning",
      fix: [`--remote-subject '${INFO}' --service --local-subject ${PREFIX}.CONSUMER.INFO`],
    },
  },
];

let op: TestOperator;
const pairs = new Map<Case, { exp: TestAccount; imp: TestAccount }>();

beforeAll(async () => {
  op = await TestOperator.create();
  for (const [i, c] of CASES.entries()) {
    const exp = await op.account(`jdapi${i}-EXP`, {
      limits: { ...JETSTREAM_LIMITS },
      exports: [
        { subject: "$JS.API.API.>", type: "service", ...(c.responseType ? { response_type: c.responseType } : {}) },
        { subject: "$JS.ACK.>", type: "service" },
      ],
    } as never);
    const local = (subject: string) => `${PREFIX}.${subject.split(".").slice(3).join(".")}`;
    const imp = await op.account(`jdapi${i}-IMP`, {
      imports: [
        { name: "next", account: exp.id, subject: NEXT, type: "service", local_subject: local(NEXT) },
        ...(c.info
          ? [{ name: "info", account: exp.id, subject: INFO, type: "service", local_subject: local(INFO) }]
          : []),
        ...(c.ack ? [{ name: "ack", account: exp.id, subject: ACK, type: "service" }] : []),
      ],
    } as never);
    pairs.set(c, { exp, imp });
  }
}, 60_000);

describe("a JetStream domain named API", () => {
  it.each(CASES)("$name: the engine reads the domain API's subjects as a pull set", (c) => {
    const { exp, imp } = pairs.get(c)!;
    const trust = new OperatorTrust();
    trust.addOperator(op.jwt);
    const dir = new AccountDirectory(trust);
    for (const a of [exp, imp]) dir.upsert(a.jwt);
    const all = diagnoseAll(
      dir,
      { now: Math.floor(Date.now() / 1000), expiryWarningSeconds: DEFAULT_EXPIRY_WARNING_SECONDS },
      [imp.id],
    );
    const next = all.find((d) => d.subject === NEXT)!;
    expect(next.status).toBe(c.engine.status);
    if (c.engine.status === "warning") expect(next.cause).toBe("jetstream_imports_incomplete");
    for (const piece of c.engine.fix) expect(next.remediation.join("\n")).toContain(piece);
    // Every other import of the set is active: none of them is a set of its own.
    expect(all.filter((d) => d !== next).map((d) => d.status)).toEqual(
      all.filter((d) => d !== next).map(() => "active"),
    );
  });

  for (const line of pinnedServers())
    describe.skipIf(!line.bin)(`nats-server ${line.version} in domain API`, () => {
      it("starts, and each set gets what the engine says", async () => {
        const server = await startServer(op, { bin: line.bin!, extraConfig: DOMAIN_API, debug: false });
        try {
          const got: Record<string, Case["measured"]> = {};
          for (const c of CASES) {
            const { exp, imp } = pairs.get(c)!;
            await pushAll(server, [exp, imp]);
            await createShared(server, exp);
            await publishShared(server, exp, 2);
            const out = await pullAndAck({ server, importer: imp, exporter: exp, apiPrefix: PREFIX }, 2);
            got[c.name] = { consumerInfo: out.consumerInfo, fetched: out.fetched, ackPending: out.ackPending };
          }
          expect(got).toEqual(Object.fromEntries(CASES.map((c) => [c.name, c.measured])));
        } finally {
          await server.stop();
        }
      }, 120_000);
    });
});
