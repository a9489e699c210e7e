/** The README's table of causes, made from the cause modules themselves so the two cannot drift. */
import { CAUSES } from "./index.js";

export function causeTableMarkdown(): string {
  const rows = [...CAUSES.values()].map(
    (c) =>
      `| \`${c.code}\` | ${c.status}${c.statusWhereHonoured ? ` (${c.statusWhereHonoured} where a server honours it)` : ""} | ${c.title} | ${c.explanation} |`,
  );
  return [
    "| cause | status | in short | why the server does not honour the import |",
    "| --- | --- | --- | --- |",
    ...rows,
  ].join("\n");
}
