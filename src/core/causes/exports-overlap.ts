import {
  arg,
  consequence,
  fixOnExporter,
  kindOf,
  label,
  reissueToken,
  subjectPhrase,
  type Cause,
  type CauseContext,
} from "./cause.js";
import type { CauseCode } from "../diagnosis.js";
import type { ExportClaim } from "../jwt/claims.js";

/** What one of the matching exports would decide, as the cause module is told it. */
interface Choice {
  exportClaim: ExportClaim;
  cause: CauseCode | null;
}

const choicesOf = (ctx: CauseContext): Choice[] => ctx.exports ?? [];

/** Refusals a fresh activation token from the exporter cures (the export is private and wants one). */
const TOKEN_CAUSES: ReadonlySet<CauseCode> = new Set([
  "missing_activation_token",
  "activation_invalid",
  "activation_signer_untrusted",
  "activation_not_yet_valid",
  "activation_expired",
  "activation_revoked",
]);

/** "public", "private", "account token position 2": how an export authorizes. */
function authorization(e: ExportClaim): string {
  if (e.accountTokenPosition > 0) return `account token position ${e.accountTokenPosition}`;
  return e.tokenReq ? "private" : "public";
}

/** Why one export refuses the import, in a few words. */
function refusal(cause: CauseCode): string {
  switch (cause) {
    case "missing_activation_token":
      return "no activation token";
    case "account_token_position_mismatch":
      return "the importer's key is not at that position";
    case "activation_expired":
      return "its token expired";
    case "activation_revoked":
      return "its token is revoked";
    case "activation_not_yet_valid":
      return "its token is not valid yet";
    default:
      return cause.replace(/_/g, " ");
  }
}

const listed = (ctx: CauseContext): string =>
  choicesOf(ctx)
    .map(
      (c) =>
        `"${c.exportClaim.subject}" (${authorization(c.exportClaim)}: ${c.cause === null || c.cause === "activation_expiring_soon" ? "honours it" : `refuses it, ${refusal(c.cause)}`})`,
    )
    .join(", ");

const refusing = (ctx: CauseContext): Choice[] =>
  choicesOf(ctx).filter((c) => c.cause !== null && c.cause !== "activation_expiring_soon");

/**
 * Two or more wildcard exports of one type contain the import's subject (they intersect without
 * one containing the other, which jwt's validation lets pass), and they disagree about it.
 * nats-server looks for an exact match, then takes the first export containing the subject in its
 * Go map's order (accounts.go: checkServiceExportApproved, checkStreamExportApproved), drawn anew
 * at every check: each load of the importer, each push of it, each change of the exporter's exports
 * and each restart (docs/decisions.md 45).
 */
export const exportsOverlap: Cause = {
  code: "exports_overlap",
  status: "undetermined",
  statusWhereRefused: "inactive",
  statusWhereHonoured: "warning",
  title: "Intersecting exports disagree; the server picks one by map order",
  explanation:
    "Several wildcard exports of the import's type contain its subject (they intersect, like a.*.c and a.b.*, without one containing the other, which jwt's validation accepts), and one approves the import while another refuses it. nats-server holds the import against the first of them it meets in Go's random map order, drawn anew at every check (a restart, a push of the importer, a change of the exporter's exports), so the import works after some loads and not after others, and servers of a cluster can differ. The servers' own view says what each decided last; the JWTs must not leave it open.",
  message: (ctx) => {
    const n = choicesOf(ctx).length;
    return (
      `${subjectPhrase(ctx)} matches ${n} of ${label(ctx.exporter)}'s ${kindOf(ctx)} exports, which disagree: ${listed(ctx)}. ` +
      `nats-server checks the import against the one it meets first in a random order, drawn anew each time it checks the import ` +
      `(a restart, a push of ${label(ctx.importer)}, a change of ${label(ctx.exporter)}'s exports), so whether it works is undetermined: ` +
      `where the server picked a refusing export, ${consequence(ctx)}. The servers' own view (check --server, the live service) says what each server decided last.`
    );
  },
  remediation: (ctx) => {
    const exporter = arg(label(ctx.exporter));
    const refused = refusing(ctx);
    const out: string[] = [];
    if (refused.length > 0 && refused.every((c) => TOKEN_CAUSES.has(c.cause!))) {
      out.push(
        `# make every matching export approve the import: a fresh token from ${label(ctx.exporter)} satisfies the private one(s)`,
        ...reissueToken(ctx),
        `# or make the exports disjoint (or of one authorization), so that one answer holds whatever the server picks:`,
      );
    } else {
      out.push(
        `# make the exports disjoint (or of one authorization), so that one answer holds whatever the server picks:`,
      );
    }
    for (const c of refused) {
      const subject = arg(c.exportClaim.subject);
      out.push(
        `# remove "${c.exportClaim.subject}", which refuses it (for its other importers, export narrower subjects that no other export intersects):`,
        ...fixOnExporter(ctx, `nsc delete export --account ${exporter} --subject ${subject}`),
      );
      if (c.exportClaim.tokenReq && c.exportClaim.accountTokenPosition === 0)
        out.push(
          `# or make "${c.exportClaim.subject}" public like the export that honours the import:`,
          ...fixOnExporter(ctx, `nsc edit export --account ${exporter} --subject ${subject} --private=false`),
        );
    }
    return out;
  },
};
