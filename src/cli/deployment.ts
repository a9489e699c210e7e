/**
 * What a source of account JWTs gives: read by `cli/sources.ts` (a JWT directory, an nsc store, live
 * servers) or by `cli/audit-archive.ts` (an audit archive). A module of its own so that neither of
 * those two imports the other for it.
 */
import type { AccountInfoReply } from "../shell/resolver.js";

export interface Deployment {
  /** What it was read from, for messages. */
  origin: string;
  operatorJwts: string[];
  /** Account JWTs by the key they were filed under (null: only the JWT itself names it). */
  accounts: { filedUnder: string | null; jwt: string; file: string }[];
  /** The instant the JWTs were read as of (an audit archive's capture), else now. */
  asOf?: Date;
  /**
   * What the servers are, where known: the versions they report (each one's rules judge the JWTs;
   * none: the newest line's) and whether they run JetStream or a cluster (the system account
   * then exports `$JS.API.>`). From their VARZ (live, audit archive) or the user (--server-version,
   * --jetstream).
   */
  servers?: {
    versions: string[];
    jetStreamApi: boolean;
    /** The JWTs are the servers' loaded accounts (a memory or URL resolver): none came by a push. */
    loadedWithoutPush?: boolean;
  };
  /** The servers' own views of the accounts taken with the JWTs (an audit archive's). */
  serverViews?: { servers: string[]; replies: ReadonlyMap<string, AccountInfoReply[]> };
}
