/**
 * Which mapping destinations each pinned server line (or the one NATS_SERVER_BIN names) installs, and how it reads their function
 * tokens: the evidence for the engine's destination parser (src/core/mapping.ts, `install`).
 * Each case is one account with one mapping; a user of it publishes on a literal subject the
 * source matches and another user of it, subscribed to `>`, sees where the message lands: on the
 * subject published (the server left the mapping out), or elsewhere (installed). From 2.15.2 on a
 * mapping the server cannot install rejects the whole JWT.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { install } from "../../src/core/mapping.js";
import { rulesFor } from "../../src/core/validate.js";
import { TestOperator } from "../support/deployment.js";
import { landing, pushAccount, startServer, type RunningServer } from "../support/nats-server.js";
import { pinnedServers } from "../support/tools.js";
import { PROBES, expected } from "../support/mapping-probes.js";

for (const { version, bin } of pinnedServers()) {
  describe.skipIf(!bin)(`mapping destinations on nats-server v${version}`, () => {
    let server: RunningServer;
    let op: TestOperator;
    beforeAll(async () => {
      op = await TestOperator.create();
      server = await startServer(op, { bin: bin! });
    }, 60_000);
    afterAll(async () => {
      await server?.stop();
    });

    it("the server installs exactly the destinations the engine builds, and moves the message where expected", async () => {
      const functions = rulesFor(version).mappingFunctions;
      const seen: string[] = [];
      const want: string[] = [];
      let i = 0;
      for (const p of PROBES) {
        const acc = await op.account(`F${i++}`, { mappings: { [p.source]: [{ subject: p.dest }] } });
        const pushed = await pushAccount(server, op, acc.jwt);
        const landed = pushed.ok ? await landing(server, acc, p.publish) : "jwt refused";
        const engine = install(
          { source: p.source, destinations: [{ subject: p.dest, weight: 100, written: 0, cluster: null }] },
          functions,
        );
        const lands = expected(p, version);
        const notInstalled = rulesFor(version).refusesUninstallableMappings ? "jwt refused" : "left out";
        seen.push(`${p.source} -> ${p.dest}: ${landed}; engine ${engine ? "installs" : "refuses"}`);
        want.push(`${p.source} -> ${p.dest}: ${lands ?? notInstalled}; engine ${lands ? "installs" : "refuses"}`);
      }
      expect(seen).toEqual(want);
    }, 600_000);
  });
}
