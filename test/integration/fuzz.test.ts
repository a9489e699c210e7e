/**
 * The bounded differential fuzz of CI: random deployments from a fixed seed, then from a random
 * one (a quarter of its deployments on a supercluster, a quarter on a memory resolver), then from a
 * fixed seed with JetStream sharing in every deployment (seeds printed), each on a
 * real nats-server for a fixed time, together under 2 minutes. It
 * fails on any disagreement between the real server's message flow and the engine or the live
 * service that shows again on a second run and is not a documented open class
 * (test/fuzz/open-classes.ts). Reproduce one with `npm run fuzz -- --deployment-seed <seed>`.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomInt } from "node:crypto";
import { afterAll, describe, expect, it } from "vitest";
import { fuzz, type ReportedDisagreement } from "../fuzz/fuzz.js";
import { toolPath } from "../support/tools.js";

const FIXED_SEED = 20261201;
const SECONDS_PER_SEED = 30;
/** The random run's shares of superclusters and memory resolvers (the other runs have none). */
const TOPOLOGY_SHARE = 0.25;
/** A run where every deployment shares JetStream (test/fuzz/jetstream.ts), judged by real consumers. */
const JETSTREAM_SEED = 20261230;
const JETSTREAM_SECONDS = 25;

describe.skipIf(!toolPath("nats-server"))("bounded differential fuzz against a real nats-server", () => {
  const out = mkdtempSync(join(tmpdir(), "insights-fuzz-ci-"));
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it.each([
    ["fixed", FIXED_SEED, SECONDS_PER_SEED, undefined, 0],
    ["random", randomInt(0, 2 ** 32 - 1), SECONDS_PER_SEED, undefined, TOPOLOGY_SHARE],
    ["JetStream", JETSTREAM_SEED, JETSTREAM_SECONDS, 1, 0],
  ] as const)(
    "%s seed %i: no unexplained disagreement",
    async (_kind, seed, seconds, jetstreamShare, topologyShare) => {
      const share =
        (jetstreamShare !== undefined ? ` --jetstream-share ${jetstreamShare}` : "") +
        (topologyShare ? ` --supercluster-share ${topologyShare} --memory-share ${topologyShare}` : "");
      console.log(`fuzz seed ${seed} (npm run fuzz -- --seed ${seed} --seconds ${seconds}${share})`);
      const report = await fuzz({
        seed,
        seconds,
        ...(jetstreamShare !== undefined ? { jetstreamShare } : {}),
        superclusterShare: topologyShare,
        memoryShare: topologyShare,
        cluster: false,
        clusterShare: 0.2,
        live: true,
        outDir: out,
        shrinkTries: 1,
      });
      console.log(
        `fuzz seed ${seed}, nats-server ${report.server_version}: ${report.deployments} deployments ` +
          `(${report.supercluster_deployments} on a supercluster, ${report.memory_deployments} on a memory resolver), ${report.imports} imports, ` +
          `${report.disagreements.length} disagreements (${report.disagreements.filter((d) => d.open_class).length} of open classes)`,
      );
      expect(report.deployments).toBeGreaterThan(0);
      if (jetstreamShare) expect(report.truth.jetstream).toBeGreaterThan(0);
      const unexplained = report.disagreements.filter(
        (d: ReportedDisagreement) => !d.open_class && d.reproduced !== false,
      );
      expect(
        unexplained.map((d) => ({
          seed: d.deployment_seed,
          judge: d.judge,
          import: d.import,
          truth: d.truth,
          verdict: d.verdict,
        })),
      ).toEqual([]);
    },
    60_000,
  );
});
