import {
  arg,
  consequence,
  deleteImport,
  label,
  push,
  reloadImporter,
  subjectPhrase,
  type AccountRef,
  type Cause,
  type CauseContext,
} from "./cause.js";
import type { ImportClaim } from "../jwt/claims.js";

/** The import of the cycle that leads back into an account already on it: removing it breaks the cycle. */
function closing(ctx: CauseContext): { account: AccountRef; imp: ImportClaim } | null {
  const last = ctx.cycle?.at(-1);
  return last && last.account.id !== ctx.importer.id ? last : null;
}

const nameOf = (ctx: CauseContext, id: string): string =>
  ctx.cycle?.find((s) => s.account.id === id)?.account.name ?? (id === ctx.exporter.id ? label(ctx.exporter) : id);

export const importCycle: Cause = {
  code: "import_cycle",
  status: "undetermined",
  statusWhereRefused: "inactive",
  statusWhereHonoured: "warning",
  title: "Import closes a cycle",
  explanation:
    "The source account (or one it imports from, in turn) imports colliding subjects back from the importer, so messages or requests would loop. nats-server refuses the import of the cycle it adds last (ErrImportFormsCycle): on each server, that of the account of the cycle it looked up first (the first client to connect to it, or another account importing from it), whose loading loads the others and adds their imports first. The JWTs do not say that order, so from them alone the import is undetermined; the servers' own view says which import each refuses. Servers of a cluster can decide differently; pushes keep what a server decided, a restart decides again. Re-signing and pushing the refused account changes nothing while the cycle is declared.",
  message: (ctx) => {
    const last = closing(ctx);
    const closedBy = last
      ? ` ${label(last.account)}'s import of "${last.imp.subject}" from ${nameOf(ctx, last.imp.account)} closes it.`
      : "";
    return (
      `${subjectPhrase(ctx)} forms a cycle of imports${ctx.detail ? ` (${ctx.detail})` : ""}.${closedBy} nats-server refuses one import of the cycle on each server: ` +
      `that of the account it looked up first (the first client to connect to it, or an account importing from it). The JWTs do not say which, so whether this one works is undetermined: ` +
      `where ${label(ctx.importer)} was loaded first it is refused (${consequence(ctx)}), elsewhere another import of the cycle is. ` +
      `The servers' own view (check --server, the live service) says which; a restart can change it.`
    );
  },
  remediation: (ctx) => {
    const last = closing(ctx);
    const removeThis = [deleteImport(ctx), push(ctx.importer)];
    if (!last) return removeThis;
    const owner = arg(label(last.account));
    return [
      `# break the cycle where it leads back: remove ${label(last.account)}'s import of "${last.imp.subject}" from ${nameOf(ctx, last.imp.account)}`,
      `nsc delete import --account ${owner} --subject ${arg(last.imp.subject)} --src-account ${last.imp.account}`,
      push(last.account),
      ...reloadImporter(ctx),
      `# or remove this import instead:`,
      ...removeThis,
    ];
  },
};
