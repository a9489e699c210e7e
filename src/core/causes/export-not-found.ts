import {
  addExportForImport,
  consequence,
  deleteImport,
  fixOnExporter,
  kindOf,
  label,
  push,
  subjectPhrase,
  type Cause,
} from "./cause.js";

export const exportNotFound: Cause = {
  code: "export_not_found",
  status: "inactive",
  title: "No matching export",
  explanation: "The source account exports nothing of this type whose subject contains the import's subject.",
  message: (ctx) =>
    `${subjectPhrase(ctx)} matches no ${kindOf(ctx)} export of ${label(ctx.exporter)}, so ${consequence(ctx)}.`,
  remediation: (ctx) => [
    `# either export it from ${label(ctx.exporter)}:`,
    ...fixOnExporter(ctx, addExportForImport(ctx)),
    `# or remove the import:`,
    deleteImport(ctx),
    push(ctx.importer),
  ],
};
