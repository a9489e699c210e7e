/**
 * The event publisher's queue, without NATS: claims and publications run one at a time in the order
 * they were offered, and a long queue (the start-up's events: ~150,000 at 100,000 accounts, with an
 * in-memory gate whose claims never wait) lets the event loop run between slices, so replies and
 * pushes are not held up behind it; drained() resolves only once the last one is out.
 */
import type { NatsConnection } from "@nats-io/nats-core";
import { describe, expect, it } from "vitest";
import type { ImportDiagnosis } from "../../src/core/diagnosis.js";
import { trigger } from "../../src/core/history.js";
import { EventPublisher } from "../../src/shell/events.js";
import { createLogger } from "../../src/shell/log.js";
import { LocalGate } from "../../src/shell/publish-gate.js";

const COUNT = 20_000;

function diagnosis(i: number): ImportDiagnosis {
  return {
    account: `A${i % 100}`,
    account_name: null,
    name: null,
    type: "stream",
    source_account: "S",
    source_account_name: null,
    subject: `s.${i}`,
    local_subject: null,
    status: "inactive",
    cause: "export_not_found",
    message: "no such export",
    remediation: [],
    token: null,
    server: null,
    idle: null,
  };
}

describe("EventPublisher queue", () => {
  it("publishes in order, letting the event loop run between slices", async () => {
    const published: string[] = [];
    /** How many events were out each time the event loop got a turn while the queue ran. */
    const turns: number[] = [];
    const nc = {
      publish: (_subject: string, data: string) => published.push((JSON.parse(data) as ImportDiagnosis).subject),
      isClosed: () => false,
    };
    const events = new EventPublisher(nc as unknown as NatsConnection, new LocalGate(), createLogger("silent"));
    const entries: [string, ImportDiagnosis][] = [];
    for (let i = 0; i < COUNT; i++) entries.push([`k${i}`, diagnosis(i)]);
    events.offer(entries, true, () => trigger("start"));
    let finished = false;
    const tick = (): void => {
      turns.push(published.length);
      if (!finished) setImmediate(tick);
    };
    setImmediate(tick);
    await events.drained();
    finished = true;
    expect(published).toEqual(entries.map(([, d]) => d.subject));
    // The loop ran while the queue was half done (before: it ran only once every event was out).
    expect(turns.some((n) => n > 0 && n < COUNT / 2)).toBe(true);
  });

  it("drained() covers events offered while it is waited for", async () => {
    const published: string[] = [];
    const nc = {
      publish: (_subject: string, data: string) => published.push((JSON.parse(data) as ImportDiagnosis).subject),
      isClosed: () => false,
    };
    const events = new EventPublisher(nc as unknown as NatsConnection, new LocalGate(), createLogger("silent"));
    events.offer([["a", diagnosis(1)]], false, () => trigger("start"));
    const drained = events.drained();
    events.offer([["b", diagnosis(2)]], false, () => trigger("start"));
    await drained;
    expect(published).toEqual(["s.1", "s.2"]);
    await events.drained();
    expect(published).toEqual(["s.1", "s.2"]);
  });
});
