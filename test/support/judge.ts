/**
 * The judge of a catalogue scenario on a real nats-server. Three pieces of evidence, each taken
 * from the server and none inferred from an error that happens to look like "no flow":
 *
 *  1. Who can connect. A user of each side connects; the server must refuse exactly the side the
 *     scenario names (`Authorization Violation`, the server's answer for an account it cannot
 *     load). Any other connection error is a broken set-up and is thrown.
 *  2. Message flow across the import, when both sides can connect (the flow oracle, which throws
 *     on a broken set-up too). When one side cannot, nothing can be sent from it, so flow cannot
 *     be the judge; the side that can connect still probes (a service request must get "no
 *     responders"), and the server's own account view decides.
 *  3. The server's own account view (`$SYS.REQ.ACCOUNT.<importer>.INFO`): a loaded importer lists
 *     exactly the imports the server honours (an import it rejects is simply absent), so the
 *     import under test is listed iff it is active. An importer the server refuses to load has no
 *     INFO at all.
 */
import { AuthorizationError, type NatsConnection } from "@nats-io/nats-core";
import type { TestAccount, TestOperator } from "./deployment.js";
import { serviceAnswered, serviceFlows, serviceRefusedFrom, streamFlows } from "./flow.js";
import { accountInfo, connectAs, type Reachable } from "./nats-server.js";
import type { Built, Scenario } from "./scenarios.js";
import { causeOf } from "../../src/core/index.js";

export type Side = "importer" | "exporter";

/**
 * Where the judge connects: a server, or one node of a cluster (clients of both sides on it, and
 * `serverId`, the node's id, so that its own account view is asked).
 */
export type JudgeTarget = Reachable & { operator: TestOperator; serverId?: string };

export interface Verdict {
  /** Sides whose users the server refused (Authorization Violation), importer first. */
  refused: Side[];
  /** Message flow across the import; null when a side cannot connect, so flow cannot be tried. */
  flows: boolean | null;
  /** The importer's INFO lists the import under test; null when the server has no INFO for it. */
  listed: boolean | null;
  /** Exporter refused, importer connected: a request from the importer got "no responders". */
  importerProbeRefused?: boolean;
}

/** The import declared last by the importer (the one under test), as its JWT says it. */
export interface DeclaredImport {
  account: string;
  subject: string;
  type: "stream" | "service";
  local_subject?: string;
  to?: string;
}

export function importUnderTest(importer: TestAccount): DeclaredImport {
  const imports = (importer.claims.imports ?? []) as unknown as DeclaredImport[];
  const last = imports.at(-1);
  if (!last) throw new Error(`${importer.name} declares no import`);
  return last;
}

/** Does the server refuse a user of `account`? Any failure other than an authorization one throws. */
export async function refusesUser(server: Reachable, account: TestAccount): Promise<boolean> {
  let nc: NatsConnection;
  try {
    nc = await connectAs(server, account);
  } catch (err) {
    if (err instanceof AuthorizationError && /Authorization Violation/i.test(err.message)) return true;
    throw err;
  }
  await nc.close();
  return false;
}

interface InfoImport {
  account?: string;
  subject?: string;
  local_subject?: string;
  type?: string;
  invalid?: boolean;
}

/**
 * Is `imp` among the imports the server's INFO lists for the importer (and not marked invalid)?
 * With `anyRemote`, any import of its local subject from its source account counts: for the
 * system account's services the server imports into every account itself, its own import (to the
 * account's own request subject) is what carries the requests.
 * Entries are matched on exporter, type, remote subject and local subject (the server writes the
 * local subject even when the JWT has none). null: the server has no INFO (account not loaded).
 */
export async function serverListsImport(
  server: JudgeTarget,
  importer: TestAccount,
  imp: DeclaredImport,
  anyRemote = false,
): Promise<boolean | null> {
  const info = await accountInfo(server, server.operator, importer.id, 2_000, server.serverId);
  if (!info) return null;
  const local = imp.local_subject || imp.subject;
  const listed = ((info["imports"] ?? []) as InfoImport[]).filter(
    (i) =>
      i.account === imp.account &&
      i.type === imp.type &&
      (anyRemote || i.subject === imp.subject) &&
      (i.local_subject ?? i.subject) === local,
  );
  return listed.some((i) => i.invalid !== true);
}

/** Runs the three checks above for one built scenario on `server` (all its JWTs already pushed). */
export async function judge(server: JudgeTarget, b: Built): Promise<Verdict> {
  const refused: Side[] = [];
  // Connecting loads the account, so this comes before INFO is read.
  if (await refusesUser(server, b.importer)) refused.push("importer");
  if (await refusesUser(server, b.exporter)) refused.push("exporter");
  const verdict: Verdict = {
    refused,
    flows: null,
    listed: await serverListsImport(server, b.importer, importUnderTest(b.importer), b.serverAnswers),
  };
  if (refused.length === 0) {
    // One server: a single round is conclusive (see flow.ts), so no time window is waited out.
    verdict.flows = b.serverAnswers
      ? await serviceAnswered(server, b.importer, b.importerSubject)
      : b.type === "stream"
        ? await streamFlows(server, b.exporter, b.importer, b.exporterSubject, b.importerSubject, 0)
        : await serviceFlows(server, b.exporter, b.importer, b.exporterSubject, b.importerSubject, b.retryMs ?? 0);
  } else if (refused.length === 1 && refused[0] === "exporter" && b.type === "service") {
    verdict.importerProbeRefused = await serviceRefusedFrom(server, b.importer, b.importerSubject);
  }
  return verdict;
}

/** What the server must show for a scenario, given whether the engine says the import carries messages. */
/**
 * Causes whose flow follows an order the server draws anew at each load or check: that of the
 * mappings it installed (test/integration/mappings.test.ts), or of the intersecting exports it
 * ranges over (test/integration/exports-overlap.test.ts). The verdict states no flow, so the flow
 * measured agrees (and the server lists the import exactly when it flows).
 */
export const FLOW_BY_MAPPING_ORDER: ReadonlySet<string> = new Set([
  "local_subject_mappings_overlap",
  "replies_mappings_overlap",
  "exports_overlap",
]);

/** expectedVerdict for a diagnosis the live service gave: its status says the flow, unless the server's mapping order does. */
export function expectedFor(
  scenario: Scenario,
  d: { status: string; cause: string | null },
  measured: Pick<Verdict, "flows">,
): Omit<Verdict, "importerProbeRefused"> {
  const flowing =
    d.cause !== null && FLOW_BY_MAPPING_ORDER.has(d.cause) ? measured.flows === true : d.status !== "inactive";
  return expectedVerdict(scenario, flowing);
}

export function expectedVerdict(scenario: Scenario, engineSaysFlowing: boolean): Omit<Verdict, "importerProbeRefused"> {
  return {
    refused: scenario.unreachable ? [scenario.unreachable] : [],
    // both sides connect: flow decides; one cannot: nothing can be sent from it
    flows: scenario.unreachable ? null : engineSaysFlowing,
    // an importer the server will not load has no INFO at all; an import starved by the importer's
    // own mappings is listed as valid all the same
    listed:
      scenario.unreachable === "importer"
        ? null
        : engineSaysFlowing || (scenario.cause !== null && causeOf(scenario.cause).serverRegisters === true),
  };
}

/**
 * Runs `fn` over `items`, at most `limit` at a time, results in input order. The judge opens
 * several connections per scenario; dozens at once only measure how busy the machine is.
 */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
