/**
 * A first load's deferred signature checks, as production runs them: the built code (dist, rebuilt
 * before the run by test/support/fresh-dist.ts; from TypeScript sources no thread starts), a cold
 * load of more than MIN_ACCOUNTS accounts through ImportMonitor.replaceAll with the verification
 * threads the service starts (startLoadVerifier), worker threads on. The load decodes as if every
 * signature held while the threads verify; a forged signature — an account JWT's own, an
 * activation token's inside a well-signed account JWT — must make it forget everything and load
 * again, verifying as usual, so that the result is exactly that of a load on one thread.
 *
 * Which side verifies a batch is a race, so the test removes it: the loading thread, about to
 * confirm the checks, waits until the threads have finished every batch posted to them (waiting
 * for that condition, never for time). Forgeries at the start of the load are then judged by a
 * thread's verdict, forgeries at its very end by this thread's own (the last batch is never posted).
 */
import { createRequire } from "node:module";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type * as DecodeModule from "../../src/core/jwt/decode.js";
import type * as DirectoryModule from "../../src/core/directory.js";
import type * as Ed25519Module from "../../src/core/jwt/ed25519.js";
import type * as MonitorModule from "../../src/core/monitor.js";
import type * as ThreadsModule from "../../src/shell/verify-threads.js";
import { TestOperator, activation, forgeSignature, nowSec, type TestAccount } from "../support/deployment.js";
import { distModule } from "../support/fresh-dist.js";

const IMPORTERS = 150;

type Monitor = InstanceType<typeof MonitorModule.ImportMonitor>;
type Share = { checks: number; checkedHere: number; workers: number };

interface Load {
  monitor: Monitor;
  changes: string;
  /** The `deferrable` of each verifier the monitor started, in order. */
  starts: boolean[];
  /** How the deferred checks were shared, when they were. */
  share: Share | null;
}

describe.each(["sodium-native", "node:crypto"] as const)(
  "a first load's deferred signature checks with %s (built code, worker threads, as in production)",
  (verifier) => {
    let threads: typeof ThreadsModule;
    let decode: typeof DecodeModule;
    let ImportMonitor: typeof MonitorModule.ImportMonitor;
    let OperatorTrust: typeof DirectoryModule.OperatorTrust;
    let op: TestOperator;
    let exporterId: string;
    /** Account id → genuine JWT, in load order: the exporter, then the importers. */
    let genuine: Map<string, string>;
    let importerIds: string[];
    /** An importer's JWT, well signed, whose activation token's signature is forged (by importer index). */
    let forgedTokenJwt: (n: number) => Promise<string>;
    const now = nowSec();

    beforeAll(async () => {
      threads = await distModule<typeof ThreadsModule>("src/shell/verify-threads.js");
      decode = await distModule<typeof DecodeModule>("src/core/jwt/decode.js");
      const ed25519 = await distModule<typeof Ed25519Module>("src/core/jwt/ed25519.js");
      expect(ed25519.useEd25519Verifier(verifier)).toBe(sodiumInstalled() ? verifier : "node:crypto");
      ({ ImportMonitor } = await distModule<typeof MonitorModule>("src/core/monitor.js"));
      ({ OperatorTrust } = await distModule<typeof DirectoryModule>("src/core/directory.js"));

      op = await TestOperator.create({ signingKey: true });
      const exporter = await op.account("EXP", {
        exports: [{ name: "p", subject: "p.>", type: "stream", token_req: true }],
      });
      exporterId = exporter.id;
      genuine = new Map([[exporter.id, exporter.jwt]]);
      importerIds = [];
      const importers: TestAccount[] = [];
      for (let n = 0; n < IMPORTERS; n++) {
        const imp = await op.account(`IMP${n}`);
        const token = await activation(exporter, imp.id, `p.${n}`, "stream");
        await imp.reissue({ imports: [{ name: "p", account: exporter.id, subject: `p.${n}`, type: "stream", token }] });
        genuine.set(imp.id, imp.jwt);
        importerIds.push(imp.id);
        importers.push(imp);
      }
      forgedTokenJwt = async (n) => {
        const imp = importers[n]!;
        const token = forgeSignature(await activation(exporter, imp.id, `p.${n}`, "stream"));
        await imp.reissue({ imports: [{ name: "p", account: exporter.id, subject: `p.${n}`, type: "stream", token }] });
        return imp.jwt;
      };
      expect(genuine.size).toBeGreaterThan(threads.MIN_ACCOUNTS);
      threads.setVerificationWorkers(1);
    }, 120_000);

    afterAll(() => {
      threads?.setVerificationWorkers(0);
    });

    /** Load `jwts` into a new monitor as the service does, the race removed (see above). */
    function loadWithThreads(jwts: Map<string, string>, consume = false): Load {
      // A cold load: nothing decoded before (the memo outlives a monitor).
      decode.forgetDecoded();
      const starts: boolean[] = [];
      let share: Share | null = null;
      const monitor = new ImportMonitor(trust(), 7 * 86_400, (batch, deferrable) => {
        starts.push(deferrable);
        const started = threads.startLoadVerifier(batch, deferrable);
        if (started instanceof threads.DeferringVerifier) {
          const allHeld = started.allHeld.bind(started);
          started.allHeld = () => {
            waitForPostedBatches(started);
            const held = allHeld();
            share = started.share;
            return held;
          };
        }
        return started;
      });
      const changes = JSON.stringify(
        consume ? monitor.replaceAll(jwts, now, { consume }) : monitor.replaceAll(jwts, now),
      );
      return { monitor, changes, starts, share };
    }

    /** The same load on this thread alone: the reference. */
    function loadSerially(jwts: Map<string, string>): { monitor: Monitor; changes: string } {
      const monitor = new ImportMonitor(trust(), 7 * 86_400);
      return { monitor, changes: JSON.stringify(monitor.replaceAll(jwts, now)) };
    }

    function trust(): InstanceType<typeof DirectoryModule.OperatorTrust> {
      const t = new OperatorTrust();
      t.addOperator(op.jwt);
      return t;
    }

    /** Every account's entry and every diagnosis: what must not depend on which thread verified. */
    function state(monitor: Monitor): string {
      const entries = monitor.directory.accounts().map((e) => [e.id, e.digest, e.problem]);
      return JSON.stringify([entries, monitor.keyed()]);
    }

    function withForgeries(forged: Map<string, string>): Map<string, string> {
      return new Map([...genuine].map(([id, jwt]) => [id, forged.get(id) ?? jwt]));
    }

    it("believes a load whose signatures all hold, the threads having verified all but the last batch", () => {
      const load = loadWithThreads(genuine);
      expect(load.starts).toEqual([true]);
      expect(load.share!.workers).toBe(1);
      // One check per account JWT and per token; all but the last, partial batch went to the thread.
      expect(load.share!.checks).toBe(1 + 2 * IMPORTERS);
      expect(load.share!.checkedHere).toBe(load.share!.checks % threads.CHECK_BATCH);
      const serial = loadSerially(genuine);
      expect(state(load.monitor)).toBe(state(serial.monitor));
      expect(load.changes).toBe(serial.changes);
      expect(load.monitor.keyed([importerIds[0]!]).map(([, d]) => [d.cause, d.status])).toEqual([[null, "active"]]);
    });

    for (const where of ["start", "end"] as const) {
      it(`forgets the load and loads again when a thread's ${where === "start" ? "verdict" : "own check at the end"} finds forged signatures (at the ${where} of the load)`, async () => {
        // The first batch goes to the thread; the last (partial) one is verified on the loading thread.
        const [forgedAccountAt, forgedTokenAt] = where === "start" ? [1, 3] : [IMPORTERS - 3, IMPORTERS - 1];
        const forgedAccountId = importerIds[forgedAccountAt]!;
        const forgedTokenId = importerIds[forgedTokenAt]!;
        const forgedAccountJwt = forgeSignature(genuine.get(forgedAccountId)!);
        const jwts = withForgeries(
          new Map([
            [forgedAccountId, forgedAccountJwt],
            [forgedTokenId, await forgedTokenJwt(forgedTokenAt)],
          ]),
        );
        const load = loadWithThreads(jwts);
        // The deferred load was not believed: a second one verified as usual.
        expect(load.starts).toEqual([true, false]);
        expect(load.share!.checks).toBe(1 + 2 * IMPORTERS);
        expect(load.share!.checkedHere).toBe(where === "start" ? 0 : load.share!.checks % threads.CHECK_BATCH);

        const serial = loadSerially(jwts);
        expect(state(load.monitor)).toBe(state(serial.monitor));
        expect(load.changes).toBe(serial.changes);

        expect(load.monitor.directory.get(forgedAccountId)?.problem?.message).toMatch(/signature verification/);
        expect(load.monitor.keyed([forgedAccountId]).map(([, d]) => d.cause)).not.toContain(null);
        expect(load.monitor.directory.get(forgedTokenId)?.problem).toEqual({
          kind: "invalid",
          message: "the activation token does not decode: claim failed V2 signature verification",
        });
        expect(load.monitor.keyed([forgedTokenId]).map(([, d]) => [d.cause, d.status])).toEqual([
          ["activation_invalid", "inactive"],
        ]);
        // Nothing decoded as if its signature held is remembered.
        expect(decode.decodeJwt(forgedAccountJwt).ok).toBe(false);
        expect(load.monitor.directory.get(exporterId)?.problem).toBeNull();
      });
    }

    it("a load that consumes its JWTs (the service's) empties the map and loads what the load on one thread loads", () => {
      const jwts = new Map(genuine);
      const load = loadWithThreads(jwts, true);
      expect(jwts.size).toBe(0);
      expect(load.starts).toEqual([true]);
      const serial = loadSerially(genuine);
      expect(state(load.monitor)).toBe(state(serial.monitor));
      expect(load.changes).toBe(serial.changes);
    });

    it("a load that consumed its JWTs and finds a forgery among its deferred checks forgets it all and throws; the next load verifies as it goes", async () => {
      const forgedId = importerIds[1]!;
      const tokenId = importerIds[IMPORTERS - 1]!;
      const forged = withForgeries(
        new Map([
          [forgedId, forgeSignature(genuine.get(forgedId)!)],
          [tokenId, await forgedTokenJwt(IMPORTERS - 1)],
        ]),
      );
      const starts: boolean[] = [];
      const consumed = new Map(forged);
      decode.forgetDecoded();
      const m = new ImportMonitor(trust(), 7 * 86_400, (batch, deferrable) => {
        starts.push(deferrable);
        return threads.startLoadVerifier(batch, deferrable);
      });
      expect(() => m.replaceAll(consumed, now, { consume: true })).toThrow(/must be read and loaded again/);
      // Nothing it decoded as if its signature held is kept.
      expect(consumed.size).toBe(0);
      expect(m.diagnosisCount()).toBe(0);
      expect(m.directory.size).toBe(0);
      expect(decode.decodeJwt(forged.get(forgedId)!).ok).toBe(false);
      // Read again, the next load does not defer and gives what a load on one thread gives.
      const changes = JSON.stringify(m.replaceAll(new Map(forged), now, { consume: true }));
      expect(starts).toEqual([true, false]);
      const serial = loadSerially(forged);
      expect(state(m)).toBe(state(serial.monitor));
      expect(changes).toBe(serial.changes);
      expect(m.directory.get(forgedId)?.problem?.message).toMatch(/signature verification/);
    });

    it("refuses a genuine signature with a byte after it, which no thread would see whole (a batch holds 64 bytes a signature)", () => {
      // libsodium would verify the first 64 bytes and accept it; the server refuses it
      // (test/integration/signature-length.test.ts). The check turns it down before batching it.
      const longerId = importerIds[1]!;
      const [h, c, sig] = genuine.get(longerId)!.split(".") as [string, string, string];
      const longer = `${h}.${c}.${Buffer.concat([Buffer.from(sig, "base64url"), Buffer.of(0)]).toString("base64url")}`;
      const jwts = withForgeries(new Map([[longerId, longer]]));
      const load = loadWithThreads(jwts);
      // Refused at once, not by a thread's verdict: the load is believed, and its token never checked.
      expect(load.starts).toEqual([true]);
      expect(load.share!.checks).toBe(2 * IMPORTERS - 1);
      expect(load.monitor.directory.get(longerId)?.problem).toEqual({
        kind: "undecodable",
        message: "claim failed V2 signature verification",
      });
      expect(state(load.monitor)).toBe(state(loadSerially(jwts).monitor));
    });

    it("defers only a first load: a later one, however large, verifies as it goes", () => {
      const few = new Map([...genuine].slice(0, 10));
      const forgedId = importerIds[20]!;
      const jwts = withForgeries(new Map([[forgedId, forgeSignature(genuine.get(forgedId)!)]]));
      const load = loadWithThreads(few);
      load.monitor.replaceAll(jwts, now);
      expect(load.starts).toEqual([true, false]);
      expect(load.monitor.directory.get(forgedId)?.problem?.message).toMatch(/signature verification/);
      expect(state(load.monitor)).toBe(state(loadSerially(jwts).monitor));
    });
  },
);

/** Blocks this thread until a thread has finished every batch posted to it (none is taken back then). */
function waitForPostedBatches(v: ThreadsModule.DeferringVerifier): void {
  const inner = v as unknown as { shared: Int32Array; open: { b: number } };
  const deadline = Date.now() + 60_000;
  for (let b = 0; b < inner.open.b; b++) {
    const at = 2 + b;
    for (let s = Atomics.load(inner.shared, at); s !== 3; s = Atomics.load(inner.shared, at)) {
      if (Date.now() > deadline) throw new Error(`no verification thread finished batch ${b} (state ${s})`);
      Atomics.wait(inner.shared, at, s, 100);
    }
  }
}

function sodiumInstalled(): boolean {
  try {
    createRequire(import.meta.url).resolve("sodium-native");
    return true;
  } catch {
    return false;
  }
}
