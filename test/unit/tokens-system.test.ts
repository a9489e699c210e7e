/**
 * The token-renewal helpers (src/core/tokens.ts) and the system account's own exports and imports
 * (src/core/system-account.ts), called directly: the mutation run of 2026-12-02 evening
 * (docs/decisions.md 26) found these cases unchecked. What the server adds to the system account
 * is described from server/events.go in docs/servers.md and judged on real servers by the
 * catalogue's system-account scenarios.
 */
import { describe, expect, it } from "vitest";
import type { AccountClaims, ActivationClaims, ExportClaim, ImportClaim } from "../../src/core/jwt/claims.js";
import type { AccountEntry } from "../../src/core/directory.js";
import { keptValidity, renewalSigner, renewedExpiry } from "../../src/core/tokens.js";
import {
  JETSTREAM_API_EXPORT,
  SYSTEM_EXPORTS,
  implicitlyImported,
  withSystemExports,
} from "../../src/core/system-account.js";
import { exportClaim, importClaim } from "../support/claims.js";

const SYS = "ASYSTEMSYSTEMSYSTEMSYSTEMSYSTEMSYSTEMSYSTEMSYSTEMSYSTE";
const OTHER = "AOTHEROTHEROTHEROTHEROTHEROTHEROTHEROTHEROTHEROTHEROTH";
const NOW = 1_800_000_000;

const exported = (type: "stream" | "service", subject: string): ExportClaim => exportClaim({ type, subject });

const imported = (extra: Partial<ImportClaim>): ImportClaim =>
  importClaim({ type: "service", subject: "$SYS.REQ.USER.INFO", account: SYS, ...extra });

describe("the system account's own exports", () => {
  it("a declared stream export covers none of the server's service exports", () => {
    const declared = [exported("stream", ">")];
    expect(withSystemExports(declared, false)).toEqual([...declared, ...SYSTEM_EXPORTS]);
  });

  it("the JetStream API export is left out only where that exact subject is a declared service", () => {
    const exact = [exported("service", "$JS.API.>")];
    expect(withSystemExports(exact, true)).toEqual([...exact, ...SYSTEM_EXPORTS]);
    const narrower = [exported("service", "$JS.API.STREAM.>")];
    expect(withSystemExports(narrower, true)).toEqual([...narrower, ...SYSTEM_EXPORTS, JETSTREAM_API_EXPORT]);
  });
});

describe("the imports the server adds to every account itself", () => {
  it("a service import of one of them from the system account, by its local subject", () => {
    expect(implicitlyImported(imported({}), SYS)).toBe(true);
    expect(implicitlyImported(imported({ subject: "$SYS.REQ.USER.*", localSubject: "$SYS.REQ.USER.INFO" }), SYS)).toBe(
      true,
    );
  });

  it("not a stream import, not from another account, not without a system account", () => {
    expect(implicitlyImported(imported({ type: "stream" }), SYS)).toBe(false);
    expect(implicitlyImported(imported({ account: OTHER }), SYS)).toBe(false);
    expect(implicitlyImported(imported({}), null)).toBe(false);
    expect(implicitlyImported(imported({ subject: "$SYS.REQ.USER.OTHER" }), SYS)).toBe(false);
  });
});

describe("renewing a token", () => {
  const exporter = (signingKeys: [string, "plain" | "scoped"][] | null): AccountEntry => ({
    id: OTHER,
    name: "EXP",
    digest: "",
    claims: signingKeys === null ? null : ({ signingKeys: new Map(signingKeys) } as unknown as AccountClaims),
    validation: null,
    problem: null,
    strictSigningKeys: false,
  });
  const token = (issuer: string, times: Partial<ActivationClaims> = {}): ActivationClaims => ({
    issuer,
    subject: SYS,
    name: "",
    issuedAt: NOW - 60,
    expires: 0,
    notBefore: 0,
    issuerAccount: null,
    importSubject: "svc.a",
    kind: "service",
    ...times,
  });

  it("is signed by the key that signed it while the exporter trusts it, its identity key included", () => {
    expect(renewalSigner(exporter([["SKPLAIN", "plain"]]), token(OTHER))).toBe(OTHER);
    expect(renewalSigner(exporter([["SKPLAIN", "plain"]]), token("SKGONE"))).toBe("SKPLAIN");
    // An exporter whose JWT does not decode trusts no key of its own: its identity key signs.
    expect(renewalSigner(exporter(null), token("SKGONE"))).toBe(OTHER);
  });

  it("lasts as long as the old token, in whole days, hours or minutes from the boundaries on", () => {
    const lasting = (seconds: number) => renewedExpiry(token(OTHER, { issuedAt: NOW, expires: NOW + seconds }));
    expect(lasting(86400)).toBe(" --expiry 1d");
    expect(lasting(3600)).toBe(" --expiry 1h");
    expect(lasting(60)).toBe(" --expiry 1m");
    expect(lasting(0)).toBe(" --expiry 90d");
  });

  it("keeps the old validity window while it lasts, a start only when it is still to come", () => {
    const window = (notBefore: number, expires: number) =>
      keptValidity(token(OTHER, { issuedAt: NOW - 3600, notBefore, expires }), NOW);
    expect(window(NOW, NOW + 3600)).toBe(" --expiry '2027-01-15 09:00:00 UTC'");
    expect(window(NOW + 60, NOW + 3600)).toBe(" --start '2027-01-15 08:01:00 UTC' --expiry '2027-01-15 09:00:00 UTC'");
    expect(window(NOW + 60, 0)).toBe(" --start '2027-01-15 08:01:00 UTC'");
    // Expired at this very second: the window cannot be kept, the renewal lasts as long as the old one.
    expect(window(0, NOW)).toBe(" --expiry 1h");
  });
});
