/**
 * A diagnosis's message and remediation are built when read (decision 40): read late, they are the
 * texts of the moment the diagnosis was made, and to JSON, spreads and key lists they are plain data.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { OperatorTrust } from "../../src/core/directory.js";
import { ImportMonitor } from "../../src/core/monitor.js";
import { amended } from "../../src/core/report.js";
import { TestAccount, TestOperator, activation, nowSec } from "../support/deployment.js";

const WEEK = 7 * 86400;
const SCHEMA_ORDER = [
  "account",
  "account_name",
  "name",
  "type",
  "source_account",
  "source_account_name",
  "subject",
  "local_subject",
  "status",
  "cause",
  "message",
  "remediation",
  "token",
  "server",
  "idle",
];

describe("diagnosis texts built when read", () => {
  let op: TestOperator;
  let exporter: TestAccount;
  let importer: TestAccount;
  let monitor: ImportMonitor;
  const now = nowSec();

  beforeAll(async () => {
    op = await TestOperator.create();
    exporter = await op.account("EXP", {
      exports: [
        { name: "o", subject: "o.>", type: "stream", token_req: true },
        { name: "p", subject: "p.>", type: "stream" },
        { name: "s", subject: "s.>", type: "service" },
      ],
    });
    importer = await op.account("IMP");
    await importer.reissue({
      imports: [
        { name: "no-token", account: exporter.id, subject: "o.1", type: "stream" },
        {
          name: "expiring",
          account: exporter.id,
          subject: "o.2",
          type: "stream",
          // Within the warning: its message counts the hours left from the moment of the diagnosis.
          token: await activation(exporter, importer.id, "o.>", "stream", { exp: now + 2 * 86400 }),
        },
        { name: "active", account: exporter.id, subject: "p.1", type: "stream" },
        { name: "service", account: exporter.id, subject: "s.1", type: "service", to: "s.1" },
        { name: "missing", account: exporter.id, subject: "q.1", type: "stream" },
      ],
    });
    const trust = new OperatorTrust();
    trust.addOperator(op.jwt);
    monitor = new ImportMonitor(trust, WEEK);
    monitor.replaceAll(new Map([exporter, importer].map((a) => [a.id, a.jwt])), now);
  });

  it("reads the names and the instant of the moment the diagnosis was made, however late it is read", async () => {
    const held = monitor.keyed().map(([, d]) => d);
    const atOnce = held.map((d) => JSON.stringify(d));
    expect(held.map((d) => d.cause)).toEqual([
      "missing_activation_token",
      "activation_expiring_soon",
      null,
      null,
      "export_not_found",
    ]);
    // The exporter is renamed and the clock moves on: the monitor's new diagnoses say so ...
    const renamed = new TestAccount(op, "EXP-RENAMED", exporter.key);
    await renamed.reissue(exporter.claims);
    monitor.applyAccount(exporter.id, renamed.jwt, now + 7200);
    const fresh = monitor.keyed().map(([, d]) => JSON.stringify(d));
    for (let i = 0; i < fresh.length; i++) expect(fresh[i]).not.toBe(atOnce[i]);
    expect(fresh.join()).toContain("EXP-RENAMED");
    // ... and the ones made before, read only now, say what they said then.
    expect(held.map((d) => JSON.stringify(d))).toEqual(atOnce);
    expect(atOnce.join()).not.toContain("EXP-RENAMED");
  });

  it("is plain data to JSON, spreads and key lists, and an amended copy keeps its texts", () => {
    for (const [, d] of monitor.keyed()) {
      expect(Object.keys(d)).toEqual(SCHEMA_ORDER);
      const copy = { ...d };
      expect(Object.keys(copy)).toEqual(SCHEMA_ORDER);
      expect(typeof copy.message).toBe("string");
      expect(copy.message.length).toBeGreaterThan(0);
      expect(JSON.parse(JSON.stringify(d))).toEqual(copy);
      const server = { servers: 2, registered: true, invalid: false };
      const changed = amended(d, { server, status: "warning" });
      expect(JSON.stringify(changed)).toBe(JSON.stringify({ ...d, server, status: "warning" }));
      expect(JSON.stringify(amended(d, { message: "m" }))).toBe(JSON.stringify({ ...d, message: "m" }));
    }
  });
});
