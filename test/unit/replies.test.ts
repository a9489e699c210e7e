/**
 * What the accounts' mappings do to a service import's replies (src/core/replies.ts); the server's
 * behaviour is measured in test/integration/reply-mappings.test.ts, the verdicts judged by flow in
 * the scenario catalogue.
 */
import { describe, expect, it } from "vitest";
import { repliesFinding } from "../../src/core/replies.js";
import { mappingClaim } from "../support/claims.js";

const m = mappingClaim;

describe("replies through a service import", () => {
  it("no mapping of either reply subject: nothing to say", () => {
    expect(repliesFinding([], [], "2.15.2")).toBeNull();
    expect(repliesFinding([m("svc.>", ["x.>"])], [m("_INBOX.*", ["x.{{wildcard(1)}}"])], "2.15.2")).toBeNull();
  });

  it("the importer's mapping covering its muxed inbox takes every answer: replies_mapped, on the inbox leg", () => {
    expect(repliesFinding([], [m("*.>", ["moved.{{wildcard(1)}}.>"])], "2.15.2")).toEqual({
      cause: "replies_mapped",
      mapping: {
        source: "*.>",
        to: ["moved.{{wildcard(1)}}.>"],
        percent: 0,
        newLocal: null,
        leg: "inbox",
        replySubject: "_INBOX.*.*",
      },
    });
  });

  it("the exporter's mapping covering the server's reply subject: replies_mapped, on the response leg", () => {
    expect(repliesFinding([m("_R_.>", ["gone.>"])], [], "2.15.2")).toMatchObject({
      cause: "replies_mapped",
      mapping: { source: "_R_.>", leg: "response", replySubject: "_R_.*.*" },
    });
    // a mapping narrower than every reply subject leaves the others alone
    expect(repliesFinding([m("_R_.abc.*", ["gone.{{wildcard(1)}}"])], [], "2.15.2")).toBeNull();
  });

  it("a share kept, or overlapping mappings, and the worse of the two legs", () => {
    expect(repliesFinding([], [m("_INBOX.>", ["gone.>", 60])], "2.15.2")).toMatchObject({
      cause: "replies_partly_mapped",
      mapping: { percent: 40, to: ["gone.>"] },
    });
    const overlap = [m("_INBOX.>", ["gone.>"]), m("*.*.*", ["kept.{{wildcard(1)}}", 60])];
    expect(repliesFinding([], overlap, "2.15.2")).toMatchObject({
      cause: "replies_mappings_overlap",
      mapping: {
        overlapping: [
          { source: "*.*.*", percent: 40 },
          { source: "_INBOX.>", percent: 0 },
        ],
      },
    });
    // a partial inbox beside a response taken away: the answers are lost on the response leg
    expect(repliesFinding([m(">", ["gone.>"])], [m("_INBOX.>", ["gone.>", 60])], "2.15.2")).toMatchObject({
      cause: "replies_mapped",
      mapping: { leg: "response" },
    });
  });
});
