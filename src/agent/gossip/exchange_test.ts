import assert from "node:assert/strict";
import { ValidationError } from "../../domain/errors.ts";
import { acceptReply, answerGossip, gossipRequest, replyTo } from "./exchange.ts";
import type { NodeShare } from "./types.ts";
import { GossipView } from "./view.ts";

const C = { cluster: "c1" };

function local(time: number): Omit<NodeShare, "origin" | "version"> {
  return {
    time,
    active: true,
    services: {},
    resources: { totalCpus: 1, freeCpus: 1, totalMemory: 1, freeMemory: 1 },
    actions: [],
  };
}

function agents(...names: string[]): GossipView[] {
  return names.map((self) => {
    const v = new GossipView({ self, maxAgeMs: 60_000 });
    v.publish(local(0));
    return v;
  });
}

Deno.test("full push-pull: both sides end with the union", () => {
  const [a, b, c] = agents("a", "b", "c") as [GossipView, GossipView, GossipView];
  b.merge(c.entries(), 0);
  const request = gossipRequest(a, { ...C, now: 1000, mode: "full" });
  assert.deepEqual(request, { cluster: "c1", from: "a", entries: a.entries() });
  const { reply, updated } = answerGossip(b, request, { ...C, now: 1000 });
  assert.deepEqual(updated, ["a"]);
  assert.deepEqual(reply.entries.map((e) => e.origin), ["b", "c"], "built before the merge");
  assert.deepEqual(acceptReply(a, reply, { ...C, now: 1000 }).updated, ["b", "c"]);
  assert.deepEqual(a.digest(), b.digest());
});

Deno.test("delta: the request carries digest and recent changes, the reply only what is newer", () => {
  const [a, b, c, d] = agents("a", "b", "c", "d") as [
    GossipView,
    GossipView,
    GossipView,
    GossipView,
  ];
  a.merge(c.entries(), 0); // old news for a
  b.merge(c.entries(), 0);
  b.merge(d.entries(), 0);
  a.publish(local(5000)); // a's own change, recent at 5000
  const request = gossipRequest(a, { ...C, now: 5000, mode: "delta", pushWindowMs: 1000 });
  assert.deepEqual(request.entries.map((e) => e.origin), ["a"]);
  assert.deepEqual(request.digest, { a: 5000, c: 1 });
  const reply = replyTo(b, request, C);
  assert.deepEqual(reply.entries.map((e) => e.origin), ["b", "d"]);
  assert.equal(b.get("a"), undefined, "replyTo does not merge");
  answerGossip(b, request, { ...C, now: 5000 });
  acceptReply(a, reply, { ...C, now: 5000 });
  assert.deepEqual(a.digest(), b.digest());
  assert.deepEqual(
    replyTo(b, gossipRequest(a, { ...C, now: 9000, mode: "delta", pushWindowMs: 1000 }), C).entries,
    [],
    "nothing new: empty reply",
  );
});

Deno.test("messages of another cluster are refused", () => {
  const [a, b] = agents("a", "b") as [GossipView, GossipView];
  const request = gossipRequest(a, { cluster: "other", now: 0, mode: "full" });
  assert.throws(() => answerGossip(b, request, { ...C, now: 0 }), ValidationError);
  assert.throws(() => acceptReply(b, request, { ...C, now: 0 }), ValidationError);
  assert.equal(b.get("a"), undefined);
});
