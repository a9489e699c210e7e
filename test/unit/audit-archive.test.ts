/**
 * Reading an audit archive that the real natscli would not write: damaged, hostile or oversized
 * archives are refused with one message, and a JWT that fails verification is reported, never
 * trusted. (An archive the real natscli gathered is read in test/integration/audit-archive.test.ts.)
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { audit } from "../../src/cli/audit.js";
import { ARCHIVE_LIMITS, readAuditArchive } from "../../src/cli/audit-archive.js";
import { ConfigError } from "../../src/config.js";
import { TestOperator, activation, forgeSignature, type TestAccount } from "../support/deployment.js";
import { writeZip, type ZipInput } from "../support/zip.js";

const SERVER = "n1";
let dir: string;
let op: TestOperator;
let exp: TestAccount;
let imp: TestAccount;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "archive-unit-"));
  op = await TestOperator.create();
  exp = await op.account("EXP", { exports: [{ name: "o", subject: "o.>", type: "stream", token_req: true }] });
  imp = await op.account("IMP");
  await imp.reissue({
    imports: [
      {
        name: "o",
        account: exp.id,
        subject: "o.1",
        type: "stream",
        token: await activation(exp, imp.id, "o.>", "stream"),
      },
    ],
  });
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The entries gather writes for these accounts' INFO replies, one server, with a manifest. */
function archive(
  accounts: { id: string; jwt: string; imports?: unknown[] }[],
  extra: ZipInput[] = [],
  varz: Record<string, unknown> = {},
): ZipInput[] {
  const entries: ZipInput[] = [];
  const manifest: Record<string, { Name: string; Value: string }[]> = {};
  const add = (name: string, body: unknown, tags: [string, string][]) => {
    entries.push({ name, data: JSON.stringify(body, null, 2) });
    manifest[name] = tags.map(([Name, Value]) => ({ Name, Value }));
  };
  add(
    `capture/clusters/unclustered/${SERVER}/variables/0001.json`,
    { server: { name: SERVER }, data: { trusted_operators_jwt: [op.jwt], ...varz } },
    [
      ["cluster", "unclustered"],
      ["server", SERVER],
      ["artifact_type", "variables"],
    ],
  );
  for (const a of accounts) {
    add(
      `capture/accounts/${a.id}/servers/unclustered__${SERVER}/account_info/0001.json`,
      { server: { name: SERVER }, data: { account_name: a.id, jwt: a.jwt, imports: a.imports ?? [] } },
      [
        ["account", a.id],
        ["server", SERVER],
        ["cluster", "unclustered"],
        ["artifact_type", "account_info"],
      ],
    );
  }
  add("capture/misc/audit_gather_metadata.json", { capture_timestamp: "2026-01-02T03:04:05Z" }, [
    ["special", "audit_gather_metadata"],
  ]);
  return [...entries, ...extra, { name: "capture/misc/manifest.json", data: JSON.stringify(manifest) }];
}

async function file(name: string, bytes: Buffer | Promise<Buffer>): Promise<string> {
  const path = join(dir, name);
  writeFileSync(path, await bytes);
  return path;
}

/** An archive of these accounts' INFO replies (see `archive`), written to `name`, then read. */
async function readArchiveOf(name: string, accounts: Parameters<typeof archive>[0]) {
  return readAuditArchive(await file(name, writeZip(archive(accounts))));
}

const refusal = async (f: () => Promise<unknown>): Promise<string> => {
  const e: unknown = await f().then(
    () => null,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(ConfigError);
  return (e as Error).message;
};

/** Why reading these bytes, written to `name`, is refused under `limits`. */
const refused = (name: string, bytes: Buffer | Promise<Buffer>, limits = ARCHIVE_LIMITS): Promise<string> =>
  refusal(async () => readAuditArchive(await file(name, bytes), limits));

describe("an audit archive", async () => {
  it("yields the operator, the account JWTs, the servers' views, and the capture instant", async () => {
    const d = await readArchiveOf("ok.zip", [
      { id: exp.id, jwt: exp.jwt },
      {
        id: imp.id,
        jwt: imp.jwt,
        imports: [{ subject: "o.1", account: exp.id, type: "stream", invalid: false }],
      },
    ]);
    expect(d.operatorJwts).toEqual([op.jwt]);
    expect(d.accounts.map((a) => a.filedUnder).sort()).toEqual([exp.id, imp.id].sort());
    expect(d.asOf?.toISOString()).toBe("2026-01-02T03:04:05.000Z");
    const report = audit([d], d.asOf!, 7 * 86400);
    expect(report.imports).toMatchObject([
      { subject: "o.1", status: "active", server: { servers: 1, registered: true, invalid: false } },
    ]);
  });

  it("says what its servers are: their versions and whether they run JetStream, from their VARZ", async () => {
    const plain = await readArchiveOf("plain.zip", [{ id: exp.id, jwt: exp.jwt }]);
    expect(plain.servers).toEqual({ versions: [], jetStreamApi: false });
    const path = await file(
      "lines.zip",
      writeZip(archive([{ id: exp.id, jwt: exp.jwt }], [], { version: "2.10.29", jetstream: { config: {} } })),
    );
    expect((await readAuditArchive(path)).servers).toEqual({ versions: ["2.10.29"], jetStreamApi: true });
  });

  it("a server that refuses a valid import makes it server_state_stale, as the live service would", async () => {
    const d = await readArchiveOf("stale.zip", [
      { id: exp.id, jwt: exp.jwt },
      { id: imp.id, jwt: imp.jwt, imports: [{ subject: "o.1", account: exp.id, type: "stream", invalid: true }] },
    ]);
    expect(audit([d], d.asOf!, 7 * 86400).imports).toMatchObject([{ status: "inactive", cause: "server_state_stale" }]);
  });

  it("reports an account JWT that fails verification, and trusts nothing in it", async () => {
    const forged = forgeSignature(imp.jwt);
    const d = await readArchiveOf("forged.zip", [
      { id: exp.id, jwt: exp.jwt },
      { id: imp.id, jwt: forged },
    ]);
    const report = audit([d], d.asOf!, 7 * 86400);
    expect(report.account_errors.map((e) => e.account)).toEqual([imp.id]);
    expect(report.account_errors[0]!.error).toMatch(/signature/i);
    expect(report.imports.filter((i) => i.status === "active")).toEqual([]);
  });

  it("ignores an INFO entry tagged with something that is not an account key (a path cannot smuggle one in)", async () => {
    const d = await readArchiveOf("tags.zip", [
      { id: exp.id, jwt: exp.jwt },
      { id: "$G", jwt: imp.jwt },
    ]);
    expect(d.accounts.map((a) => a.filedUnder)).toEqual([exp.id]);
  });

  it("refuses what is no audit archive, a damaged file, and archives beyond its bounds", async () => {
    expect(await refused("plain.zip", writeZip([{ name: "a.txt", data: "x" }]))).toMatch(/no audit archive/);
    expect(await refused("garbage.zip", Buffer.from("not a zip at all"))).toMatch(/not a readable ZIP archive/);
    const good = await writeZip(archive([{ id: exp.id, jwt: exp.jwt }]));
    expect(await refused("cut.zip", good.subarray(0, good.length - 30))).toMatch(/not a readable ZIP archive/);
    expect(await refused("many.zip", good, { ...ARCHIVE_LIMITS, maxEntries: 3 })).toMatch(/4 entries, more than the 3/);
    expect(await refused("big.zip", good, { ...ARCHIVE_LIMITS, maxFileBytes: 100 })).toMatch(/more than the 100 read/);
    expect(await refused("reply.zip", good, { ...ARCHIVE_LIMITS, maxReplyBytes: 50 })).toMatch(/more than the 50 read/);
    expect(await refused("total.zip", good, { ...ARCHIVE_LIMITS, maxTotalBytes: 1000 })).toMatch(
      /more than 1000 bytes to inflate/,
    );
    expect(
      await refusal(async () =>
        readAuditArchive(
          await file(
            "accounts.zip",
            writeZip(
              archive([
                { id: exp.id, jwt: exp.jwt },
                { id: imp.id, jwt: imp.jwt },
              ]),
            ),
          ),
          { ...ARCHIVE_LIMITS, maxAccounts: 1 },
        ),
      ),
    ).toMatch(/more than 1 accounts/);
  });

  it("does not believe an entry's declared size: one that inflates past it is refused", async () => {
    const entries = archive([{ id: exp.id, jwt: exp.jwt }]);
    const lying = entries.map((e) => (e.name.includes("variables") ? { ...e, declaredSize: 10 } : e));
    expect(await refused("liar.zip", writeZip(lying))).toMatch(
      /not a readable ZIP archive: .*variables.*too many bytes/,
    );
  });

  it("refuses an entry whose bytes do not match its CRC", async () => {
    const entries = archive([{ id: exp.id, jwt: exp.jwt }]);
    const damaged = entries.map((e) => (e.name.includes("variables") ? { ...e, declaredCrc: 12345 } : e));
    expect(await refused("crc.zip", writeZip(damaged))).toMatch(/variables.*fails its CRC check/);
  });
});
