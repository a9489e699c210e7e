import { describe, expect, it } from "vitest";
import { requesterOf } from "../../src/service/requester.js";

const ACC = "ADZXIDBCWESLLDERIHIHLLG7GMMTQ3IUNT7STTY7HF3XXPTNQDPNWAPI";

describe("who asked (Nats-Request-Info)", () => {
  it("no header: a system user, who may see everything", () => {
    expect(requesterOf(undefined)).toEqual({ kind: "system" });
    expect(requesterOf([])).toEqual({ kind: "system" });
  });

  it("the server's header names the requesting account", () => {
    expect(requesterOf([JSON.stringify({ acc: ACC, rtt: 1234, server: "n1" })])).toEqual({
      kind: "account",
      account: ACC,
    });
  });

  it.each([
    [
      "two headers (2.10 leaves a forged second one beside its own)",
      [JSON.stringify({ acc: ACC }), JSON.stringify({ acc: ACC })],
    ],
    ["not JSON", ["acc=" + ACC]],
    ["no account", [JSON.stringify({ user: "x" })]],
    ["not an account key", [JSON.stringify({ acc: "SYS" })]],
    ["an account key of the wrong kind", [JSON.stringify({ acc: "U" + ACC.slice(1) })]],
    ["too long to be the server's", [JSON.stringify({ acc: ACC, pad: "x".repeat(20_000) })]],
  ])("%s: unproven", (_name, values) => {
    expect(requesterOf(values).kind).toBe("unproven");
  });
});
