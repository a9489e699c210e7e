/**
 * An import two intersecting exports contain, one public and one private (no token), measured on
 * the real server (docs/decisions.md 45). nats-server holds it against the first export it meets
 * ranging over a Go map, in an order drawn anew at every check: a push of the importer checks it
 * again. With the exporter's JWT listing the public export, three others, then the private one, the
 * draw picks the private one half of the time (measured 15 of 30 re-pushes on 2.15.3, 16 of 30
 * restarts), so over 30 re-pushes both outcomes show unless the server is not drawing at all
 * (both odds 2^-30). The engine calls the import undetermined (it said active, the first export's
 * verdict, before); `check --server` follows what the server decided last.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AuditReport } from "../../src/cli/audit.js";
import { runCheck } from "../../src/cli/check.js";
import {
  AccountDirectory,
  DEFAULT_EXPIRY_WARNING_SECONDS,
  OperatorTrust,
  diagnoseAll,
  rulesFor,
} from "../../src/core/index.js";
import { TestOperator, type TestAccount } from "../support/deployment.js";
import { serviceFlows } from "../support/flow.js";
import { connectSystem, pushWith, startServer, type RunningServer } from "../support/nats-server.js";
import { pinnedServers } from "../support/tools.js";

const RE_PUSHES = 40;

/** The oldest and the newest pinned lines. */
const LINES = [pinnedServers()[0]!, pinnedServers().at(-1)!];

for (const { version, bin } of LINES) {
  describe.skipIf(!bin)(
    `intersecting exports on nats-server v${version}${bin ? "" : " (not installed: skipped)"}`,
    () => {
      let op: TestOperator;
      let exporter: TestAccount;
      let importer: TestAccount;
      let server: RunningServer;

      beforeAll(async () => {
        op = await TestOperator.create();
        exporter = await op.account("EXP", {
          exports: [
            { subject: "a.*.c", type: "service" },
            { subject: "m1", type: "service" },
            { subject: "m2", type: "service" },
            { subject: "m3", type: "service" },
            { subject: "a.b.*", type: "service", token_req: true },
          ],
        });
        importer = await op.account("IMP", { imports: [{ account: exporter.id, subject: "a.b.c", type: "service" }] });
        server = await startServer(op, { bin: bin!, debug: false });
        const nc = await connectSystem(server, op);
        try {
          for (const a of [exporter, importer]) expect((await pushWith(nc, a.jwt)).ok).toBe(true);
        } finally {
          await nc.close();
        }
      }, 60_000);

      afterAll(async () => {
        await server?.stop();
      });

      /** `check --server` in-process: (status, cause, message) of the import. */
      async function checkServer(): Promise<{ verdict: string; message: string }> {
        const dir = mkdtempSync(join(tmpdir(), "insights-exports-overlap-"));
        try {
          const creds = join(dir, "sys.creds");
          writeFileSync(creds, await op.system.userCreds());
          let out = "";
          const io = { stdout: { write: (s: string) => ((out += s), true) }, stderr: { write: () => true }, env: {} };
          await runCheck(["--server", server.url, "--creds", creds, "--json"], io);
          const d = (JSON.parse(out) as AuditReport).imports.find((x) => x.account === importer.id)!;
          return { verdict: `${d.status} ${d.cause}`, message: d.message };
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      }

      it("the JWTs leave it open: undetermined, naming both exports", () => {
        const trust = new OperatorTrust();
        trust.addOperator(op.jwt);
        trust.rules = rulesFor(version);
        const dir = new AccountDirectory(trust);
        for (const a of [op.system, exporter, importer]) dir.upsert(a.jwt);
        const opts = { now: Math.floor(Date.now() / 1000), expiryWarningSeconds: DEFAULT_EXPIRY_WARNING_SECONDS };
        const [d] = diagnoseAll(dir, opts, [importer.id]);
        expect([d!.status, d!.cause]).toEqual(["undetermined", "exports_overlap"]);
        expect(d!.message).toContain(
          '"a.*.c" (public: honours it), "a.b.*" (private: refuses it, no activation token)',
        );
      });

      it(`each push of the importer draws again: over ${RE_PUSHES} re-pushes it works after some and not after others; check --server follows the last`, async () => {
        const seen: boolean[] = [];
        const nc = await connectSystem(server, op);
        try {
          for (let k = 0; k < RE_PUSHES; k++) {
            // A new tag: a new JWT, which the server applies (the same JWT again it would skip).
            await importer.reissue({ ...importer.claims, tags: [`draw-${k}`] });
            expect((await pushWith(nc, importer.jwt)).ok).toBe(true);
            seen.push(await serviceFlows(server, exporter, importer, "a.b.c", "a.b.c", 0));
          }
        } finally {
          await nc.close();
        }
        expect(new Set(seen), seen.map(Number).join("")).toEqual(new Set([true, false]));
        const check = await checkServer();
        if (seen.at(-1)) {
          expect(check.verdict).toBe("warning exports_overlap");
          expect(check.message).toContain("1 of 1 server(s) picked an export that approves it");
        } else {
          expect(check.verdict).toBe("inactive exports_overlap");
          expect(check.message).toContain("All 1 server(s) that have IMP loaded picked a refusing export");
        }
      }, 120_000);
    },
  );
}
