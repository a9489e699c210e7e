/**
 * The replies of a service import cross both accounts' mappings on their way back (measured on
 * every pinned line: test/integration/reply-mappings.test.ts). The responder answers on the reply
 * subject the server gave the request in the exporter (`_R_.<prefix>.<id>`), a client publish there,
 * so the exporter's mappings apply; the server's response import then delivers the answer into the
 * importer on the requester's own reply subject, and applies the importer's mappings to it
 * (client.go, processServiceImport) before the requester's subscription can see it. A mapping that
 * covers either subject takes answers elsewhere: requests arrive and are served, and time out.
 *
 * The requester's reply subject is the client's choice: the NATS clients' default for a request is
 * a muxed inbox `_INBOX.<id>.<n>` (a request without the mux uses `_INBOX.<id>`, and a client may
 * set another prefix): the model judges the default. A reply the server tracks for latency has two
 * more tokens (`….<server>.T`) and is not followed. The server's own answers are taken the same
 * way: measured for JetStream's API (its answers through an import are lost to an exporter's
 * mapping of `_R_.>`); the system account's services are taken to behave alike (not measured).
 */
import type { MappingClaim } from "./jwt/claims.js";
import type { CauseCode } from "./diagnosis.js";
import type { MappingFinding } from "./causes/cause.js";
import { mappingReach, type MappingFunctions, type MappingReach } from "./mapping.js";

/** Where a reply travels, and the subjects that stand for every reply there. */
export type ReplyLeg = "response" | "inbox";
const REPLY_SUBJECTS: Record<ReplyLeg, string> = { response: "_R_.*.*", inbox: "_INBOX.*.*" };

export interface RepliesFinding {
  cause: Extract<CauseCode, "replies_mapped" | "replies_partly_mapped" | "replies_mappings_overlap">;
  mapping: MappingFinding;
}

/** What the exporter's and the importer's mappings do to the import's replies: the worse of the two, null if nothing. */
export function repliesFinding(
  exporterMappings: readonly MappingClaim[],
  importerMappings: readonly MappingClaim[],
  functions: MappingFunctions,
): RepliesFinding | null {
  const found = [
    legFinding("response", exporterMappings, functions),
    legFinding("inbox", importerMappings, functions),
  ].filter((f): f is RepliesFinding => f !== null);
  return found.sort((a, b) => RANK[a.cause] - RANK[b.cause])[0] ?? null;
}

const RANK: Record<RepliesFinding["cause"], number> = {
  replies_mapped: 0,
  replies_mappings_overlap: 1,
  replies_partly_mapped: 2,
};

function legFinding(
  leg: ReplyLeg,
  mappings: readonly MappingClaim[],
  functions: MappingFunctions,
): RepliesFinding | null {
  if (mappings.length === 0) return null;
  const reach: MappingReach = mappingReach(mappings, REPLY_SUBJECTS[leg], functions);
  const base = { newLocal: null, leg, replySubject: REPLY_SUBJECTS[leg] };
  switch (reach.kind) {
    case "untouched":
      return null;
    // a reply taken elsewhere is lost, whatever else is mapped onto its subject
    case "away":
    case "through":
      return {
        cause: "replies_mapped",
        mapping: { ...base, source: reach.mapping.source, to: reach.kind === "away" ? reach.to : [], percent: 0 },
      };
    case "partial":
      return {
        cause: "replies_partly_mapped",
        mapping: { ...base, source: reach.mapping.source, to: reach.to, percent: reach.percent },
      };
    case "contested": {
      const overlapping = reach.shares.map((s) => ({ source: s.mapping.source, percent: s.percent }));
      return {
        cause: "replies_mappings_overlap",
        mapping: { ...base, source: overlapping[0]!.source, to: [], percent: overlapping.at(-1)!.percent, overlapping },
      };
    }
  }
}
