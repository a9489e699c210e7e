import {
  addExportForImport,
  addPublicImport,
  consequence,
  deleteImport,
  fixOnExporter,
  kindOf,
  label,
  push,
  subjectPhrase,
  type Cause,
} from "./cause.js";

const otherKind = (kind: "stream" | "service") => (kind === "stream" ? "service" : "stream");

export const exportTypeMismatch: Cause = {
  code: "export_type_mismatch",
  status: "inactive",
  title: "Export is of the other type",
  explanation: "Only an export of the same type counts: a stream import cannot use a service export, nor the reverse.",
  message: (ctx) => {
    const other = otherKind(kindOf(ctx));
    return (
      `${subjectPhrase(ctx)} matches only a ${other} export of ${label(ctx.exporter)}, so ${consequence(ctx)}. ` +
      `Export it as a ${kindOf(ctx)} from ${label(ctx.exporter)}, or import it as a ${other}.`
    );
  },
  // The import says what the importer uses; an export of that type gone missing (deleted, or
  // re-added as the other type) is the likely story, so restoring it comes first.
  remediation: (ctx) => {
    const other = otherKind(kindOf(ctx));
    const reImport = ctx.exportClaim?.tokenReq
      ? [`# the ${other} export is private: ask ${label(ctx.exporter)} for a ${other} token and add the import with it`]
      : [addPublicImport(ctx, ctx.exporterSubject, other)];
    return [
      `# either export it as a ${kindOf(ctx)} from ${label(ctx.exporter)}:`,
      ...fixOnExporter(ctx, addExportForImport(ctx)),
      `# or import it as a ${other}:`,
      deleteImport(ctx),
      ...reImport,
      push(ctx.importer),
    ];
  },
};
