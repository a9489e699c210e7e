import { consequence, deleteImport, push, subjectPhrase, type Cause } from "./cause.js";

export const importInvalid: Cause = {
  code: "import_invalid",
  status: "inactive",
  title: "Import declaration invalid",
  explanation:
    "The import itself fails validation (bad type or subject, share on a stream, allow_trace on a service, overlapping service imports). The server rejects the whole account JWT.",
  message: (ctx) =>
    `${subjectPhrase(ctx)} is invalid (${ctx.detail ?? "fails validation"}); the server rejects the whole account JWT, so ${consequence(ctx)}.`,
  remediation: (ctx) => [deleteImport(ctx), `# add it again correctly (nsc add import ...), then:`, push(ctx.importer)],
};
