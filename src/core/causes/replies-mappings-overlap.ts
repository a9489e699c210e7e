import { label, push, subjectPhrase, type Cause, type CauseContext } from "./cause.js";
import { deleteReplyMapping, replyLeg } from "./replies-mapped.js";

const sharesOf = (ctx: CauseContext) => ctx.mapping!.overlapping!;

/** As local_subject_mappings_overlap, for the replies: the server's install order decides, anew at each load. */
export const repliesMappingsOverlap: Cause = {
  code: "replies_mappings_overlap",
  status: "undetermined",
  serverRegisters: true,
  title: "Overlapping mappings take the service's replies by load order",
  explanation:
    "Several mappings of one account cover the reply subject of a service import (the exporter's _R_.…, or the importer's inbox _INBOX.<id>.<n>) and would keep different shares of the answers on it. nats-server applies the first matching mapping it installed, in Go's random map order at each load of the account, so how many answers come back changes from load to load and server to server, and no server view shows the order.",
  message: (ctx) => {
    const { owner, what } = replyLeg(ctx);
    const shares = sharesOf(ctx);
    const listed = shares.map((s) => `"${s.source}" (keeps ${s.percent} %)`).join(", ");
    return (
      `${subjectPhrase(ctx)} carries requests to ${label(ctx.exporter)}, but ${shares.length} of ${label(owner)}'s mappings take ${what}: ${listed}. ` +
      `nats-server applies the one it installed first, in an order drawn anew each time it loads ${label(owner)}, so between ${shares.at(-1)!.percent} % and ${shares[0]!.percent} % ` +
      `of the answers come back depending on the server and its last restart; the other requests time out although they were served.`
    );
  },
  remediation: (ctx) => {
    const [kept, ...others] = sharesOf(ctx);
    return [
      `# leave one mapping on "${ctx.mapping!.replySubject}": delete the others (or narrow their sources apart), keeping "${kept!.source}":`,
      ...others.map((s) => deleteReplyMapping(ctx, s.source)),
      push(replyLeg(ctx).owner),
    ];
  },
};
