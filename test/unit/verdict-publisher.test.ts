/**
 * The verdict publisher's wait for the servers' view after a change, without NATS: an INFO that no
 * server answers in time (on a loaded machine an answer can come after the wait) is no view, and
 * no fresh one either. What the app's settled() waits for (pending()) must cover asking again, so
 * a verdict read after it carries the servers' view (service.test.ts shows the same on a real
 * server when the machine is busy enough).
 */
import { beforeEach, describe, expect, it } from "vitest";
import type { ImportDiagnosis } from "../../src/core/diagnosis.js";
import { OperatorTrust } from "../../src/core/directory.js";
import { trigger } from "../../src/core/history.js";
import { ImportMonitor } from "../../src/core/monitor.js";
import { Lifecycle } from "../../src/live/lifecycle.js";
import { VerdictPublisher } from "../../src/live/verdict-publisher.js";
import type { EventPublisher } from "../../src/shell/events.js";
import { createLogger } from "../../src/shell/log.js";
import type { AccountInfoReply, ResolverClient } from "../../src/shell/resolver.js";
import { TestOperator, nowSec, type TestAccount } from "../support/deployment.js";

describe("VerdictPublisher after a change", () => {
  let exporter: TestAccount;
  let importer: TestAccount;
  let monitor: ImportMonitor;
  /** Every entry offered to the event publisher, in order. */
  let offered: [string, ImportDiagnosis][];

  beforeEach(async () => {
    const op = await TestOperator.create();
    exporter = await op.account("EXP", { exports: [{ name: "p", subject: "p.>", type: "stream" }] });
    importer = await op.account("IMP", {
      imports: [{ name: "p", account: exporter.id, subject: "p.1", type: "stream" }],
    });
    const trust = new OperatorTrust();
    trust.addOperator(op.jwt);
    monitor = new ImportMonitor(trust, 86400);
    monitor.replaceAll(new Map([exporter, importer].map((a) => [a.id, a.jwt])), nowSec());
    offered = [];
  });

  /** A publisher whose one server answers INFO about the importer only when `answers()` says so (else nothing comes back in time). */
  function publisher(answers: () => boolean): VerdictPublisher {
    const events = {
      offer: (entries: Iterable<[string, ImportDiagnosis]>) => offered.push(...entries),
      removed: () => {},
      prune: () => {},
      drained: async () => {},
    };
    const resolver = {
      serverCount: async () => 1,
      accountInfo: async (id: string): Promise<AccountInfoReply[]> => {
        if (id === exporter.id) return [{ server: "n0", jwt: exporter.jwt, imports: [] }];
        if (id !== importer.id || !answers()) return [];
        return [
          {
            server: "n0",
            jwt: importer.jwt,
            imports: [{ subject: "p.1", local: "p.1", account: exporter.id, type: "stream", invalid: false }],
          },
        ];
      },
    };
    const life = new Lifecycle();
    life.markStarted();
    return new VerdictPublisher(
      monitor,
      events as unknown as EventPublisher,
      resolver as unknown as ResolverClient,
      life,
      createLogger("silent"),
      2000,
    );
  }

  /** What InsightsApp.settled() waits for, from the verdict publisher. */
  async function settled(p: VerdictPublisher): Promise<void> {
    for (let work = p.pending(); work.length > 0; work = p.pending()) await Promise.allSettled(work);
  }

  /** The exporter is re-signed and pushed: its importer's verdict waits for a fresh view. */
  async function pushExporter(p: VerdictPublisher): Promise<void> {
    const claims = structuredClone(exporter.claims);
    claims.exports = [...claims.exports!, { name: "q", subject: "q.>", type: "stream" }];
    await exporter.reissue(claims);
    p.emit(
      monitor.applyAccount(exporter.id, exporter.jwt, nowSec()),
      [exporter.id, ...monitor.directory.importersOf(exporter.id)],
      trigger("push", { account: exporter.id }),
    );
  }

  const p1 = () => offered.filter(([, d]) => d.subject === "p.1").map(([, d]) => d.server);
  const view = { servers: 1, registered: true, invalid: false };

  it("an INFO nobody answered in time is asked again before the change is settled", async () => {
    let asked = 0;
    const p = publisher(() => ++asked > 1);
    await pushExporter(p);
    await settled(p);
    expect(p.keyed([importer.id]).map(([, d]) => d.server)).toEqual([view]);
    expect(p1()).toEqual([view]);
  });

  it("a view that only comes after the held verdict went out without it is caught up, and offered again", async () => {
    // The server answers only once the hold is over (its bound reached): the verdict went out without a view.
    const p = publisher(() => p1().length > 0);
    await pushExporter(p);
    await settled(p);
    expect(p1()).toEqual([null, view]);
    expect(p.keyed([importer.id]).map(([, d]) => d.server)).toEqual([view]);
  });
});
