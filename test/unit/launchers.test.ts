/** Every launcher of the service gives node the same flags and malloc settings, the ones the benchmark measures with. */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { SERVICE_ENV, SERVICE_NODE_FLAGS } from "../../bench/live.js";
import { REPO_ROOT } from "../support/tools.js";

const read = (path: string) => readFileSync(join(REPO_ROOT, path), "utf8");

describe("the service's node flags", () => {
  const flags = SERVICE_NODE_FLAGS.join(" ");

  it("are those of npm start, the Dockerfile and the systemd unit", () => {
    const start = (JSON.parse(read("package.json")) as { scripts: Record<string, string> }).scripts["start"];
    expect(start).toBe(
      `GLIBC_TUNABLES=\${GLIBC_TUNABLES:-${SERVICE_ENV.GLIBC_TUNABLES}} exec node ${flags} dist/src/main.js`,
    );
    const entrypoint = /^ENTRYPOINT (.*)$/m.exec(read("Dockerfile"))![1]!;
    expect(JSON.parse(entrypoint)).toEqual(["node", ...SERVICE_NODE_FLAGS, "dist/src/main.js"]);
    expect(/^ExecStart=(.*)$/m.exec(read("deploy/systemd/nats-insights.service"))![1]).toBe(
      `/usr/bin/node ${flags} /opt/nats-insights/dist/src/main.js serve`,
    );
  });

  it("and the same malloc settings where the C library is glibc (the container's musl has none)", () => {
    const unit = read("deploy/systemd/nats-insights.service");
    // Before the env file, which systemd lets override it.
    expect(unit).toContain(
      `Environment=GLIBC_TUNABLES=${SERVICE_ENV.GLIBC_TUNABLES}\nEnvironmentFile=/etc/nats-insights/env\n`,
    );
    expect(read("Dockerfile")).toMatch(/^FROM node:[\d.]+-alpine$/m);
    expect(Object.keys(SERVICE_ENV)).toEqual(["GLIBC_TUNABLES"]);
  });
});
