/**
 * `check --audit-archive`: an archive the real natscli (`nats audit gather`) gathered from a real
 * server gives the same verdicts as `check` against that live server, and the servers' own views
 * recorded in it are applied to them.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import type { NatsConnection } from "@nats-io/nats-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AuditReport } from "../../src/cli/audit.js";
import { validator } from "../../src/service/schemas.js";
import { connectAccount } from "../support/cluster.js";
import { TestOperator, activation, nowSec } from "../support/deployment.js";
import { ensureFreshDist, runMain } from "../support/dist.js";
import { pushAll, startServer, type RunningServer } from "../support/nats-server.js";
import { toolPath } from "../support/tools.js";

const execFileP = promisify(execFile);
const NATS = toolPath("nats");

describe.skipIf(!toolPath("nats-server") || !NATS)("check --audit-archive on an archive natscli gathered", () => {
  let server: RunningServer;
  let dir: string;
  const clients: NatsConnection[] = [];

  beforeAll(async () => {
    await ensureFreshDist();
    const op = await TestOperator.create();
    server = await startServer(op);
    const exp = await op.account("EXP", {
      exports: [
        { name: "o", subject: "o.>", type: "stream", token_req: true },
        { name: "pub", subject: "pub.>", type: "stream" },
        { name: "svc", subject: "svc.>", type: "service" },
      ],
    });
    const imp = await op.account("IMP");
    const other = await op.account("OTHER");
    await imp.reissue({
      imports: [
        {
          name: "soon",
          account: exp.id,
          subject: "o.1",
          type: "stream",
          token: await activation(exp, imp.id, "o.1", "stream", { exp: nowSec() + 3600 }),
        },
        { name: "no-token", account: exp.id, subject: "o.2", type: "stream" },
        { name: "pub", account: exp.id, subject: "pub.eu", type: "stream" },
        { name: "svc", account: exp.id, subject: "svc.a", type: "service" },
        { name: "missing", account: exp.id, subject: "nothing.here", type: "stream" },
      ],
    });
    await other.reissue({
      imports: [
        { name: "wrong-type", account: exp.id, subject: "svc.b", type: "stream" },
        { name: "svc", account: exp.id, subject: "svc.c", type: "service" },
      ],
    });
    await pushAll(server, [exp, imp, other]);
    // gather asks about the accounts the server has loaded: a client of each importer loads it and its sources.
    for (const a of [imp, other]) clients.push(await connectAccount(server.url, a));
    dir = mkdtempSync(join(tmpdir(), "archive-"));
    writeFileSync(join(dir, "sys.creds"), await op.system.userCreds());
    await execFileP(
      NATS!,
      [
        "--no-context",
        "-s",
        server.url,
        "--creds",
        join(dir, "sys.creds"),
        "audit",
        "gather",
        "-o",
        join(dir, "audit.zip"),
        "--no-server-profiles",
        "--no-streams",
        "--no-consumers",
        "--no-progress",
      ],
      { env: { HOME: dir, PATH: process.env["PATH"] ?? "" }, timeout: 60_000 },
    );
  }, 120_000);

  afterAll(async () => {
    for (const nc of clients) await nc.close();
    await server?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const verdicts = (r: AuditReport) =>
    r.imports.map((d) => [d.account_name, d.type, d.subject, d.status, d.cause].join(" ")).sort();

  it("gives the verdicts check gives against the live server, with the servers' view of each", async () => {
    const fromArchive = await runMain(["check", "--audit-archive", join(dir, "audit.zip"), "--json"]);
    const live = await runMain(["check", "--server", server.url, "--creds", join(dir, "sys.creds"), "--json"]);
    expect(fromArchive.stderr).toBe("");
    expect(fromArchive.code).toBe(1);
    const archived = JSON.parse(fromArchive.stdout) as AuditReport;
    const valid = validator("import-diagnosis");
    for (const d of archived.imports) expect(valid(d) ? null : valid.errors).toBeNull();
    expect(verdicts(archived)).toEqual(verdicts(JSON.parse(live.stdout) as AuditReport));
    // Every class is there, so the comparison could fail in each.
    expect(archived.summary).toMatchObject({ active: 3, warning: 1, inactive: 3 });
    expect(new Set(archived.imports.map((d) => d.cause))).toEqual(
      new Set([
        null,
        "activation_expiring_soon",
        "missing_activation_token",
        "export_not_found",
        "export_type_mismatch",
      ]),
    );
    // The server had the importers loaded: each import carries its view, and the server honours exactly the live ones.
    for (const d of archived.imports) {
      expect(d.server?.servers).toBe(1);
      expect(d.server!.registered && !d.server!.invalid).toBe(d.status !== "inactive");
    }
  });

  it("judges as of the capture, and prints the same human report", async () => {
    const r = await runMain(["check", "--audit-archive", join(dir, "audit.zip"), "--json"]);
    const checkedAt = Date.parse((JSON.parse(r.stdout) as AuditReport).checked_at);
    expect(checkedAt).toBeLessThanOrEqual(Date.now());
    expect(checkedAt).toBeGreaterThan(Date.now() - 10 * 60_000);
    const human = await runMain(["check", "--audit-archive", join(dir, "audit.zip")]);
    expect(human.stdout).toContain('✗ inactive stream "o.2" from EXP  missing_activation_token');
    expect(human.stdout).toMatch(/4 accounts, 7 imports: 3 active, 3 inactive, 1 warning/);
  });

  it("refuses a file that is no archive with exit 2 and one line", async () => {
    const r = await runMain(["check", "--audit-archive", join(dir, "sys.creds")]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(/not a readable ZIP archive/);
  });
});
