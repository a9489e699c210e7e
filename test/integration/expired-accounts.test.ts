/**
 * Expired account JWTs on every pinned server line: the full resolver keeps them but leaves them
 * out of CLAIMS.LIST and CLAIMS.PACK, while LOOKUP still answers them. The live service must still
 * report them: an importer that expires stays in the check reply with `account_expired` and in
 * `account_errors`; an expired source account is `source_account_expired`, not "not found".
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { NatsConnection } from "@nats-io/nats-core";
import { InsightsApp } from "../../src/app.js";
import { loadConfig } from "../../src/config.js";
import { createLogger } from "../../src/shell/log.js";
import { TestOperator, nowSec, type TestAccount } from "../support/deployment.js";
import { connectAs, connectSystem, pushAll, startServer, type RunningServer } from "../support/nats-server.js";
import { pinnedServers } from "../support/tools.js";

interface CheckReply {
  imports: { account: string; subject: string; cause: string | null; status: string }[];
  account_errors: { account: string; error: string }[];
}

async function resolverView(
  nc: NatsConnection,
  ids: string[],
): Promise<Record<string, { listed: boolean; packed: boolean; lookup: boolean }>> {
  const listed = (await nc.request("$SYS.REQ.CLAIMS.LIST", "", { timeout: 3000 })).json<{ data: string[] }>().data;
  const packed: string[] = [];
  for await (const m of await nc.requestMany("$SYS.REQ.CLAIMS.PACK", "no-such-hash", {
    strategy: "stall",
    stall: 1000,
    maxWait: 5000,
  })) {
    if (m.data.length === 0) break;
    for (const line of m.string().split("\n")) packed.push(line.split("|")[0]!);
  }
  const out: Record<string, { listed: boolean; packed: boolean; lookup: boolean }> = {};
  for (const id of ids) {
    const lookup =
      (await nc.request(`$SYS.REQ.ACCOUNT.${id}.CLAIMS.LOOKUP`, "", { timeout: 3000 })).string().trim() !== "";
    out[id] = { listed: listed.includes(id), packed: packed.includes(id), lookup };
  }
  return out;
}

for (const { version, bin } of pinnedServers()) {
  describe.skipIf(!bin)(
    `expired account JWTs on nats-server v${version}${bin ? "" : " (not installed: skipped)"}`,
    () => {
      let op: TestOperator;
      let server: RunningServer;
      let sys: NatsConnection;
      let app: InsightsApp;
      let dir: string;
      let source: TestAccount;
      let fromExpired: TestAccount;
      let exporter: TestAccount;
      let expiring: TestAccount;
      const resyncs: number[] = [];
      let expiresAt = 0;

      beforeAll(async () => {
        op = await TestOperator.create({ signingKey: true });
        expiresAt = nowSec() + 4;
        server = await startServer(op, { bin: bin! });
        source = await op.account(
          "OLD-SRC",
          { exports: [{ name: "s", subject: "old.>", type: "stream" }] },
          { exp: nowSec() - 3600 },
        );
        fromExpired = await op.account("USES-OLD", {
          imports: [{ name: "o", account: source.id, subject: "old.a", type: "stream" }],
        });
        exporter = await op.account("LIVE-SRC", { exports: [{ name: "l", subject: "live.>", type: "stream" }] });
        expiring = await op.account(
          "SHORT-LIVED",
          { imports: [{ name: "l", account: exporter.id, subject: "live.a", type: "stream" }] },
          { exp: expiresAt },
        );
        await pushAll(server, [source, fromExpired, exporter, expiring]);
        sys = await connectSystem(server, op);

        dir = mkdtempSync(join(tmpdir(), "insights-expired-"));
        const creds = join(dir, "sys.creds");
        writeFileSync(creds, await op.system.userCreds());
        // The log says when a resync is done: the condition the tests wait for.
        const logs = new Writable({
          write(chunk: Buffer, _enc, done) {
            for (const line of chunk.toString().split("\n"))
              if (line.includes('"resync done"')) resyncs.push(Date.now());
            done();
          },
        });
        const config = loadConfig(["--nats-url", server.url, "--creds", creds, "--epoch", "1"], {});
        app = await InsightsApp.start(config, createLogger("info", logs));
      }, 60_000);

      afterAll(async () => {
        await app?.stop();
        await sys?.close();
        await server?.stop();
        if (dir) rmSync(dir, { recursive: true, force: true });
      });

      const check = async (body: object): Promise<CheckReply> =>
        (await sys.request("insights.imports.check", JSON.stringify(body), { timeout: 5000 })).json<CheckReply>();

      it("the resolver lists and packs no expired JWT, yet looks it up", async () => {
        expect(await resolverView(sys, [source.id, exporter.id])).toEqual({
          [source.id]: { listed: false, packed: false, lookup: true },
          [exporter.id]: { listed: true, packed: true, lookup: true },
        });
      });

      it("an import from an expired source account is source_account_expired, and the source is an account error", async () => {
        const reply = await check({ account: fromExpired.id });
        expect(reply.imports.map((d) => [d.subject, d.cause])).toEqual([["old.a", "source_account_expired"]]);
        const all = await check({});
        expect(all.account_errors.find((e) => e.account === source.id)?.error).toMatch(/expired/);
      });

      it("an importer whose JWT expires stays reported after resyncs: account_expired, and an account error", async () => {
        // Wait for the expiry, then for two resyncs that started after it (the lists no longer have it).
        while (nowSec() < expiresAt + 1) await new Promise((r) => setTimeout(r, 200));
        const after = Date.now();
        while (resyncs.filter((t) => t > after).length < 2) await new Promise((r) => setTimeout(r, 100));
        expect((await resolverView(sys, [expiring.id]))[expiring.id]).toEqual({
          listed: false,
          packed: false,
          lookup: true,
        });
        const one = await check({ account: expiring.id });
        expect(one.imports.map((d) => [d.subject, d.cause, d.status])).toEqual([
          ["live.a", "account_expired", "inactive"],
        ]);
        expect(one.account_errors.map((e) => e.account)).toEqual([expiring.id]);
        // The server agrees: the account cannot even connect.
        await expect(connectAs(server, expiring)).rejects.toThrow(/Authorization/);
      }, 30_000);

      // The full resolver's store deletes expired JWTs once a minute (its expiry sweep): after that no
      // request finds the account, yet it is still declared and still broken. Once, on the newest line.
      it.runIf(version === pinnedServers().at(-1)!.version)(
        "after the resolver's store has deleted the expired JWT, the account is still reported expired",
        async () => {
          while ((await resolverView(sys, [expiring.id]))[expiring.id]!.lookup)
            await new Promise((r) => setTimeout(r, 500));
          const after = Date.now();
          while (resyncs.filter((t) => t > after).length < 2) await new Promise((r) => setTimeout(r, 100));
          const one = await check({ account: expiring.id });
          expect(one.imports.map((d) => [d.subject, d.cause, d.status])).toEqual([
            ["live.a", "account_expired", "inactive"],
          ]);
          expect(one.account_errors.map((e) => e.account)).toEqual([expiring.id]);
        },
        90_000,
      );
    },
  );
}
