/**
 * A load's JWT texts are garbage once they are filed (issue 19, docs/decisions.md 40): the Map the
 * loader returns (~390 MB of text at 100,000 accounts) must not stay reachable while the verdicts
 * are cross-checked and offered, which takes seconds to minutes at that size. An async function
 * keeps its locals alive across its later awaits, read again or not: the load reads and files in a
 * function of its own. Without NATS: the loader and the publisher are stand-ins, the monitor real.
 */
import { describe, expect, it } from "vitest";
import { OperatorTrust } from "../../src/core/directory.js";
import { ImportMonitor, UnconfirmedLoad } from "../../src/core/monitor.js";
import type { AccountLoader } from "../../src/live/account-loader.js";
import { Lifecycle } from "../../src/live/lifecycle.js";
import { ResyncLoop } from "../../src/live/resync-loop.js";
import type { VerdictPublisher } from "../../src/live/verdict-publisher.js";
import { collectGarbage } from "../../src/shell/gc.js";
import { createLogger } from "../../src/shell/log.js";
import type { Metrics } from "../../src/shell/metrics.js";
import { TestOperator } from "../support/deployment.js";

describe("ResyncLoop's load", () => {
  it("lets the JWT texts go before the verdicts are cross-checked and offered", async () => {
    const op = await TestOperator.create();
    const exporter = await op.account("EXP", { exports: [{ name: "p", subject: "p.>", type: "stream" }] });
    const importer = await op.account("IMP", {
      imports: [{ name: "p", account: exporter.id, subject: "p.1", type: "stream" }],
    });
    const trust = new OperatorTrust();
    trust.addOperator(op.jwt);
    const monitor = new ImportMonitor(trust, 86400);

    let texts: WeakRef<Map<string, string>> | null = null;
    const loader = {
      refreshTrust: async () => {},
      loadStored: async () => {
        const jwts = new Map([exporter, importer].map((a) => [a.id, a.jwt]));
        texts = new WeakRef(jwts);
        return jwts;
      },
    };
    let publishing!: () => void;
    const publishStarted = new Promise<void>((r) => (publishing = r));
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    let offered = 0;
    const verdicts = {
      publishAll: async (changes: unknown[]) => {
        offered = changes.length;
        publishing();
        await released;
      },
    };
    const metrics = { timed: <T>(_kind: string, fn: () => T): T => fn(), resynced: () => {} };
    const loop = new ResyncLoop(
      monitor,
      loader as unknown as AccountLoader,
      verdicts as unknown as VerdictPublisher,
      metrics as unknown as Metrics,
      new Lifecycle(),
      createLogger("silent"),
    );

    const first = loop.first();
    await publishStarted;
    // A WeakRef keeps its target until the end of the job that made or read it: collect in a later one.
    await new Promise((r) => setImmediate(r));
    collectGarbage();
    expect(offered).toBe(1);
    expect(texts).not.toBeNull();
    expect(texts!.deref()).toBeUndefined();
    release();
    await first;
    expect(monitor.diagnosisCount()).toBe(1);
    loop.stopTimers();
  });

  it("takes the texts out of the loader's map as it files them, and reads again after an UnconfirmedLoad", async () => {
    const op = await TestOperator.create();
    const exporter = await op.account("EXP", { exports: [{ name: "p", subject: "p.>", type: "stream" }] });
    const importer = await op.account("IMP", {
      imports: [{ name: "p", account: exporter.id, subject: "p.1", type: "stream" }],
    });
    const trust = new OperatorTrust();
    trust.addOperator(op.jwt);
    // The first load stands for one whose deferred checks found a forgery after it consumed its JWTs
    // (test/integration/deferred-checks.test.ts makes a real one).
    let loads = 0;
    class OnceUnconfirmed extends ImportMonitor {
      override replaceAll(
        jwts: Map<string, string>,
        now: number,
        opts?: { consume: true },
      ): ReturnType<ImportMonitor["replaceAll"]> {
        if (++loads > 1) return super.replaceAll(jwts, now, opts!);
        // What such a load leaves: the map consumed, nothing filed.
        jwts.clear();
        throw new UnconfirmedLoad();
      }
    }
    const monitor = new OnceUnconfirmed(trust, 86400);
    const maps: Map<string, string>[] = [];
    const loader = {
      refreshTrust: async () => {},
      loadStored: async () => {
        const jwts = new Map([exporter, importer].map((a) => [a.id, a.jwt]));
        maps.push(jwts);
        return jwts;
      },
    };
    let offered = 0;
    const verdicts = {
      publishAll: async (changes: unknown[]) => {
        offered = changes.length;
      },
    };
    const metrics = { timed: <T>(_kind: string, fn: () => T): T => fn(), resynced: () => {} };
    const loop = new ResyncLoop(
      monitor,
      loader as unknown as AccountLoader,
      verdicts as unknown as VerdictPublisher,
      metrics as unknown as Metrics,
      new Lifecycle(),
      createLogger("silent"),
    );
    await loop.first();
    loop.stopTimers();
    expect(maps).toHaveLength(2);
    expect(maps.map((m) => m.size)).toEqual([0, 0]);
    expect(offered).toBe(1);
    expect(monitor.directory.size).toBe(2);
  });
});
