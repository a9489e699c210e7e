import { addPublicImport, consequence, deleteImport, kindOf, label, push, subjectPhrase, type Cause } from "./cause.js";

export const subjectMismatch: Cause = {
  code: "subject_mismatch",
  status: "inactive",
  title: "Import asks for more than is exported",
  explanation:
    "An export of this type overlaps the import's subject but does not contain it: the import must be a subset of an export (orders.us.> ⊆ orders.>, but orders.> ⊄ orders.us.>).",
  message: (ctx) =>
    `${subjectPhrase(ctx)} asks for more than ${label(ctx.exporter)} exports ("${ctx.exportClaim?.subject}"), so ${consequence(ctx)}.`,
  remediation: (ctx) => {
    const exported = ctx.exportClaim?.subject ?? ctx.exporterSubject;
    const reAdd = ctx.exportClaim?.tokenReq
      ? [`# the export is private: ask ${label(ctx.exporter)} for a token for "${exported}" and add the import with it`]
      : [addPublicImport(ctx, exported, kindOf(ctx))];
    return [`# narrow the import to what is exported:`, deleteImport(ctx), ...reAdd, push(ctx.importer)];
  },
};
