/** Every launcher of the service gives node the same flags, the ones the benchmark measures with. */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { SERVICE_NODE_FLAGS } from "../../bench/live.js";
import { REPO_ROOT } from "../support/tools.js";

const read = (path: string) => readFileSync(join(REPO_ROOT, path), "utf8");

describe("the service's node flags", () => {
  const flags = SERVICE_NODE_FLAGS.join(" ");

  it("are those of npm start, the Dockerfile and the systemd unit", () => {
    const start = (JSON.parse(read("package.json")) as { scripts: Record<string, string> }).scripts["start"];
    expect(start).toBe(`exec node ${flags} dist/src/main.js`);
    const entrypoint = /^ENTRYPOINT (.*)$/m.exec(read("Dockerfile"))![1]!;
    expect(JSON.parse(entrypoint)).toEqual(["node", ...SERVICE_NODE_FLAGS, "dist/src/main.js"]);
    expect(/^ExecStart=(.*)$/m.exec(read("deploy/systemd/nats-insights.service"))![1]).toBe(
      `/usr/bin/node ${flags} /opt/nats-insights/dist/src/main.js serve`,
    );
  });
});
