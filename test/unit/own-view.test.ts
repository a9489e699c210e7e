/** What an account's owner reads about its own import names no other account's import. */
import { describe, expect, it } from "vitest";
import type { ImportDiagnosis } from "../../src/core/diagnosis.js";
import { ownView } from "../../src/core/own-view.js";

const cycle: ImportDiagnosis = {
  account: "AIMPORTER",
  account_name: "shop",
  name: null,
  type: "stream",
  source_account: "ASOURCE",
  source_account_name: "feed",
  subject: "orders.>",
  local_subject: null,
  status: "inactive",
  cause: "import_cycle",
  message: `shop's stream import of "orders.>" forms a cycle of imports (shop → feed → hidden). hidden's import of "secret.>" from shop closes it.`,
  remediation: [
    "nsc delete import --account hidden --subject secret.> --src-account AIMPORTER",
    "nsc push --account hidden",
  ],
  token: null,
  server: null,
  idle: null,
};

describe("ownView", () => {
  it("tells an import cycle from the importer's side alone", () => {
    const own = ownView(cycle);
    expect(own.message).not.toMatch(/hidden|secret/);
    expect(own.remediation.join("\n")).not.toMatch(/hidden|secret/);
    expect(own.message).toContain(`shop's stream import of "orders.>" from feed closes a cycle`);
    expect(own.remediation).toEqual([
      "nsc delete import --account shop --subject 'orders.>' --src-account ASOURCE",
      "nsc push --account shop",
      "# or ask the operator to break the cycle at another account's import",
    ]);
    expect({ ...own, message: cycle.message, remediation: cycle.remediation }).toEqual(cycle);
  });

  it("leaves every other cause as it is", () => {
    const other: ImportDiagnosis = { ...cycle, cause: "export_not_found", message: "m", remediation: ["r"] };
    expect(ownView(other)).toBe(other);
  });
});
