import { describe, expect, it } from "vitest";
import { diagnosisKey, importKey, importOfKey, keyedImports } from "../../src/core/import-key.js";
import type { ImportClaim } from "../../src/core/jwt/claims.js";
import { importClaim } from "../support/claims.js";

const claim = (over: Partial<ImportClaim>): ImportClaim =>
  importClaim({ type: "service", subject: "svc.>", account: "AEXP", ...over });

describe("import keys", () => {
  it("a diagnosis's key is the key of the import it diagnoses, and reads back to it", () => {
    const imp = claim({ localSubject: "local.>" });
    const d = {
      account: "AIMP",
      type: "service" as const,
      source_account: "AEXP",
      subject: "svc.>",
      local_subject: "local.>",
    };
    expect(diagnosisKey(d)).toBe(importKey("AIMP", imp));
    expect(importOfKey(diagnosisKey(d))).toEqual(d);
    // Another local subject, source or type is another import.
    expect(diagnosisKey({ ...d, local_subject: null })).not.toBe(diagnosisKey(d));
    expect(diagnosisKey({ ...d, source_account: "AOTHER" })).not.toBe(diagnosisKey(d));
    expect(diagnosisKey({ ...d, type: "stream" })).not.toBe(diagnosisKey(d));
  });

  it("a repeated declaration gets #2, which importOfKey reads as the same import", () => {
    const keys = keyedImports("AIMP", [claim({}), claim({})]).map(([k]) => k);
    expect(keys).toEqual([importKey("AIMP", claim({})), `${importKey("AIMP", claim({}))}#2`]);
    expect(importOfKey(keys[1]!)).toEqual(importOfKey(keys[0]!));
  });

  it("the key is written out exactly (keys are kept across restarts), and only its #n suffix is stripped on reading", () => {
    expect(importKey("AIMP", claim({}))).toBe("AIMP|service|AEXP|svc.>|");
    expect(importKey("AIMP", claim({ type: "stream", subject: "ev.x", to: "pre" }))).toBe("AIMP|stream|AEXP|ev.x|pre");
    const stream = {
      account: "AIMP",
      type: "stream" as const,
      source_account: "AEXP",
      subject: "ev#2.x",
      local_subject: null,
    };
    expect(importOfKey(diagnosisKey(stream))).toEqual(stream);
    expect(importOfKey(`${diagnosisKey(stream)}#12`)).toEqual(stream);
    expect(importOfKey("AIMP|other|AEXP|ev.x|")).toBeNull();
    expect(importOfKey("|stream|AEXP|ev.x|")).toBeNull();
    expect(importOfKey("AIMP|stream||ev.x|")).toBeNull();
    expect(importOfKey("AIMP|stream|AEXP||")).toBeNull();
  });

  it("a third declaration of the same import gets #3", () => {
    const keys = keyedImports("AIMP", [claim({}), claim({}), claim({ subject: "other" }), claim({})]).map(([k]) => k);
    const base = importKey("AIMP", claim({}));
    expect(keys).toEqual([base, `${base}#2`, importKey("AIMP", claim({ subject: "other" })), `${base}#3`]);
  });
});
