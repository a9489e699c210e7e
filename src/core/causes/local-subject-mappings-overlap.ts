import { arg, label, push, subjectPhrase, type Cause, type CauseContext } from "./cause.js";

/** The importer's mappings that take requests on the local subject, most requests kept first. */
const sharesOf = (ctx: CauseContext) => ctx.mapping!.overlapping!;

const listed = (ctx: CauseContext): string =>
  sharesOf(ctx)
    .map((s) => `"${s.source}" (keeps ${s.percent} %)`)
    .join(", ");

/**
 * Two or more of the importer's mappings take requests on a service import's local subject and
 * keep different shares on it. nats-server applies the first it installed that matches, and it
 * installs a JWT's mappings in Go's map order, drawn anew each time it loads the account or the set
 * of sources changes (accounts.go, selectMappedSubject and the JWT update), so the share that reaches
 * the import follows the load, and no server view tells the order (docs/decisions.md 27).
 */
export const localSubjectMappingsOverlap: Cause = {
  code: "local_subject_mappings_overlap",
  status: "undetermined",
  serverRegisters: true,
  title: "Importer's overlapping mappings take requests by load order",
  explanation:
    "Several of the importer's own subject mappings match the local subject of a service import and would keep different shares of the requests on it. nats-server applies the first matching mapping it installed, and installs the mappings of an account JWT in Go's random map order each time it loads the account (a restart, a server that loads it anew, a push that adds or removes a mapping), so how many requests reach the import changes from load to load and server to server. The server lists the import as valid and no server view shows the order: the JWTs must not leave it open.",
  message: (ctx) => {
    const shares = sharesOf(ctx);
    return (
      `${subjectPhrase(ctx)} is registered, but ${shares.length} of ${label(ctx.importer)}'s mappings take requests on "${ctx.localSubject}": ${listed(ctx)}. ` +
      `nats-server applies the one it installed first, in an order drawn anew each time it loads ${label(ctx.importer)}, so between ${shares.at(-1)!.percent} % and ${shares[0]!.percent} % ` +
      `of the requests reach ${label(ctx.exporter)} depending on the server and its last restart; the others get no responder.`
    );
  },
  remediation: (ctx) => {
    const account = arg(label(ctx.importer));
    const [kept, ...others] = sharesOf(ctx);
    return [
      `# leave one mapping on "${ctx.localSubject}": delete the others (or narrow their sources apart), keeping "${kept!.source}":`,
      ...others.map((s) => `nsc delete mapping --account ${account} --from ${arg(s.source)}`),
      push(ctx.importer),
    ];
  },
};
