/**
 * The least privilege the service's system-account user needs: exactly what it publishes and
 * subscribes to. The README's table and a real-server test (test/integration/hostile.test.ts, which
 * runs the service as a user with only these) are kept in step with this list.
 */
export const REQUIRED_PERMISSIONS = {
  publish: [
    "$SYS.REQ.CLAIMS.PACK", // bulk load
    "$SYS.REQ.CLAIMS.LIST", // bulk load, where PACK is not served
    "$SYS.REQ.ACCOUNT.*.CLAIMS.LOOKUP", // confirm a push, fallback load
    "$SYS.REQ.ACCOUNT.*.INFO", // each server's own view of an account
    "$SYS.REQ.SERVER.PING", // count the servers
    "$SYS.REQ.SERVER.PING.VARZ", // the operator JWT the servers trust
    "$SYS.REQ.SERVER.PING.ACCOUNTZ", // the accounts the servers have loaded, where no resolver answers
    "insights.events.imports.>", // diagnostic events
  ],
  subscribe: [
    "$SYS.REQ.CLAIMS.UPDATE", // pushes (nsc push)
    "$SYS.REQ.ACCOUNT.*.CLAIMS.UPDATE", // pushes (older tools)
    "$SYS.ACCOUNT.*.CLAIMS.UPDATE", // pushes (oldest tools)
    "$SYS.REQ.CLAIMS.DELETE", // account deletes (nsc push --prune)
    "_INBOX.>", // replies to its own requests
    "insights.>", // its endpoints
    "$SRV.*", // micro discovery: PING, INFO, STATS of all services
    "$SRV.*.insights", // ... of this service
    "$SRV.*.insights.*", // ... of this instance
  ],
  /** It answers requests (its endpoints, micro discovery): one reply each. */
  responses: { max: 1, ttl: 0 },
} as const;
