import { arg, label, push, subjectPhrase, type AccountRef, type Cause, type CauseContext } from "./cause.js";

/** The account whose mapping takes the replies, and what that subject is to a user. */
export function replyLeg(ctx: CauseContext): { owner: AccountRef; what: string } {
  const m = ctx.mapping!;
  return m.leg === "response"
    ? {
        owner: ctx.exporter,
        what: `its responders' replies (on the reply subject the server gives each request, "${m.replySubject}")`,
      }
    : {
        owner: ctx.importer,
        what: `the replies on their way to the requester (on its inbox, "${m.replySubject}" by the NATS clients' default)`,
      };
}

export const deleteReplyMapping = (ctx: CauseContext, source = ctx.mapping!.source): string =>
  `nsc delete mapping --account ${arg(label(replyLeg(ctx).owner))} --from ${arg(source)}`;

const destinations = (to: string[]): string =>
  to.length === 0 ? "elsewhere" : `to ${to.map((s) => `"${s}"`).join(" or ")}`;

export const repliesMapped: Cause = {
  code: "replies_mapped",
  status: "inactive",
  serverRegisters: true,
  title: "A mapping takes the service's replies away",
  explanation:
    "Replies cross both accounts' mappings on their way back: the responder answers on the reply subject the server gave the request in the exporter (_R_.…), a publish the exporter's mappings apply to, and the server delivers the answer into the importer on the requester's inbox (_INBOX.<id>.<n> by the clients' default), where the importer's mappings apply. A mapping whose source covers either subject sends every answer elsewhere: requests reach the exporter and are served, and time out. The server lists the import as valid.",
  message: (ctx) => {
    const { owner, what } = replyLeg(ctx);
    return (
      `${subjectPhrase(ctx)} carries requests to ${label(ctx.exporter)}, but ${label(owner)}'s mapping of "${ctx.mapping!.source}" sends ${what} ` +
      `${destinations(ctx.mapping!.to)}: requests from ${label(ctx.importer)} to "${ctx.localSubject}" are served and time out.`
    );
  },
  remediation: (ctx) => [
    `# remove the mapping that takes the replies away, or narrow its source so it no longer covers "${ctx.mapping!.replySubject}":`,
    deleteReplyMapping(ctx),
    push(replyLeg(ctx).owner),
  ],
};
