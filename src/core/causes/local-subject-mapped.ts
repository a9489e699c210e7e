import { arg, label, push, subjectPhrase, type Cause, type CauseContext } from "./cause.js";

/** The mapping that takes requests away from the import, as the cause context carries it. */
const mappingOf = (ctx: CauseContext) => ctx.mapping!;

const destinations = (to: string[]): string =>
  to.length === 0 ? "nowhere (dropped)" : to.map((s) => `"${s}"`).join(" or ");

export const deleteMapping = (ctx: CauseContext): string =>
  `nsc delete mapping --account ${arg(label(ctx.importer))} --from ${arg(mappingOf(ctx).source)}`;

/** Re-add the import on the subject its requests are mapped to, so the mapping leads into it. */
function importOnDestination(ctx: CauseContext, local: string): string[] {
  const name = ctx.imp.name ? ` --name ${arg(ctx.imp.name)}` : "";
  return [
    `# or keep the mapping and import the service on the subject requests are mapped to:`,
    `nsc delete import --account ${arg(label(ctx.importer))} --subject ${arg(ctx.imp.subject)} --src-account ${ctx.exporter.id}`,
    `nsc add import --account ${arg(label(ctx.importer))} --src-account ${ctx.exporter.id} --remote-subject ${arg(ctx.exporterSubject)} --service --local-subject ${arg(local)}${name}`,
    push(ctx.importer),
  ];
}

export const localSubjectMapped: Cause = {
  code: "local_subject_mapped",
  status: "inactive",
  serverRegisters: true,
  title: "Importer's mapping takes the requests away",
  explanation:
    "The importer's own subject mappings apply to what its clients publish before any import sees it: a mapping whose source covers the local subject of a service import sends every request elsewhere, so none reaches the import (no responders). The server accepts the JWT and lists the import as valid. Stream imports are not affected.",
  message: (ctx) =>
    `${subjectPhrase(ctx)} is registered, but ${label(ctx.importer)}'s mapping of "${mappingOf(ctx).source}" sends every request on "${ctx.localSubject}" to ` +
    `${destinations(mappingOf(ctx).to)} before imports see it, and nothing is mapped onto "${ctx.localSubject}": requests from ${label(ctx.importer)} get no responder from ${label(ctx.exporter)}.`,
  remediation: (ctx) => {
    const newLocal = mappingOf(ctx).newLocal;
    return [
      `# remove the mapping that takes requests on "${ctx.localSubject}" elsewhere:`,
      deleteMapping(ctx),
      push(ctx.importer),
      ...(newLocal && !ctx.imp.token ? importOnDestination(ctx, newLocal) : []),
    ];
  },
};
