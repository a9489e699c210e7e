import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig, MAX_IMPORT_SERIES } from "../../src/config.js";
import type { ImportDiagnosis } from "../../src/core/diagnosis.js";
import { importLabel, importsWithSeries, Metrics } from "../../src/shell/metrics.js";

const A = "A".repeat(56);
const S = "S".repeat(56);

function diagnosis(
  status: ImportDiagnosis["status"],
  cause: ImportDiagnosis["cause"],
  expiresAt: string | null = null,
): ImportDiagnosis {
  const token = expiresAt
    ? { issuer: S, issuer_account: null, issued_at: null, not_before: null, expires_at: expiresAt }
    : null;
  return {
    account: A,
    account_name: "A",
    name: null,
    type: "stream",
    source_account: S,
    source_account_name: "S",
    subject: "x",
    local_subject: null,
    status,
    cause,
    message: "",
    remediation: [],
    token,
    server: null,
    idle: null,
  };
}

describe("per-import series", () => {
  it("keep inactive, then warning, then active imports, each in key order, up to the bound", () => {
    const entries: [string, ImportDiagnosis][] = [
      ["k4", diagnosis("active", null)],
      ["k3", diagnosis("warning", "activation_expiring_soon")],
      ["k2", diagnosis("inactive", "export_not_found")],
      ["k1", diagnosis("active", null)],
      ["k0", diagnosis("inactive", "missing_activation_token")],
    ];
    const { kept, omitted } = importsWithSeries(entries, 4);
    expect(kept.map(([k]) => k)).toEqual(["k0", "k2", "k3", "k1"]);
    expect(omitted).toBe(1);
    expect(importsWithSeries(entries, 10).omitted).toBe(0);
  });

  it("label an import by what it brings in, from whom, to where", () => {
    expect(importLabel(`${A}|stream|${S}|orders.>|`)).toBe(`stream orders.> from ${S}`);
    expect(importLabel(`${A}|service|${S}|svc.q|local.q`)).toBe(`service svc.q from ${S} to local.q`);
  });

  it("are served only when asked for, and the soonest token expiry skips expired tokens", async () => {
    const soon = new Date(Date.now() + 3600_000);
    soon.setMilliseconds(0);
    const entries: [string, ImportDiagnosis][] = [
      [`${A}|stream|${S}|a|`, diagnosis("warning", "activation_expiring_soon", soon.toISOString())],
      [`${A}|stream|${S}|b|`, diagnosis("inactive", "activation_expired", new Date(Date.now() - 1000).toISOString())],
    ];
    const source = { imports: () => entries, connected: () => true };
    const off = await new Metrics(source).registry.metrics();
    expect(off).not.toMatch(/^insights_import_/m);
    expect(off).toMatch(new RegExp(`^insights_next_token_expiry_timestamp_seconds ${soon.getTime() / 1000}$`, "m"));
    expect(off).toMatch(/^insights_seconds_since_last_resync \+Inf$/m);
    const on = await new Metrics(source, { importSeries: 1 }).registry.metrics();
    expect(on.match(/^insights_import_status\{/gm)).toHaveLength(1);
    expect(on).toMatch(
      /^insights_import_status\{.*import="stream b from S+",status="inactive",cause="activation_expired"\} 1$/m,
    );
    expect(on).toMatch(/^insights_import_series_omitted 1$/m);
  });
});

describe("--metrics-imports", () => {
  it("needs the metrics port, and a whole number up to the highest bound", () => {
    expect(loadConfig(["--metrics-port", "9464", "--metrics-imports", "50"], {}).metricsImports).toBe(50);
    expect(loadConfig(["--metrics-port", "9464"], {}).metricsImports).toBeNull();
    expect(() => loadConfig(["--metrics-imports", "50"], {})).toThrow(ConfigError);
    expect(() =>
      loadConfig(["--metrics-port", "9464", "--metrics-imports", String(MAX_IMPORT_SERIES + 1)], {}),
    ).toThrow(/INSIGHTS_METRICS_IMPORTS must be a positive whole number up to 10000/);
    expect(() => loadConfig([], { INSIGHTS_METRICS_PORT: "9464", INSIGHTS_METRICS_IMPORTS: "0" })).toThrow(ConfigError);
  });
});
