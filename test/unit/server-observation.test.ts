/**
 * What the servers' own view does to a verdict (src/core/server-observation.ts), rule by rule: no
 * server with the importer loaded changes nothing; a cycle's import is decided by whether any server
 * honours it; a dead import some server honours is an exposure; a valid import some server does not
 * honour is server_state_stale. The rules on real servers: test/integration/cluster-views.test.ts,
 * service.test.ts; when a look counts at all: server-views.test.ts.
 */
import { describe, expect, it } from "vitest";
import type { ImportDiagnosis, ImportStatus } from "../../src/core/diagnosis.js";
import { applyServerView, type ServerObservation } from "../../src/core/server-observation.js";

const diagnosis = (status: ImportStatus, over: Partial<ImportDiagnosis> = {}): ImportDiagnosis => ({
  account: "AIMP",
  account_name: "IMP",
  name: "i",
  type: "stream",
  source_account: "AEXP",
  source_account_name: "EXP",
  subject: "ev.x",
  local_subject: null,
  status,
  cause: status === "inactive" ? "export_not_found" : null,
  message: "m.",
  remediation: ["r"],
  token: null,
  server: null,
  idle: null,
  ...over,
});
const cycle = (over: Partial<ImportDiagnosis> = {}) => diagnosis("undetermined", { cause: "import_cycle", ...over });
const obs = (servers: number, registered: number, honouring: number, exposing = 0): ServerObservation => ({
  servers,
  registered,
  honouring,
  exposing,
});

describe("the server view recorded", () => {
  it("registered where any server registered it; invalid where some registered it and none honours it", () => {
    expect(applyServerView(diagnosis("active"), obs(2, 2, 2)).server).toEqual({
      servers: 2,
      registered: true,
      invalid: false,
    });
    expect(applyServerView(diagnosis("inactive"), obs(2, 1, 0)).server).toEqual({
      servers: 2,
      registered: true,
      invalid: true,
    });
    expect(applyServerView(diagnosis("inactive"), obs(2, 0, 0)).server).toEqual({
      servers: 2,
      registered: false,
      invalid: false,
    });
    expect(applyServerView(diagnosis("active"), obs(3, 2, 1)).server).toEqual({
      servers: 3,
      registered: true,
      invalid: false,
    });
  });
});

describe("no server has the importer loaded", () => {
  it("changes no verdict and no text, a cycle's included; the empty view is recorded", () => {
    for (const d of [diagnosis("active"), diagnosis("inactive"), diagnosis("warning"), cycle()]) {
      const seen = applyServerView(d, obs(0, 0, 0));
      expect(seen).toMatchObject({ status: d.status, cause: d.cause, message: d.message, remediation: d.remediation });
      expect(seen.server).toEqual({ servers: 0, registered: false, invalid: false });
    }
  });
});

describe("an import on a cycle", () => {
  it("is a warning where some server honours it, naming how many", () => {
    const seen = applyServerView(cycle(), obs(3, 3, 1));
    expect(seen.status).toBe("warning");
    expect(seen.cause).toBe("import_cycle");
    expect(seen.message).toBe(
      "m. 1 of 3 server(s) loaded the accounts in another order and honour this import: there another import of the cycle is the refused one." +
        " Loaded in this order again (a restart), this import dies.",
    );
  });

  it("is inactive where every server refuses it, naming the importer (its id when it has no name)", () => {
    const seen = applyServerView(cycle(), obs(2, 2, 0));
    expect(seen.status).toBe("inactive");
    expect(seen.cause).toBe("import_cycle");
    expect(seen.message).toBe(
      "m. All 2 server(s) that have IMP loaded refuse this import: each loaded it first, so its import is the one that closes the cycle there." +
        " Loaded in another order (a restart), another import of the cycle dies instead.",
    );
    expect(applyServerView(cycle({ account_name: null }), obs(1, 0, 0)).message).toContain(
      "All 1 server(s) that have AIMP loaded refuse this import",
    );
  });
});

describe("a valid import", () => {
  it("that some server does not honour is server_state_stale (a warning), though others expose nothing", () => {
    const seen = applyServerView(diagnosis("active"), obs(2, 2, 1, 1));
    expect(seen).toMatchObject({ status: "warning", cause: "server_state_stale" });
    expect(seen.message).toContain("1 of 2 server(s)");
    expect(seen.message).not.toContain("security exposure");
  });

  it("that every server honours stays as it is, whatever the looks", () => {
    const d = diagnosis("active");
    const seen = applyServerView(d, obs(2, 2, 2, 2));
    expect(seen).toMatchObject({ status: "active", cause: null, message: d.message });
  });
});
