/** The per-import records of the live service share one verdict object per (status, cause). */
import { describe, expect, it } from "vitest";
import { sameVerdict, sharedVerdict } from "../../src/core/diagnosis.js";

describe("sharedVerdict", () => {
  it("gives the same frozen object for the same (status, cause), with that status and cause", () => {
    const a = sharedVerdict({ status: "inactive", cause: "export_not_found" });
    const b = sharedVerdict({ status: "inactive", cause: "export_not_found" });
    expect(a).toBe(b);
    expect(a).toEqual({ status: "inactive", cause: "export_not_found" });
    expect(Object.isFrozen(a)).toBe(true);
  });

  it("keeps verdicts that differ in status or cause apart", () => {
    const inactive = sharedVerdict({ status: "inactive", cause: "export_not_found" });
    const otherCause = sharedVerdict({ status: "inactive", cause: "source_account_not_found" });
    const otherStatus = sharedVerdict({ status: "warning", cause: "export_not_found" });
    const active = sharedVerdict({ status: "active", cause: null });
    expect(new Set([inactive, otherCause, otherStatus, active]).size).toBe(4);
    expect(sameVerdict(inactive, otherCause)).toBe(false);
    expect(sameVerdict(inactive, otherStatus)).toBe(false);
    expect(active).toEqual({ status: "active", cause: null });
  });
});
