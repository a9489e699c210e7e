import { label, push, subjectPhrase, type Cause } from "./cause.js";
import { deleteReplyMapping, replyLeg } from "./replies-mapped.js";

export const repliesPartlyMapped: Cause = {
  code: "replies_partly_mapped",
  status: "warning",
  serverRegisters: true,
  title: "A weighted mapping takes some of the service's replies away",
  explanation:
    "A weighted mapping of the exporter covers the reply subject its responders answer on (_R_.…), or one of the importer covers the requester's inbox (_INBOX.<id>.<n> by the clients' default), and leaves only part of the answers on it: only that share comes back, the other requests time out although they were served.",
  message: (ctx) => {
    const { owner, what } = replyLeg(ctx);
    const m = ctx.mapping!;
    return (
      `${subjectPhrase(ctx)} gets only ${m.percent} % of its answers back: ${label(owner)}'s weighted mapping of "${m.source}" sends the rest of ${what} ` +
      `${m.to.length > 0 ? `to ${m.to.map((s) => `"${s}"`).join(" or ")}` : "nowhere"}, and those requests from ${label(ctx.importer)} time out although they were served.`
    );
  },
  remediation: (ctx) => [
    `# remove the mapping that takes replies away, or narrow its source so it no longer covers "${ctx.mapping!.replySubject}":`,
    deleteReplyMapping(ctx),
    push(replyLeg(ctx).owner),
  ],
};
