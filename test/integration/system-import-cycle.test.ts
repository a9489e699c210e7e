/**
 * A service import of a subject the server imports into every account itself (SYSTEM_IMPORT_SUBJECTS,
 * registerSystemImports) from the system account, while the system account's own JWT imports that
 * subject back from the importer. The server's own import goes through the same cycle check as a
 * declared one (addServiceImportWithClaim checks cycles for internal imports too), so the back import
 * refuses it: "Error setting up system service import … import forms a cycle" in the server's log.
 *
 * Measured on every pinned line, for a declared import the system account's exports do not approve
 * (the remote subject is the ping subject itself, as in the catalogue's "sysping" scenario) and for
 * one they do (the per-account subject under the ping subject as local subject): with the system
 * account's JWT holding the back import at start, and with the importer loaded first and the system
 * account's JWT pushed after (the update loads the importer's imports again, after the system
 * account's own), the importer's requests get no reply and its INFO lists no import of the subject
 * from the system account, while the system account's INFO lists its back import. Without the back
 * import the same request is answered (the control). The engine said active (it skipped the cycle
 * walk for these imports); it now walks, and calls the import import_cycle (undetermined: the live
 * service reads INFO), the back import active.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import type { NatsConnection } from "@nats-io/nats-core";
import { AccountDirectory, DEFAULT_EXPIRY_WARNING_SECONDS, OperatorTrust, diagnoseAll } from "../../src/core/index.js";
import { TestOperator, type TestAccount } from "../support/deployment.js";
import { serviceAnswered } from "../support/flow.js";
import {
  accountInfo,
  connectAs,
  connectSystem,
  pushAccount,
  startServer,
  type RunningServer,
} from "../support/nats-server.js";
import { checkUntil, startService, stopStarted } from "../support/live-service.js";
import { pinnedServers, toolPath } from "../support/tools.js";

interface Variant {
  label: string;
  /** The subject the importer's clients request on (one the server imports into every account). */
  local: string;
  /** The declared import's subject in the system account. */
  remote: (importerId: string) => string;
}

const VARIANTS: Variant[] = [
  {
    label: "not approved by the system account's exports",
    local: "$SYS.REQ.USER.INFO",
    remote: () => "$SYS.REQ.USER.INFO",
  },
  {
    label: "approved (the per-account subject)",
    local: "$SYS.REQ.USER.INFO",
    remote: (id) => `$SYS.REQ.USER.${id}.INFO`,
  },
  {
    label: "not approved, a server ping subject",
    local: "$SYS.REQ.SERVER.PING.CONNZ",
    remote: () => "$SYS.REQ.SERVER.PING.CONNZ",
  },
];

interface Built {
  op: TestOperator;
  imp: TestAccount;
  /** The system account's JWT without and with the back import. */
  plainSys: string;
  sysWithBackImport: string;
}

async function build(v: Variant): Promise<Built> {
  const op = await TestOperator.create();
  const plainSys = op.system.jwt;
  const imp = await op.account("sysc-IMP");
  await imp.reissue({
    exports: [{ subject: v.local, type: "service" }],
    imports: [
      { name: "ping", account: op.system.id, subject: v.remote(imp.id), type: "service", local_subject: v.local },
    ],
  });
  const sysWithBackImport = await op.system.reissue({
    imports: [{ name: "back", account: imp.id, subject: v.local, type: "service" }],
  });
  return { op, imp, plainSys, sysWithBackImport };
}

const built = new Map<Variant, Built>();
beforeAll(async () => {
  for (const v of VARIANTS) built.set(v, await build(v));
}, 60_000);

/** Valid imports of `local` from `source` in `account`'s INFO. */
async function listed(server: RunningServer, b: Built, account: string, source: string, local: string) {
  const info = await accountInfo(server, b.op, account, 5_000);
  const imports = (info?.["imports"] ?? []) as {
    account?: string;
    subject?: string;
    local_subject?: string;
    invalid?: boolean;
  }[];
  return imports.filter((i) => i.account === source && (i.local_subject ?? i.subject) === local && i.invalid !== true)
    .length;
}

interface Seen {
  answered: boolean;
  importerLists: number;
  systemLists: number;
}

async function look(server: RunningServer, b: Built, v: Variant): Promise<Seen> {
  return {
    answered: await serviceAnswered(server, b.imp, v.local),
    importerLists: await listed(server, b, b.imp.id, b.op.system.id, v.local),
    systemLists: await listed(server, b, b.op.system.id, b.imp.id, v.local),
  };
}

/** Start a server whose system account has `sysJwt`, the importer stored; run `fn` with the importer connected. */
async function withServer(bin: string, b: Built, sysJwt: string, fn: (server: RunningServer) => Promise<void>) {
  b.op.system.jwt = sysJwt;
  const server = await startServer(b.op, { bin, stored: [b.imp], debug: false });
  const clients: NatsConnection[] = [];
  try {
    clients.push(await connectAs(server, b.imp, { timeout: 30_000 }));
    await fn(server);
  } finally {
    for (const c of clients) await c.close().catch(() => undefined);
    await server.stop();
  }
}

describe.each(VARIANTS)("a system import subject imported back by the system account: $label", (v) => {
  it("the engine calls the importer's import import_cycle and the back import active", () => {
    const b = built.get(v)!;
    const trust = new OperatorTrust();
    trust.addOperator(b.op.jwt);
    const dir = new AccountDirectory(trust);
    for (const jwt of [b.sysWithBackImport, b.imp.jwt]) dir.upsert(jwt);
    const opts = { now: Math.floor(Date.now() / 1000), expiryWarningSeconds: DEFAULT_EXPIRY_WARNING_SECONDS };
    expect(
      diagnoseAll(dir, opts, [b.imp.id, b.op.system.id]).map((d) => `${d.account_name} ${d.status} ${d.cause}`),
    ).toEqual(["sysc-IMP undetermined import_cycle", "SYS active null"]);
  });

  for (const line of pinnedServers())
    describe.skipIf(!line.bin)(`nats-server ${line.version}`, () => {
      it("without the back import (control): the importer's request is answered through the server's own import", async () => {
        const b = built.get(v)!;
        await withServer(line.bin!, b, b.plainSys, async (server) => {
          expect(await look(server, b, v)).toEqual({ answered: true, importerLists: 1, systemLists: 0 });
        });
      }, 60_000);

      it("the back import in the system account's JWT at start: no reply, the importer's INFO lists no import of the subject", async () => {
        const b = built.get(v)!;
        await withServer(line.bin!, b, b.sysWithBackImport, async (server) => {
          expect(await look(server, b, v)).toEqual({ answered: false, importerLists: 0, systemLists: 1 });
        });
      }, 60_000);

      it("the importer loaded first, the back import pushed after: the same", async () => {
        const b = built.get(v)!;
        await withServer(line.bin!, b, b.plainSys, async (server) => {
          const pushed = await pushAccount(server, b.op, b.sysWithBackImport);
          expect(pushed.ok, pushed.message).toBe(true);
          expect(await look(server, b, v)).toEqual({ answered: false, importerLists: 0, systemLists: 1 });
        });
      }, 60_000);
    });
});

describe.skipIf(!toolPath("nats-server"))("the live service on such a deployment", () => {
  it.each(VARIANTS)(
    "$label: the servers' view makes the import inactive import_cycle",
    async (v) => {
      const b = built.get(v)!;
      await withServer(toolPath("nats-server")!, b, b.sysWithBackImport, async (server) => {
        const dir = mkdtempSync(join(tmpdir(), "insights-syscycle-"));
        const sys = await connectSystem(server, b.op);
        const app = await startService(b.op, server.url, dir, "1").catch(async (e: unknown) => {
          await stopStarted({ sys, dir });
          throw e;
        });
        try {
          const reply = await checkUntil(sys, (r) =>
            r.imports.some((d) => d.account === b.imp.id && d.status === "inactive"),
          );
          expect(
            reply.imports.map((d) => `${d.account === b.imp.id ? "IMP" : "SYS"} ${d.status} ${d.cause}`).sort(),
          ).toEqual(["IMP inactive import_cycle", "SYS active null"]);
        } finally {
          await stopStarted({ app, sys, dir });
        }
      });
    },
    60_000,
  );
});
