import { addPublicImport, consequence, deleteImport, kindOf, label, push, subjectPhrase, type Cause } from "./cause.js";

export const exportTypeMismatch: Cause = {
  code: "export_type_mismatch",
  status: "inactive",
  title: "Export is of the other type",
  explanation: "Only an export of the same type counts: a stream import cannot use a service export, nor the reverse.",
  message: (ctx) => {
    const other = kindOf(ctx) === "stream" ? "service" : "stream";
    return `${subjectPhrase(ctx)} matches only a ${other} export of ${label(ctx.exporter)}, so ${consequence(ctx)}. Import it as a ${other}.`;
  },
  remediation: (ctx) => {
    const other = kindOf(ctx) === "stream" ? "service" : "stream";
    const reAdd = ctx.exportClaim?.tokenReq
      ? [`# the export is private: ask ${label(ctx.exporter)} for a ${other} token and add the import with it`]
      : [addPublicImport(ctx, ctx.exporterSubject, other)];
    return [deleteImport(ctx), ...reAdd, push(ctx.importer)];
  },
};
