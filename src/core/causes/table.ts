/** The README's table of causes, made from the cause modules themselves so the two cannot drift. */
import { CAUSES } from "./index.js";

export function causeTableMarkdown(): string {
  const rows = [...CAUSES.values()].map((c) => {
    const servers = [
      c.statusWhereRefused ? `${c.statusWhereRefused} where every server refuses it` : null,
      c.statusWhereHonoured ? `${c.statusWhereHonoured} where a server honours it` : null,
    ].filter((s) => s !== null);
    const status = `${c.status}${servers.length > 0 ? ` (${servers.join(", ")})` : ""}`;
    return `| \`${c.code}\` | ${status} | ${c.title} | ${c.explanation} |`;
  });
  return [
    "| cause | status | in short | why the server does not honour the import |",
    "| --- | --- | --- | --- |",
    ...rows,
  ].join("\n");
}
