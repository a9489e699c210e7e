/**
 * A catalogue of import scenarios, one per cause and per kind of active import. The same
 * catalogue drives the engine's unit tests and the real-server tests, where message flow is the
 * judge: each scenario makes its own exporter and importer accounts, says which JWTs exist (and
 * so are pushed), what the engine must conclude, and which literal subjects carry a message.
 */
import type { CauseCode } from "../../src/core/index.js";
import { activation, nowSec, signClaims, type ImportClaim, type TestAccount, type TestOperator } from "./deployment.js";
import { createAccount, createOperator, encodeAccount } from "@nats-io/jwt";
import { JETSTREAM_LIMITS, SHARED, type PullOutcome, type PushOutcome } from "./jetstream.js";

export interface Built {
  /** JWTs that exist, exporters first (the order they are pushed in). */
  accounts: TestAccount[];
  exporter: TestAccount;
  importer: TestAccount;
  type: "stream" | "service";
  /** Stream: the exporter publishes here. Service: the exporter answers here. */
  exporterSubject: string;
  /** Stream: the importer subscribes here. Service: the importer sends requests here. */
  importerSubject: string;
  /**
   * JWTs the server holds before `accounts` are pushed: an earlier version of an account that the
   * server keeps when it rejects the push of a later one (so its users still connect).
   */
  earlier?: string[];
  /** Service: nats-server itself answers in the exporter (the system account): any reply is flow. */
  serverAnswers?: boolean;
  /**
   * Service: how long to keep asking while requests get no responder. The server chooses a weighted
   * mapping's destination at random per message: a share of requests that reach the import is
   * found within a few tries (40 % misses 40 times in a row with odds of 1e-9).
   */
  retryMs?: number;
  /** JetStream scenarios: where the importer's clients reach the exporter's JetStream API. */
  apiPrefix?: string;
}

/**
 * What real consumers of the importer get from the exporter's shared stream (test/support/jetstream.ts)
 * when the exporter published `JETSTREAM_MESSAGES` messages: a fetch of that many, then a push
 * consumer, each message acked.
 */
export interface JetStreamExpectation {
  pull?: Pick<PullOutcome, "consumerInfo" | "fetched" | "ackPending">;
  push?: Pick<PushOutcome, "bound" | "delivered" | "ackPending">;
}

export const JETSTREAM_MESSAGES = 2;

export interface Scenario {
  /** The import under test is the importer's last one; any before it are set-up. */
  name: string;
  /** null: the import is active. */
  cause: CauseCode | null;
  /** The server refuses to store the importer's JWT on push (a blocking validation error). */
  pushRejected?: boolean;
  /**
   * The side whose users the server refuses (`Authorization Violation`: it cannot load that
   * account — never pushed, push rejected, expired, untrusted signer). Absent: both sides connect
   * and message flow judges the import; present: the judge checks exactly this refusal and the
   * server's own account INFO decides (see test/support/judge.ts).
   */
  unreachable?: "importer" | "exporter";
  /**
   * Where a server line decides otherwise (docs/servers.md): by line ("2.10"), or by a range of
   * versions of one line ("2.12.0-2.12.5", both ends included), which goes before its line.
   */
  byLine?: Record<string, Pick<Scenario, "cause" | "pushRejected" | "unreachable">>;
  /**
   * A set of JetStream imports: judged on a server with JetStream by real consumers (what works and
   * what does not), instead of the flow oracle.
   */
  jetstream?: JetStreamExpectation;
  build(op: TestOperator): Promise<Built>;
}

/** The scenario as a given server version ("2.10.29") must judge it. */
export function scenarioOn(scenario: Scenario, version: string): Scenario {
  const line = version.split(".").slice(0, 2).join(".");
  const patch = Number(/^\d+\.\d+\.(\d+)/.exec(version)?.[1] ?? NaN);
  const inRange = (key: string) => {
    const m = /^(\d+\.\d+)\.(\d+)-\1\.(\d+)$/.exec(key);
    return m !== null && m[1] === line && patch >= Number(m[2]) && patch <= Number(m[3]);
  };
  const range = Object.keys(scenario.byLine ?? {}).find(inRange);
  const own = scenario.byLine?.[range ?? line];
  return own
    ? { ...scenario, cause: own.cause, pushRejected: own.pushRejected, unreachable: own.unreachable }
    : scenario;
}

const HOUR = 3600;
const DAY = 24 * HOUR;

/** An exporter with one export and an importer with one import, built in that order. */
async function pair(
  op: TestOperator,
  tag: string,
  exp: {
    subject: string;
    type: "stream" | "service";
    token_req?: boolean;
    account_token_position?: number;
    revocations?: Record<string, number>;
  },
  imp: (exporter: TestAccount, importerId: string) => Promise<Record<string, unknown>>,
  opts: { exporterSigningKeys?: number; exporterExp?: number; exporterNbf?: number; importerExp?: number } = {},
): Promise<{ exporter: TestAccount; importer: TestAccount }> {
  const exporter = await op.account(
    `${tag}-EXP`,
    { exports: [{ name: tag, ...exp }] },
    {
      ...(opts.exporterSigningKeys !== undefined ? { signingKeys: opts.exporterSigningKeys } : {}),
      ...(opts.exporterExp !== undefined ? { exp: opts.exporterExp } : {}),
      ...(opts.exporterNbf !== undefined ? { nbf: opts.exporterNbf } : {}),
    },
  );
  const importer = await op.account(`${tag}-IMP`);
  const declared = await imp(exporter, importer.id);
  await importer.reissue(
    { imports: [{ name: tag, account: exporter.id, ...declared } as ImportClaim] },
    opts.importerExp !== undefined ? { exp: opts.importerExp } : {},
  );
  return { exporter, importer };
}

function built(
  p: { exporter: TestAccount; importer: TestAccount },
  type: "stream" | "service",
  exporterSubject: string,
  importerSubject = exporterSubject,
  accounts = [p.exporter, p.importer],
): Built {
  return { ...p, accounts, type, exporterSubject, importerSubject };
}

/** Revoke, in the exporter's first export, tokens issued to `key` at or before `at`. */
async function revoke(exporter: TestAccount, key: string, at: number): Promise<void> {
  const claims = structuredClone(exporter.claims);
  const first = claims.exports![0]!;
  first.revocations = { ...(first.revocations ?? {}), [key]: at };
  await exporter.reissue(claims);
}

/** Re-sign the importer without imports first: the JWT the server holds before a rejected push. */
async function earlierWithoutImports(importer: TestAccount): Promise<string[]> {
  const current = structuredClone(importer.claims);
  const earlier = await importer.reissue({});
  await importer.reissue(current);
  return [earlier];
}

const stream =
  (subject: string, extra: Record<string, unknown> = {}) =>
  async () => ({ subject, type: "stream", ...extra });
const service =
  (subject: string, extra: Record<string, unknown> = {}) =>
  async () => ({ subject, type: "service", ...extra });

/** An import of `subject` with a token from the exporter (or from `signer`). */
function withToken(
  subject: string,
  type: "stream" | "service",
  tokenOpts: Parameters<typeof activation>[4] = {},
  tokenSubject = subject,
) {
  return async (exporter: TestAccount, importerId: string) => ({
    subject,
    type,
    token: await activation(exporter, importerId, tokenSubject, type, tokenOpts),
  });
}

/**
 * An exporter with several exports (in this order in its JWT) and an importer of the subject they
 * all contain, without a token: the subject is the exports' tokens with every wildcard filled in.
 */
async function intersecting(
  op: TestOperator,
  tag: string,
  exports: { subject: string; type: "stream" | "service"; token_req?: boolean }[],
): Promise<{ exporter: TestAccount; importer: TestAccount }> {
  const exporter = await op.account(`${tag}-EXP`, { exports: exports.map((e, i) => ({ name: `${tag}${i}`, ...e })) });
  const tokens = exports.map((e) => e.subject.split("."));
  const subject = tokens[0]!.map((_, i) => tokens.map((t) => t[i]!).find((t) => t !== "*") ?? "x").join(".");
  const importer = await op.account(`${tag}-IMP`, {
    imports: [{ name: tag, account: exporter.id, subject, type: exports[0]!.type }],
  });
  return { exporter, importer };
}

/** An ordinary account importing a service of the system account the server adds by itself. */
async function systemImport(
  op: TestOperator,
  tag: string,
  subject: (importerId: string) => string,
  localSubject: string,
): Promise<Built> {
  const importer = await op.account(`${tag}-IMP`);
  await importer.reissue({
    imports: [
      { name: tag, account: op.system.id, subject: subject(importer.id), type: "service", local_subject: localSubject },
    ],
  });
  return {
    exporter: op.system,
    importer,
    accounts: [op.system, importer],
    type: "service",
    exporterSubject: subject(importer.id),
    importerSubject: localSubject,
    serverAnswers: true,
  };
}

/**
 * Two accounts that each export `subject` and import it from the other: a cycle. The importer is
 * pushed last and loaded first (the judge connects its users first), so its import is the one the
 * server refuses.
 */
async function cycle(
  op: TestOperator,
  tag: string,
  type: "stream" | "service",
  subject: string,
  literal: string,
): Promise<Built> {
  const exporter = await op.account(`${tag}-EXP`);
  const importer = await op.account(`${tag}-IMP`);
  await exporter.reissue({
    exports: [{ name: tag, subject, type }],
    imports: [{ name: `${tag}-back`, account: importer.id, subject, type }],
  });
  await importer.reissue({
    exports: [{ name: tag, subject, type }],
    imports: [{ name: tag, account: exporter.id, subject, type }],
  });
  return built({ exporter, importer }, type, literal);
}

/** An export or import of `web`; an import names its source by the name given in `web`. */
type WebClaim = { subject: string; type: "stream" | "service"; local_subject?: string; to?: string; from?: string };

/**
 * Accounts `<tag>-<name>` that import from each other (`spec`: each one's exports and imports), among
 * them `IMP`, whose one import (from `EXP`) is under test. Pushed in the order given, the importer
 * last, and loaded first by the judge, so that of a cycle its import is the one the server refuses
 * (as in `cycle`).
 */
async function web(
  op: TestOperator,
  tag: string,
  spec: Record<string, { exports?: WebClaim[]; imports?: WebClaim[] }>,
  type: "stream" | "service",
  exporterSubject: string,
  importerSubject = exporterSubject,
): Promise<Built> {
  const names = Object.keys(spec);
  const accounts = new Map<string, TestAccount>();
  for (const name of names) accounts.set(name, await op.account(`${tag}-${name}`));
  const id = (name: string) => accounts.get(name)!.id;
  for (const [name, { exports = [], imports = [] }] of Object.entries(spec))
    await accounts.get(name)!.reissue({
      exports: exports.map(({ subject, type }) => ({ subject, type })),
      imports: imports.map(({ from, ...claim }) => ({ ...claim, account: id(from!) })),
    });
  const order = [...names.filter((n) => n !== "IMP"), "IMP"].map((n) => accounts.get(n)!);
  const p = { exporter: accounts.get("EXP")!, importer: accounts.get("IMP")! };
  return built(p, type, exporterSubject, importerSubject, order);
}

/**
 * An exporter of the service `svc.>` and an importer of `subject` (under `local`) with its own
 * `mappings`: the importer's mappings decide what reaches the import (src/core/mapping.ts).
 * `requestOn`: where the judge's requests go (the local subject unless another subject is mapped onto it).
 */
async function mapped(
  op: TestOperator,
  tag: string,
  subject: string,
  local: string | null,
  mappings: Record<string, { subject: string; weight?: number }[]>,
  requestOn = local ?? subject,
  exporterMappings: Record<string, { subject: string; weight?: number }[]> = {},
  answerOn = subject,
): Promise<Built> {
  const exporter = await op.account(`${tag}-EXP`, {
    exports: [{ name: tag, subject: "svc.>", type: "service" }],
    mappings: exporterMappings,
  });
  const importer = await op.account(`${tag}-IMP`, {
    imports: [
      { name: tag, account: exporter.id, subject, type: "service", ...(local ? { local_subject: local } : {}) },
    ],
    mappings,
  });
  return built({ exporter, importer }, "service", answerOn, requestOn);
}

type JsClaim = { subject: string; type: "stream" | "service"; response_type?: string; local_subject?: string };
const NEXT = `$JS.API.CONSUMER.MSG.NEXT.${SHARED.stream}.${SHARED.pull}`;
const INFO = `$JS.API.CONSUMER.INFO.${SHARED.stream}.${SHARED.pull}`;
const PULL_ACK = `$JS.ACK.${SHARED.stream}.${SHARED.pull}.>`;
const PUSH_ACK = `$JS.ACK.${SHARED.stream}.${SHARED.push}.>`;
/** The API subject `subject` under the importer's local prefix JS.X.API. */
const underPrefix = (subject: string): string => subject.replace(/^\$JS\.API/, "JS.X.API");

/** An exporter with JetStream sharing its stream's consumers, an importer with `imports` (the last one under test). */
async function jetStreamSet(op: TestOperator, tag: string, exports: JsClaim[], imports: JsClaim[]): Promise<Built> {
  const exporter = await op.account(`${tag}-EXP`, {
    limits: { ...JETSTREAM_LIMITS },
    exports: exports.map((e) => ({ name: e.subject, ...e })) as never,
  });
  const importer = await op.account(`${tag}-IMP`, {
    imports: imports.map((i) => ({ name: i.subject, account: exporter.id, ...i })),
  });
  const last = imports.at(-1)!;
  return {
    exporter,
    importer,
    accounts: [exporter, importer],
    type: last.type,
    exporterSubject: last.subject,
    importerSubject: last.local_subject ?? last.subject,
    apiPrefix: "JS.X.API",
  };
}

export const SCENARIOS: Scenario[] = [
  {
    name: "public stream",
    cause: null,
    build: async (op) =>
      built(await pair(op, "pubstream", { subject: "ps.>", type: "stream" }, stream("ps.data")), "stream", "ps.data"),
  },
  {
    name: "public service with a local subject",
    cause: null,
    build: async (op) =>
      built(
        await pair(
          op,
          "pubsvc",
          { subject: "svc.time", type: "service" },
          service("svc.time", { local_subject: "time.now" }),
        ),
        "service",
        "svc.time",
        "time.now",
      ),
  },
  {
    name: "private stream with a valid token",
    cause: null,
    build: async (op) =>
      built(
        await pair(
          op,
          "privstream",
          { subject: "orders.>", type: "stream", token_req: true },
          withToken("orders.us", "stream", {}, "orders.>"),
        ),
        "stream",
        "orders.us",
      ),
  },
  {
    name: "private service with a token signed by a current signing key",
    cause: null,
    build: async (op) => {
      const p = await pair(op, "privsvc", { subject: "rpc.add", type: "service", token_req: true }, async () => ({}), {
        exporterSigningKeys: 1,
      });
      await p.importer.reissue({
        imports: [
          {
            name: "privsvc",
            account: p.exporter.id,
            subject: "rpc.add",
            type: "service",
            token: await activation(p.exporter, p.importer.id, "rpc.add", "service", {
              signer: p.exporter.signingKeys[0]!,
            }),
          },
        ],
      });
      return built(p, "service", "rpc.add");
    },
  },
  {
    name: "private stream without a token",
    cause: "missing_activation_token",
    build: async (op) =>
      built(
        await pair(op, "notoken", { subject: "nt.>", type: "stream", token_req: true }, stream("nt.x")),
        "stream",
        "nt.x",
      ),
  },
  {
    name: "private service without a token",
    cause: "missing_activation_token",
    build: async (op) =>
      built(
        await pair(op, "notokensvc", { subject: "nts.q", type: "service", token_req: true }, service("nts.q")),
        "service",
        "nts.q",
      ),
  },
  {
    name: "expired token",
    cause: "activation_expired",
    build: async (op) =>
      built(
        await pair(
          op,
          "expired",
          { subject: "ex.>", type: "stream", token_req: true },
          withToken("ex.a", "stream", { exp: nowSec() - HOUR }, "ex.>"),
        ),
        "stream",
        "ex.a",
      ),
  },
  {
    name: "token not yet valid",
    cause: "activation_not_yet_valid",
    build: async (op) =>
      built(
        await pair(
          op,
          "nbf",
          { subject: "nbf.q", type: "service", token_req: true },
          withToken("nbf.q", "service", { nbf: nowSec() + HOUR }),
        ),
        "service",
        "nbf.q",
      ),
  },
  {
    name: "token signed by a rotated-out signing key",
    cause: "activation_signer_untrusted",
    build: async (op) => {
      const p = await pair(op, "rotated", { subject: "rot.>", type: "stream", token_req: true }, async () => ({}), {
        exporterSigningKeys: 2,
      });
      const [old, kept] = p.exporter.signingKeys as [never, never];
      const token = await activation(p.exporter, p.importer.id, "rot.>", "stream", { signer: old });
      await p.importer.reissue({
        imports: [{ name: "rotated", account: p.exporter.id, subject: "rot.1", type: "stream", token }],
      });
      await p.exporter.reissue(undefined, { signingKeys: [kept] }); // rotation: the old key is gone
      return built(p, "stream", "rot.1");
    },
  },
  {
    name: "token revoked for this importer",
    cause: "activation_revoked",
    build: async (op) => {
      const p = await pair(
        op,
        "revoked",
        { subject: "rev.>", type: "stream", token_req: true },
        withToken("rev.a", "stream", {}, "rev.>"),
      );
      await revoke(p.exporter, p.importer.id, nowSec() + 60);
      return built(p, "stream", "rev.a");
    },
  },
  {
    name: "token revoked for all importers",
    cause: "activation_revoked",
    build: async (op) => {
      const p = await pair(
        op,
        "revall",
        { subject: "ra.q", type: "service", token_req: true },
        withToken("ra.q", "service"),
      );
      await revoke(p.exporter, "*", nowSec() + 60);
      return built(p, "service", "ra.q");
    },
  },
  {
    name: "token issued after its importer's revocation",
    cause: null,
    build: async (op) =>
      built(
        await pair(
          op,
          "reissued",
          { subject: "ri.>", type: "stream", token_req: true, revocations: { "*": nowSec() - DAY } },
          withToken("ri.a", "stream", {}, "ri.>"),
        ),
        "stream",
        "ri.a",
      ),
  },
  {
    name: "token expiring within the warning window",
    cause: "activation_expiring_soon",
    build: async (op) =>
      built(
        await pair(
          op,
          "soon",
          { subject: "soon.>", type: "stream", token_req: true },
          withToken("soon.a", "stream", { exp: nowSec() + DAY }, "soon.>"),
        ),
        "stream",
        "soon.a",
      ),
  },
  {
    name: "no export of the subject",
    cause: "export_not_found",
    build: async (op) =>
      built(
        await pair(op, "noexport", { subject: "other.>", type: "stream" }, stream("wanted.x")),
        "stream",
        "wanted.x",
      ),
  },
  {
    name: "import wider than the export",
    cause: "subject_mismatch",
    build: async (op) =>
      built(
        await pair(op, "wider", { subject: "wd.us.>", type: "stream" }, stream("wd.>")),
        "stream",
        "wd.us.a",
        "wd.us.a",
      ),
  },
  {
    name: "stream import of a service export",
    cause: "export_type_mismatch",
    build: async (op) =>
      built(await pair(op, "wrongtype", { subject: "wt.q", type: "service" }, stream("wt.q")), "stream", "wt.q"),
  },
  {
    name: "account token position holds another account",
    cause: "account_token_position_mismatch",
    build: async (op) => {
      const other = createAccount().getPublicKey();
      return built(
        await pair(
          op,
          "atpbad",
          { subject: "atp.*.data", type: "stream", account_token_position: 2 },
          stream(`atp.${other}.data`),
        ),
        "stream",
        `atp.${other}.data`,
      );
    },
  },
  {
    name: "account token position holds the importer",
    cause: null,
    build: async (op) => {
      const exporter = await op.account("atpgood-EXP", {
        exports: [{ subject: "atg.*.data", type: "stream", account_token_position: 2 }],
      });
      const importer = await op.account("atpgood-IMP");
      const subject = `atg.${importer.id}.data`;
      await importer.reissue({ imports: [{ account: exporter.id, subject, type: "stream" }] });
      return built({ exporter, importer }, "stream", subject);
    },
  },
  {
    name: "source account never pushed",
    cause: "source_account_not_found",
    unreachable: "exporter",
    build: async (op) => {
      const p = await pair(op, "nosource", { subject: "ns.>", type: "stream" }, stream("ns.a"));
      return built(p, "stream", "ns.a", "ns.a", [p.importer]);
    },
  },
  {
    name: "source account JWT expired",
    cause: "source_account_expired",
    unreachable: "exporter",
    build: async (op) =>
      built(
        await pair(op, "srcexp", { subject: "se.>", type: "stream" }, stream("se.a"), { exporterExp: nowSec() - HOUR }),
        "stream",
        "se.a",
      ),
  },
  {
    name: "token issued to another account (the server keeps the importer's earlier JWT)",
    cause: "activation_invalid",
    pushRejected: true,
    build: async (op) => {
      const stranger = createAccount().getPublicKey();
      const p = await pair(op, "wrongsub", { subject: "ws.>", type: "stream", token_req: true }, async (exporter) => ({
        subject: "ws.a",
        type: "stream",
        token: await activation(exporter, stranger, "ws.>", "stream"),
      }));
      return { ...built(p, "stream", "ws.a"), earlier: await earlierWithoutImports(p.importer) };
    },
  },
  {
    name: "share on a stream import",
    cause: "import_invalid",
    unreachable: "importer",
    pushRejected: true,
    build: async (op) =>
      built(
        await pair(op, "share", { subject: "sh.>", type: "stream" }, stream("sh.a", { share: true })),
        "stream",
        "sh.a",
      ),
  },
  {
    name: "importer signed by an untrusted operator",
    cause: "account_jwt_invalid",
    unreachable: "importer",
    build: async (op) => {
      const p = await pair(op, "untrusted", { subject: "ut.>", type: "stream" }, stream("ut.a"));
      const rogue = createOperator();
      p.importer.jwt = await encodeAccount(
        p.importer.name,
        p.importer.key,
        {
          ...(structuredClone(p.importer.claims) as object),
          limits: { imports: -1, exports: -1, conn: -1, subs: -1, data: -1, payload: -1, wildcards: true, leaf: -1 },
        },
        { signer: rogue },
      );
      return built(p, "stream", "ut.a");
    },
  },
  {
    // nats-io/jwt decodes an account JWT signed by an account key (ExpectedPrefixes: account or
    // operator) and the resolver stores it; only loading the account fails, as for a foreign operator.
    name: "importer JWT signed by its own account key",
    cause: "account_jwt_invalid",
    unreachable: "importer",
    build: async (op) => {
      const p = await pair(op, "selfsigned", { subject: "ss.>", type: "stream" }, stream("ss.a"));
      p.importer.jwt = await encodeAccount(
        p.importer.name,
        p.importer.key,
        {
          ...(structuredClone(p.importer.claims) as object),
          limits: { imports: -1, exports: -1, conn: -1, subs: -1, data: -1, payload: -1, wildcards: true, leaf: -1 },
        },
        { signer: p.importer.key },
      );
      return built(p, "stream", "ss.a");
    },
  },
  {
    name: "importer JWT not valid yet",
    cause: "account_jwt_invalid",
    unreachable: "importer",
    build: async (op) => {
      const p = await pair(op, "impnbf", { subject: "in.>", type: "stream" }, stream("in.a"));
      await p.importer.reissue(undefined, { nbf: nowSec() + HOUR });
      return built(p, "stream", "in.a");
    },
  },
  {
    name: "a stream and a service import of one subject from one account (the service, second)",
    cause: null,
    build: async (op) => {
      const exports = [
        { name: "sds", subject: "sd.a", type: "stream" as const },
        { name: "sdv", subject: "sd.a", type: "service" as const },
      ];
      const exporter = await op.account("sd-EXP", { exports });
      const importer = await op.account("sd-IMP", {
        imports: exports.map((e) => ({ name: e.name, account: exporter.id, subject: e.subject, type: e.type })),
      });
      return built({ exporter, importer }, "service", "sd.a");
    },
  },
  {
    name: "token signed by the exporter's own key, naming another account as issuer_account",
    cause: "activation_signer_untrusted",
    build: async (op) => {
      const p = await pair(op, "otheriss", { subject: "oi.q", type: "service", token_req: true }, async () => ({}));
      const other = await op.account("otheriss-OTHER");
      const act = { type: "activation", version: 2, subject: "oi.q", kind: "service", issuer_account: other.id };
      const token = await signClaims({ sub: p.importer.id, nats: act }, p.exporter.key);
      await p.importer.reissue({
        imports: [{ name: "otheriss", account: p.exporter.id, subject: "oi.q", type: "service", token }],
      });
      return built(p, "service", "oi.q");
    },
  },
  {
    name: "the same stream imported twice (the second, under another local subject)",
    cause: "duplicate_import",
    build: async (op) => {
      const exporter = await op.account("dup-EXP", { exports: [{ name: "d", subject: "dup.>", type: "stream" }] });
      const importer = await op.account("dup-IMP", {
        imports: [
          { name: "first", account: exporter.id, subject: "dup.a", type: "stream" },
          { name: "second", account: exporter.id, subject: "dup.a", type: "stream", local_subject: "copy.a" },
        ],
      });
      return built({ exporter, importer }, "stream", "dup.a", "copy.a");
    },
  },
  {
    name: "importer JWT expired",
    cause: "account_expired",
    unreachable: "importer",
    build: async (op) =>
      built(
        await pair(op, "impexp", { subject: "ie.>", type: "stream" }, stream("ie.a"), { importerExp: nowSec() - HOUR }),
        "stream",
        "ie.a",
      ),
  },
  {
    name: "system account: the importer's own CONNZ, an export the server adds (account token position 4)",
    cause: null,
    build: (op) => systemImport(op, "sysconnz", (id) => `$SYS.REQ.ACCOUNT.${id}.CONNZ`, "my.connz"),
  },
  {
    name: "system account: another account's CONNZ",
    cause: "account_token_position_mismatch",
    build: (op) => {
      const other = createAccount().getPublicKey();
      return systemImport(op, "sysother", () => `$SYS.REQ.ACCOUNT.${other}.CONNZ`, "their.connz");
    },
  },
  {
    name: "system account: user info, a public export the server adds",
    cause: null,
    build: (op) => systemImport(op, "sysuser", (id) => `$SYS.REQ.USER.${id}.INFO`, "who.am.i"),
  },
  {
    name: "system account: a server ping subject the server imports into every account itself",
    cause: null,
    build: (op) => systemImport(op, "sysping", () => "$SYS.REQ.SERVER.PING.CONNZ", "$SYS.REQ.SERVER.PING.CONNZ"),
  },
  {
    name: "revoked token that also expires within the warning window",
    cause: "activation_revoked",
    build: async (op) => {
      const p = await pair(
        op,
        "revsoon",
        { subject: "rs.>", type: "stream", token_req: true },
        withToken("rs.a", "stream", { exp: nowSec() + DAY }, "rs.>"),
      );
      await revoke(p.exporter, p.importer.id, nowSec() + 60);
      return built(p, "stream", "rs.a");
    },
  },
  {
    name: "expired token signed by a rotated-out signing key",
    cause: "activation_signer_untrusted",
    build: async (op) => {
      const p = await pair(op, "rotexp", { subject: "rx.q", type: "service", token_req: true }, async () => ({}), {
        exporterSigningKeys: 2,
      });
      const [old, kept] = p.exporter.signingKeys as [never, never];
      const token = await activation(p.exporter, p.importer.id, "rx.q", "service", {
        signer: old,
        exp: nowSec() - HOUR,
      });
      await p.importer.reissue({
        imports: [{ name: "rotexp", account: p.exporter.id, subject: "rx.q", type: "service", token }],
      });
      await p.exporter.reissue(undefined, { signingKeys: [kept] });
      return built(p, "service", "rx.q");
    },
  },
  {
    name: "token signed by the exporter's own key, naming it as issuer_account",
    cause: null,
    build: async (op) => {
      const p = await pair(op, "selfsig", { subject: "self.q", type: "service", token_req: true }, async () => ({}));
      const token = await activation(p.exporter, p.importer.id, "self.q", "service", { signer: p.exporter.key });
      await p.importer.reissue({
        imports: [{ name: "selfsig", account: p.exporter.id, subject: "self.q", type: "service", token }],
      });
      return built(p, "service", "self.q");
    },
  },
  {
    name: "account token position at the subject's last token",
    cause: null,
    build: async (op) => {
      const exporter = await op.account("atplast-EXP", {
        exports: [{ subject: "atl.*", type: "stream", account_token_position: 2 }],
      });
      const importer = await op.account("atplast-IMP");
      const subject = `atl.${importer.id}`;
      await importer.reissue({ imports: [{ account: exporter.id, subject, type: "stream" }] });
      return built({ exporter, importer }, "stream", subject);
    },
  },
  {
    name: "service imports from one account overlapping locally (the server keeps the importer's earlier JWT)",
    cause: "import_invalid",
    pushRejected: true,
    build: async (op) => {
      const exporter = await op.account("overlap-EXP", { exports: [{ subject: "ov.>", type: "service" }] });
      const importer = await op.account("overlap-IMP", {
        imports: [
          { name: "wide", account: exporter.id, subject: "ov.>", type: "service" },
          { name: "narrow", account: exporter.id, subject: "ov.a", type: "service" },
        ],
      });
      return { ...built({ exporter, importer }, "service", "ov.a"), earlier: await earlierWithoutImports(importer) };
    },
  },
  {
    name: "source account JWT not yet valid",
    cause: "source_account_expired",
    unreachable: "exporter",
    build: async (op) =>
      built(
        await pair(op, "srcnbf", { subject: "sn.q", type: "service" }, service("sn.q"), {
          exporterNbf: nowSec() + HOUR,
        }),
        "service",
        "sn.q",
      ),
  },
  {
    name: "importer with more imports than its limits allow (the server keeps its earlier JWT)",
    cause: "account_jwt_invalid",
    pushRejected: true,
    build: async (op) => {
      const exporter = await op.account("implimit-EXP", { exports: [{ subject: "il.>", type: "stream" }] });
      const importer = await op.account("implimit-IMP", {
        limits: { imports: 1 },
        imports: [
          { name: "one", account: exporter.id, subject: "il.a", type: "stream" },
          { name: "two", account: exporter.id, subject: "il.b", type: "stream" },
        ],
      });
      return { ...built({ exporter, importer }, "stream", "il.b"), earlier: await earlierWithoutImports(importer) };
    },
  },
  {
    name: "stream import closing a cycle (the source imports the same subjects back)",
    cause: "import_cycle",
    build: (op) => cycle(op, "cycstream", "stream", "cyc.>", "cyc.a"),
  },
  {
    name: "service import closing a cycle",
    cause: "import_cycle",
    build: (op) => cycle(op, "cycsvc", "service", "cys.>", "cys.q"),
  },
  {
    name: "service imports from two accounts overlapping locally (before 2.12.6 the server refuses the JWT, later lines accept it)",
    cause: null,
    // jwt v2.8.0 (2.11.10-2.11.14, 2.12.0-2.12.5) still refuses it: measured on 2.11.4 and 2.12.4; 2.11.17 accepts it
    byLine: {
      "2.10": { cause: "import_invalid", pushRejected: true },
      "2.11.0-2.11.14": { cause: "import_invalid", pushRejected: true },
      "2.12.0-2.12.5": { cause: "import_invalid", pushRejected: true },
    },
    build: async (op) => {
      const narrow = await op.account("ovany-EXP2", { exports: [{ subject: "shared.a", type: "service" }] });
      const exporter = await op.account("ovany-EXP", { exports: [{ subject: "shared.>", type: "service" }] });
      const importer = await op.account("ovany-IMP", {
        imports: [
          { name: "narrow", account: narrow.id, subject: "shared.a", type: "service" },
          { name: "wide", account: exporter.id, subject: "shared.>", type: "service" },
        ],
      });
      const earlier = await earlierWithoutImports(importer);
      return {
        ...built({ exporter, importer }, "service", "shared.b", "shared.b", [narrow, exporter, importer]),
        earlier,
      };
    },
  },
  {
    name: "stream import that only leads into a cycle of two other accounts (that cycle is already broken)",
    cause: null,
    build: async (op) => {
      const ring = await cycle(op, "cycinto", "stream", "cin.>", "cin.a");
      const importer = await op.account("cycinto-OUT");
      await importer.reissue({
        imports: [{ name: "into", account: ring.exporter.id, subject: "cin.>", type: "stream" }],
      });
      return { ...ring, importer, accounts: [...ring.accounts, importer] };
    },
  },
  // How the server walks a cycle (accounts.go, checkServiceImportsForCycles/checkStreamImportsForCycles;
  // src/core/cycle.ts): each of these decides one step of the walk.
  {
    name: "service import under a local subject closing a cycle (the source imports that local subject back)",
    cause: "import_cycle",
    build: (op) =>
      web(
        op,
        "cyclocal",
        {
          EXP: {
            exports: [{ subject: "cyl.b.>", type: "service" }],
            imports: [{ subject: "cyl.a.>", type: "service", from: "IMP" }],
          },
          IMP: {
            exports: [{ subject: "cyl.a.>", type: "service" }],
            imports: [{ subject: "cyl.b.>", type: "service", local_subject: "cyl.a.>", from: "EXP" }],
          },
        },
        "service",
        "cyl.b.q",
        "cyl.a.q",
      ),
  },
  {
    name: "stream import under a local subject whose source exports and imports that local subject back (a cycle)",
    cause: "import_cycle",
    build: (op) =>
      web(
        op,
        "cycto",
        {
          EXP: {
            exports: [
              { subject: "cyt.b.>", type: "stream" },
              { subject: "cyt.a.>", type: "stream" },
            ],
            imports: [{ subject: "cyt.a.>", type: "stream", from: "IMP" }],
          },
          IMP: {
            exports: [{ subject: "cyt.a.>", type: "stream" }],
            imports: [{ subject: "cyt.b.>", type: "stream", local_subject: "cyt.a.>", from: "EXP" }],
          },
        },
        "stream",
        "cyt.b.q",
        "cyt.a.q",
      ),
  },
  {
    name: "stream import under a local subject whose source imports the source's subject back (a cycle: the walk on the source's subject)",
    cause: "import_cycle",
    // EXP does not export the local subject, so the walk on it stops at once; the server walks the
    // source's subject too (cycle.ts: search). EXP's own import never collides with `cfw.l.>`: active.
    build: (op) =>
      web(
        op,
        "cycfrom",
        {
          EXP: {
            exports: [{ subject: "cfw.s.>", type: "stream" }],
            imports: [{ subject: "cfw.s.>", type: "stream", from: "IMP" }],
          },
          IMP: {
            exports: [{ subject: "cfw.s.>", type: "stream" }],
            imports: [{ subject: "cfw.s.>", type: "stream", local_subject: "cfw.l.>", from: "EXP" }],
          },
        },
        "stream",
        "cfw.s.q",
        "cfw.l.q",
      ),
  },
  {
    name: "stream import under a local subject whose source imports it back but exports it only as a service (no cycle)",
    cause: null,
    build: (op) =>
      web(
        op,
        "cycnoexp",
        {
          EXP: {
            exports: [
              { subject: "cyn.b.x", type: "stream" },
              { subject: "cyn.a.x", type: "service" },
            ],
            imports: [{ subject: "cyn.a.x", type: "stream", from: "IMP" }],
          },
          IMP: {
            exports: [{ subject: "cyn.a.x", type: "stream" }],
            imports: [{ subject: "cyn.b.x", type: "stream", local_subject: "cyn.a.x", from: "EXP" }],
          },
        },
        "stream",
        "cyn.b.x",
        "cyn.a.x",
      ),
  },
  {
    name: "stream import whose source imports the same subjects back as a service (no cycle: streams and services are walked apart)",
    cause: null,
    build: (op) =>
      web(
        op,
        "cycmixed",
        {
          EXP: {
            exports: [{ subject: "cym.>", type: "stream" }],
            imports: [{ subject: "cym.>", type: "service", from: "IMP" }],
          },
          IMP: {
            exports: [{ subject: "cym.>", type: "service" }],
            imports: [{ subject: "cym.>", type: "stream", from: "EXP" }],
          },
        },
        "stream",
        "cym.q",
      ),
  },
  {
    name: "stream import whose source imports the subjects from a third account first, then back from the importer (a cycle)",
    cause: "import_cycle",
    build: (op) =>
      web(
        op,
        "cycthird",
        {
          THIRD: { exports: [{ subject: "cy3.>", type: "stream" }] },
          EXP: {
            exports: [{ subject: "cy3.>", type: "stream" }],
            imports: [
              { subject: "cy3.>", type: "stream", from: "THIRD" },
              { subject: "cy3.>", type: "stream", from: "IMP" },
            ],
          },
          IMP: {
            exports: [{ subject: "cy3.>", type: "stream" }],
            imports: [{ subject: "cy3.>", type: "stream", from: "EXP" }],
          },
        },
        "stream",
        "cy3.q",
      ),
  },
  {
    name: "stream import under a prefix ending in a dot (the deprecated `to`) whose source imports the prefixed subjects back (a cycle)",
    cause: "import_cycle",
    build: (op) =>
      web(
        op,
        "cycprefix",
        {
          EXP: {
            exports: [
              { subject: "cpx.>", type: "stream" },
              { subject: "pre.>", type: "stream" },
            ],
            imports: [{ subject: "pre.in.>", type: "stream", from: "IMP" }],
          },
          IMP: {
            exports: [{ subject: "pre.>", type: "stream" }],
            imports: [{ subject: "cpx.>", type: "stream", to: "pre.in.", from: "EXP" }],
          },
        },
        "stream",
        "cpx.q",
        "pre.in.cpx.q",
      ),
  },
  {
    name: "service ring of three accounts, the middle one renaming (the walk goes on with the subject it arrived on: a cycle)",
    cause: "import_cycle",
    build: (op) =>
      web(
        op,
        "cycsvc3",
        {
          THIRD: {
            exports: [{ subject: "cs3.q.x", type: "service" }],
            imports: [{ subject: "cs3.q.y", type: "service", from: "IMP" }],
          },
          EXP: {
            exports: [{ subject: "cs3.q.>", type: "service" }],
            imports: [{ subject: "cs3.q.x", type: "service", local_subject: "cs3.p.x", from: "THIRD" }],
          },
          IMP: {
            exports: [{ subject: "cs3.q.y", type: "service" }],
            imports: [{ subject: "cs3.q.>", type: "service", from: "EXP" }],
          },
        },
        "service",
        "cs3.q.z",
      ),
  },
  {
    name: "stream ring of three accounts, the middle one renaming (the walk goes on with the narrower local subject: no cycle)",
    cause: null,
    build: (op) =>
      web(
        op,
        "cycstr3",
        {
          THIRD: {
            exports: [
              { subject: "ct3.p.x", type: "stream" },
              { subject: "ct3.q.>", type: "stream" },
            ],
            imports: [{ subject: "ct3.q.y", type: "stream", from: "IMP" }],
          },
          EXP: {
            exports: [{ subject: "ct3.q.>", type: "stream" }],
            imports: [{ subject: "ct3.p.x", type: "stream", local_subject: "ct3.q.x", from: "THIRD" }],
          },
          IMP: {
            exports: [{ subject: "ct3.q.y", type: "stream" }],
            imports: [{ subject: "ct3.q.>", type: "stream", from: "EXP" }],
          },
        },
        "stream",
        "ct3.q.z",
      ),
  },
  // The walk refuses without a cycle where it comes into an account a second time (src/core/cycle.ts):
  // EXP imports from B and from C, and both import from D, which imports from E.
  {
    name: "stream import whose source reaches one account by two ways (a diamond: the server's walk calls it a cycle)",
    cause: "cycle_search_refused",
    build: (op) =>
      web(
        op,
        "dias",
        {
          E: { exports: [{ subject: "dis.>", type: "stream" }] },
          D: {
            exports: [{ subject: "dis.>", type: "stream" }],
            imports: [{ subject: "dis.>", type: "stream", from: "E" }],
          },
          B: {
            exports: [{ subject: "dis.>", type: "stream" }],
            imports: [{ subject: "dis.>", type: "stream", from: "D" }],
          },
          C: {
            exports: [{ subject: "dis.>", type: "stream" }],
            imports: [{ subject: "dis.>", type: "stream", from: "D" }],
          },
          EXP: {
            exports: [{ subject: "dis.>", type: "stream" }],
            imports: [
              { subject: "dis.>", type: "stream", from: "B" },
              { subject: "dis.>", type: "stream", from: "C" },
            ],
          },
          IMP: { imports: [{ subject: "dis.>", type: "stream", from: "EXP" }] },
        },
        "stream",
        "dis.x",
      ),
  },
  {
    name: "service import whose source reaches one account by two ways (a diamond: the server's walk calls it a cycle)",
    cause: "cycle_search_refused",
    // EXP's imports keep `div.>` under local subjects, which overlap nothing (servers before 2.12
    // refuse overlapping service imports from any accounts) and do not narrow the walk's subject
    // (before 2.12.6 the server kept a narrowed subject for the walk's next imports too).
    build: (op) =>
      web(
        op,
        "diav",
        {
          E: { exports: [{ subject: "div.>", type: "service" }] },
          D: {
            exports: [{ subject: "div.>", type: "service" }],
            imports: [{ subject: "div.>", type: "service", from: "E" }],
          },
          B: {
            exports: [{ subject: "div.>", type: "service" }],
            imports: [{ subject: "div.>", type: "service", from: "D" }],
          },
          C: {
            exports: [{ subject: "div.>", type: "service" }],
            imports: [{ subject: "div.>", type: "service", from: "D" }],
          },
          EXP: {
            exports: [{ subject: "div.>", type: "service" }],
            imports: [
              { subject: "div.>", type: "service", local_subject: "dvb.>", from: "B" },
              { subject: "div.>", type: "service", local_subject: "dvc.>", from: "C" },
            ],
          },
          IMP: { imports: [{ subject: "div.>", type: "service", from: "EXP" }] },
        },
        "service",
        "div.x",
      ),
  },
  // A stream imported twice from one account: the server's walk runs before its duplicate test, so
  // an earlier import the walk refuses was never added (test/integration/cycle-duplicate.test.ts).
  {
    name: "the same stream subject imported from two accounts (the server keeps one per source account: no duplicate)",
    cause: null,
    build: (op) =>
      web(
        op,
        "twosrc",
        {
          OTHER: { exports: [{ subject: "tws.>", type: "stream" }] },
          EXP: { exports: [{ subject: "tws.>", type: "stream" }] },
          IMP: {
            imports: [
              { subject: "tws.>", type: "stream", from: "OTHER" },
              { subject: "tws.>", type: "stream", local_subject: "twl.>", from: "EXP" },
            ],
          },
        },
        "stream",
        "tws.q",
        "twl.q",
      ),
  },
  {
    name: "the same stream imported twice, the first refused by the cycle search (a diamond on its local subject): the second is added",
    cause: null,
    build: (op) => {
      const all = [{ subject: "dd.x.>", type: "stream" as const }];
      const claim = (from: string) => ({ subject: "dd.x.>", type: "stream" as const, from });
      return web(
        op,
        "diadup",
        {
          E: { exports: all },
          D: { exports: all, imports: [claim("E")] },
          B: { exports: all, imports: [claim("D")] },
          C: { exports: all, imports: [claim("D")] },
          EXP: {
            exports: [...all, { subject: "dd.s.>", type: "stream" }],
            imports: [claim("B"), claim("C")],
          },
          IMP: {
            imports: [
              { subject: "dd.s.>", type: "stream", local_subject: "dd.x.>", from: "EXP" },
              { subject: "dd.s.>", type: "stream", local_subject: "dd.y.>", from: "EXP" },
            ],
          },
        },
        "stream",
        "dd.s.q",
        "dd.y.q",
      );
    },
  },
  {
    name: "the same stream imported twice, the first on a cycle (which of the two the server adds depends on its load order)",
    cause: "duplicate_of_cycle_import",
    build: (op) =>
      web(
        op,
        "cycdup",
        {
          EXP: {
            exports: [
              { subject: "cdd.s.>", type: "stream" },
              { subject: "cdd.l.>", type: "stream" },
            ],
            imports: [{ subject: "cdd.l.>", type: "stream", from: "IMP" }],
          },
          IMP: {
            exports: [{ subject: "cdd.l.>", type: "stream" }],
            imports: [
              { subject: "cdd.s.>", type: "stream", local_subject: "cdd.l.>", from: "EXP" },
              { subject: "cdd.s.>", type: "stream", local_subject: "cdd.m.>", from: "EXP" },
            ],
          },
        },
        "stream",
        "cdd.s.q",
        "cdd.m.q",
      ),
  },
  // The same diamonds with EXP's imports narrowing the walk's subject to `*.b.>` and `*.c.>`: servers
  // before 2.12.6 go on with `*.b.>` through EXP's next import too (nats-server commit ea94f62), which
  // then does not collide, so the walk never reaches D again.
  ...(["stream", "service"] as const).map((type): Scenario => ({
    name: `${type} import whose source reaches one account by two ways, each narrowing the subject (before 2.12.6: honoured)`,
    cause: "cycle_search_refused",
    byLine: { "2.10": { cause: null }, "2.11": { cause: null }, "2.12.0-2.12.5": { cause: null } },
    build: (op) => {
      const p = type === "stream" ? "dns" : "dnv";
      const claim = (subject: string, from: string) => ({ subject: `${p}.${subject}`, type, from });
      const all = [{ subject: `${p}.>`, type }];
      return web(
        op,
        `narrow${type}`,
        {
          E: { exports: all },
          D: { exports: all, imports: [claim(">", "E")] },
          B: { exports: all, imports: [claim(">", "D")] },
          C: { exports: all, imports: [claim(">", "D")] },
          EXP: { exports: all, imports: [claim("b.>", "B"), claim("c.>", "C")] },
          IMP: { imports: [claim(">", "EXP")] },
        },
        type,
        `${p}.x`,
      );
    },
  })),
  {
    name: "service import whose local subject the importer maps elsewhere (the server lists it as valid)",
    cause: "local_subject_mapped",
    build: (op) => mapped(op, "mapaway", "svc.a", "loc.a", { "loc.a": [{ subject: "elsewhere.a" }] }),
  },
  {
    name: "service import under a wildcard mapping of the importer that sends its subjects elsewhere",
    cause: "local_subject_mapped",
    build: (op) =>
      mapped(
        op,
        "mapwild",
        "svc.w.*",
        null,
        { "svc.w.*": [{ subject: "x.{{wildcard(1)}}" }] },
        "svc.w.1",
        {},
        "svc.w.*",
      ),
  },
  {
    name: "service import whose local subject a weighted mapping of the importer keeps 40 % of the requests on",
    cause: "local_subject_partly_mapped",
    build: async (op) => ({
      ...(await mapped(op, "mappart", "svc.p", null, { "svc.p": [{ subject: "gone.p", weight: 60 }] })),
      retryMs: 5_000,
    }),
  },
  {
    name: "service import whose local subject two mappings of the importer take, one keeping every request and one none (the server's install order decides)",
    cause: "local_subject_mappings_overlap",
    build: (op) =>
      mapped(op, "mapover", "svc.o.1", null, {
        "svc.o.1": [{ subject: "gone.o" }],
        "svc.o.*": [{ subject: "svc.o.{{wildcard(1)}}" }],
      }),
  },
  {
    name: "service import whose replies the importer's mapping of *.> takes from the requester's inbox (requests are served, answers lost)",
    cause: "replies_mapped",
    // the local subject has one token, so *.> does not take the requests themselves
    build: (op) => mapped(op, "mapinbox", "svc.q", "q", { "*.>": [{ subject: "moved.{{wildcard(1)}}.>" }] }),
  },
  {
    name: "service import whose replies the exporter's mapping of _R_.> takes from the server's reply subject",
    cause: "replies_mapped",
    build: (op) => mapped(op, "mapresp", "svc.r", null, {}, "svc.r", { "_R_.>": [{ subject: "gone.>" }] }),
  },
  {
    name: "service import whose replies a weighted mapping of the importer's inbox keeps 99 % of (a lost answer costs the judge's request its whole time-out, so the share lost is small)",
    cause: "replies_partly_mapped",
    build: async (op) => ({
      ...(await mapped(op, "mappartinbox", "svc.pi", null, { "_INBOX.>": [{ subject: "gone.>", weight: 1 }] })),
      retryMs: 12_000,
    }),
  },
  {
    name: "service import whose replies two mappings of the importer take, one keeping 40 % of the answers and one none (the server's install order decides)",
    cause: "replies_mappings_overlap",
    build: (op) =>
      mapped(op, "mapoverinbox", "svc.oi", null, {
        "_INBOX.>": [{ subject: "gone.>" }],
        "*.*.*": [{ subject: "kept.{{wildcard(1)}}", weight: 60 }],
      }),
  },
  {
    name: "service import two intersecting exports contain, a.*.c public and a.b.* private, without a token (the server's map order picks one at each check)",
    cause: "exports_overlap",
    build: async (op) =>
      built(
        await intersecting(op, "ovlsvc", [
          { subject: "ovl.*.c", type: "service" },
          { subject: "ovl.b.*", type: "service", token_req: true },
        ]),
        "service",
        "ovl.b.c",
      ),
  },
  {
    name: "stream import two intersecting exports contain, *.y private and x.* public, without a token (the server's map order picks one at each check)",
    cause: "exports_overlap",
    build: async (op) =>
      built(
        await intersecting(op, "ovlstream", [
          { subject: "*.ovly", type: "stream", token_req: true },
          { subject: "ovlx.*", type: "stream" },
        ]),
        "stream",
        "ovlx.ovly",
      ),
  },
  {
    name: "stream import two intersecting public exports contain (whichever the server picks approves it)",
    cause: null,
    build: async (op) =>
      built(
        await intersecting(op, "ovlpub", [
          { subject: "ovlp.*", type: "stream" },
          { subject: "*.ovlq", type: "stream" },
        ]),
        "stream",
        "ovlp.ovlq",
      ),
  },
  {
    name: "service import the importer maps another subject onto (requests on that subject reach it)",
    cause: null,
    build: (op) => mapped(op, "mapinto", "svc.i", null, { "ask.i": [{ subject: "svc.i" }] }, "ask.i"),
  },
  {
    name: "service import whose local subject the importer maps away while mapping another subject onto it (reached through that one)",
    cause: null,
    build: (op) =>
      mapped(
        op,
        "mapthrough",
        "svc.t",
        null,
        { "svc.t": [{ subject: "gone.t" }], "ask.t": [{ subject: "svc.t" }] },
        "ask.t",
      ),
  },
  {
    name: "service import whose exporter-side subject the importer maps (only the local subject counts)",
    cause: null,
    build: (op) => mapped(op, "mapremote", "svc.r", "loc.r", { "svc.r": [{ subject: "gone.r" }] }),
  },
  {
    name: "service import whose subject the exporter maps (requests arrive on the exporter's mapped subject)",
    cause: null,
    build: (op) => mapped(op, "mapexp", "svc.e", null, {}, "svc.e", { "svc.e": [{ subject: "svc.e.v2" }] }, "svc.e.v2"),
  },
  {
    name: "importer with a mapping the server cannot build (2.15.2 refuses the JWT and keeps its earlier one; older lines leave the mapping out)",
    cause: "account_jwt_invalid",
    pushRejected: true,
    // refused from 2.14.8 and 2.15.2 (validateAccountClaimMappings): measured on 2.14.10
    byLine: {
      "2.10": { cause: null },
      "2.11": { cause: null },
      "2.12": { cause: null },
      "2.14.0-2.14.7": { cause: null },
      "2.15.0-2.15.1": { cause: null },
    },
    build: async (op) => {
      const b = await mapped(op, "mapbad", "svc.u", null, { "svc.u": [{ subject: "gone.*" }] });
      return { ...b, earlier: await earlierWithoutImports(b.importer) };
    },
  },
  {
    name: "stream import whose local subject the importer maps (delivery is not a client publish)",
    cause: null,
    build: async (op) => {
      const exporter = await op.account("mapstream-EXP", { exports: [{ subject: "ms.>", type: "stream" }] });
      const importer = await op.account("mapstream-IMP", {
        imports: [{ account: exporter.id, subject: "ms.a", type: "stream" }],
        mappings: { "ms.a": [{ subject: "gone.a" }] },
      });
      return built({ exporter, importer }, "stream", "ms.a");
    },
  },
  {
    name: "JetStream: the whole API imported (exported Singleton), no ack import: fetch gets one message, acks are dropped, push delivers nothing",
    cause: "jetstream_imports_incomplete",
    jetstream: {
      pull: { consumerInfo: true, fetched: 1, ackPending: 2 },
      push: { bound: false, delivered: 0, ackPending: 0 },
    },
    build: (op) =>
      jetStreamSet(
        op,
        "jsapi",
        [{ subject: "$JS.API.>", type: "service" }],
        [{ subject: "$JS.API.>", type: "service", local_subject: "JS.X.API.>" }],
      ),
  },
  {
    name: "JetStream: a complete pull set (next with Stream responses, consumer info, acks)",
    cause: null,
    jetstream: { pull: { consumerInfo: true, fetched: 2, ackPending: 0 } },
    build: (op) =>
      jetStreamSet(
        op,
        "jspull",
        [
          { subject: NEXT, type: "service", response_type: "Stream" },
          { subject: INFO, type: "service" },
          { subject: PULL_ACK, type: "service" },
        ],
        [
          { subject: INFO, type: "service", local_subject: underPrefix(INFO) },
          { subject: PULL_ACK, type: "service" },
          { subject: NEXT, type: "service", local_subject: underPrefix(NEXT) },
        ],
      ),
  },
  {
    name: "JetStream: a pull set without the ack import: fetch works, acks are dropped",
    cause: "jetstream_imports_incomplete",
    jetstream: { pull: { consumerInfo: true, fetched: 2, ackPending: 2 } },
    build: (op) =>
      jetStreamSet(
        op,
        "jsnoack",
        [
          { subject: NEXT, type: "service", response_type: "Stream" },
          { subject: INFO, type: "service" },
          { subject: PULL_ACK, type: "service" },
        ],
        [
          { subject: INFO, type: "service", local_subject: underPrefix(INFO) },
          { subject: NEXT, type: "service", local_subject: underPrefix(NEXT) },
        ],
      ),
  },
  {
    name: "JetStream: a pull set without consumer info: the lookup fails, fetch and acks work",
    cause: "jetstream_imports_incomplete",
    jetstream: { pull: { consumerInfo: false, fetched: 2, ackPending: 0 } },
    build: (op) =>
      jetStreamSet(
        op,
        "jsnoinfo",
        [
          { subject: NEXT, type: "service", response_type: "Chunked" },
          { subject: PULL_ACK, type: "service" },
        ],
        [
          { subject: PULL_ACK, type: "service" },
          { subject: NEXT, type: "service", local_subject: underPrefix(NEXT) },
        ],
      ),
  },
  {
    name: "JetStream: a push consumer with its deliver subject and acks imported",
    cause: null,
    jetstream: { push: { bound: true, delivered: 2, ackPending: 0 } },
    build: (op) =>
      jetStreamSet(
        op,
        "jspush",
        [
          { subject: SHARED.pushDeliver, type: "stream" },
          { subject: PUSH_ACK, type: "service" },
        ],
        [
          { subject: SHARED.pushDeliver, type: "stream" },
          { subject: PUSH_ACK, type: "service" },
        ],
      ),
  },
  {
    name: "JetStream: a push consumer's acks imported without its deliver subject: nothing is delivered",
    cause: "jetstream_imports_incomplete",
    jetstream: { push: { bound: false, delivered: 0, ackPending: 0 } },
    build: (op) =>
      jetStreamSet(
        op,
        "jsnodeliver",
        [
          { subject: SHARED.pushDeliver, type: "stream" },
          { subject: PUSH_ACK, type: "service" },
        ],
        [{ subject: PUSH_ACK, type: "service" }],
      ),
  },
];
