import { arg, label, push, subjectPhrase, type Cause } from "./cause.js";
import { deleteMapping } from "./local-subject-mapped.js";

export const localSubjectPartlyMapped: Cause = {
  code: "local_subject_partly_mapped",
  status: "warning",
  serverRegisters: true,
  title: "Importer's weighted mapping takes some requests away",
  explanation:
    "A weighted mapping of the importer covers the local subject of a service import and leaves only part of the requests on it (weights under 100 % keep the rest on the subject itself, unless the subject is listed among the destinations; then the rest is dropped): only that share reaches the import, the others get no responder.",
  message: (ctx) => {
    const m = ctx.mapping!;
    return (
      `${subjectPhrase(ctx)} gets only ${m.percent} % of the requests on "${ctx.localSubject}": ${label(ctx.importer)}'s weighted mapping of "${m.source}" sends the rest ` +
      `${m.to.length > 0 ? `to ${m.to.map((s) => `"${s}"`).join(" or ")}` : "nowhere"} before imports see them, and those get no responder from ${label(ctx.exporter)}.`
    );
  },
  remediation: (ctx) => {
    const m = ctx.mapping!;
    const account = arg(label(ctx.importer));
    return [
      `# remove the mapping, or only the destinations that lead away from "${ctx.localSubject}":`,
      deleteMapping(ctx),
      ...m.to.map((to) => `# or: nsc delete mapping --account ${account} --from ${arg(m.source)} --to ${arg(to)}`),
      push(ctx.importer),
    ];
  },
};
