import { consequence, label, reloadImporter, subjectPhrase, type Cause } from "./cause.js";

export const serverStateStale: Cause = {
  code: "server_state_stale",
  status: "inactive",
  statusWhereHonoured: "warning",
  title: "Valid by the JWTs, yet not honoured by the server",
  explanation:
    "The JWTs and the clock say the import is valid, but a server that has the account loaded does not honour it: nats-server never re-checks an import when a token's nbf passes, nor retries a source account it once failed to find, until the importer's JWT changes. Pushing the same JWT again changes nothing. Inactive when no such server honours it; a warning when some do (on a cluster, the nodes that loaded the importer after the change).",
  message: (ctx) =>
    `${subjectPhrase(ctx)} is valid by its JWTs, but ${ctx.detail ?? "the servers"} that have ${label(ctx.importer)} loaded do not honour it, so ${consequence(ctx)} there. ` +
    `Re-sign ${label(ctx.importer)}'s JWT and push it so the servers evaluate it again.`,
  remediation: (ctx) => reloadImporter(ctx),
};
