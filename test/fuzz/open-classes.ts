/**
 * Known, documented classes of disagreement that stay open: the bounded fuzz in the test suite
 * tolerates these and fails on anything else, and the long fuzz does not shrink them again. Each
 * names its minimised scenario under test/fuzz/scenarios/ (replayed by fuzz-scenarios.test.ts).
 */
import type { FuzzDeployment } from "./model.js";
import type { Disagreement } from "./run.js";

export interface OpenClass {
  id: string;
  description: string;
  /** File name under test/fuzz/scenarios/. */
  scenario: string;
  matches(d: Disagreement, deployment: FuzzDeployment): boolean;
}

export const OPEN_CLASSES: OpenClass[] = [
  {
    id: "jetstream-ack-format-v2",
    description:
      "The servers run with nats-server 2.14+'s feature flag js_ack_fc_v2 (off by default through 2.15): a consumer's ack " +
      "reply subjects then carry the JetStream domain and a hash of the exporter's account ($JS.ACK.<domain>.<hash>.<stream>." +
      "<consumer>.…), so a per-consumer ack import in the default form ($JS.ACK.<stream>.<consumer>.>) carries no ack " +
      "(messages arrive, acks are dropped without an error; $JS.ACK.> still carries them). The engine assumes the default " +
      "format; the servers announce the flag in their ServerInfo (feature_flags), which the live service does not read yet.",
    scenario: "open-jetstream-ack-format-v2.json",
    // The importer has the default-form ack import of the very consumer whose acks were lost.
    matches: (d, deployment) => {
      const consumer = consumerOf(d, deployment);
      return (
        deployment.js_ack_v2 === true &&
        d.truth[0]!.basis === "jetstream" &&
        consumer !== null &&
        (deployment.accounts[d.account]?.imports ?? []).some((i) => i.subject === `$JS.ACK.S.${consumer}.>`) &&
        (d.imp.subject.startsWith("$JS.ACK.") || (d.truth[0]!.expected_gaps ?? []).includes("ack"))
      );
    },
  },
  {
    id: "jetstream-deliver-subject-unknown",
    description:
      "A push consumer's ack import, with a stream import from the exporter that is not the consumer's deliver subject: " +
      "nothing is delivered (the consumer sees no interest, push_bound false). The engine takes any active stream import " +
      "from the exporter for the deliver subject, as the JWTs do not name it, and says active instead of warning that the " +
      "deliver subject is not imported.",
    scenario: "open-jetstream-deliver-subject-unknown.json",
    matches: (d, deployment) =>
      d.judge !== "nodes" &&
      d.imp.type === "service" &&
      d.imp.subject.startsWith("$JS.ACK.") &&
      d.truth[0]!.basis === "jetstream" &&
      (d.truth[0]!.expected_gaps ?? []).includes("deliver_subject") &&
      d.verdict.status === "active" &&
      (deployment.accounts[d.account]?.imports ?? []).some((i) => i.type === "stream" && i.from === d.imp.from),
  },
  {
    id: "jetstream-push-acks-unseen",
    description:
      "A push consumer's deliver subject is imported (messages arrive) but its acks are not (no $JS.ACK import that carries " +
      "them): the consumer drops every ack without an error and redelivers each message after its ack wait. The JWTs do " +
      "not say which stream import is a consumer's deliver subject, nor whether the consumer wants acks (ack policy none " +
      "needs none), so the engine leaves the stream import active; only the consumer's configuration in the exporter's " +
      "account (nats consumer info) tells.",
    scenario: "open-jetstream-push-acks-unseen.json",
    matches: (d) =>
      d.judge !== "nodes" &&
      d.imp.type === "stream" &&
      d.truth[0]!.basis === "jetstream" &&
      (d.truth[0]!.expected_gaps ?? []).includes("ack") &&
      d.verdict.status === "active",
  },
];

/** The consumer a JetStream disagreement is about (fuzz names: P<importer> pulls, deliver.<consumer>, $JS.ACK.S.<consumer>.>). */
function consumerOf(d: Disagreement, deployment: FuzzDeployment): string | null {
  const ack = /^\$JS\.ACK\.S\.([^.*>]+)\.>$/.exec(d.imp.subject);
  if (ack) return ack[1]!;
  const deliver = /^deliver\.([^.*>]+)$/.exec(d.imp.subject);
  if (deliver) return deliver[1]!;
  return d.imp.type === "service" ? `P${deployment.accounts[d.account]?.name ?? ""}` : null;
}

export function openClassOf(d: Disagreement, deployment: FuzzDeployment): string | null {
  return OPEN_CLASSES.find((c) => c.matches(d, deployment))?.id ?? null;
}

/** The scenario file of an open class. */
export function openScenario(id: string): string {
  return OPEN_CLASSES.find((c) => c.id === id)!.scenario;
}
