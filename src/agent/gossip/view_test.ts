import assert from "node:assert/strict";
import type { NodeShare } from "./types.ts";
import { GossipView } from "./view.ts";

const MAX_AGE = 10_000;

function share(origin: string, version: number, extra: Partial<NodeShare> = {}): NodeShare {
  return {
    origin,
    version,
    time: 5,
    active: true,
    services: { web: { running: 1, pending: 0, analytics: {}, cpuNumber: 1 } },
    resources: { totalCpus: 4, freeCpus: 3, totalMemory: 100, freeMemory: 50 },
    actions: [],
    ...extra,
  };
}

function local(time = 0): Omit<NodeShare, "origin" | "version"> {
  const { origin: _o, version: _v, ...rest } = share("x", 0, { time });
  return rest;
}

function view(): GossipView {
  return new GossipView({ self: "me", maxAgeMs: MAX_AGE });
}

Deno.test("publish sets origin and a strictly increasing version, at least the time", () => {
  const v = view();
  assert.equal(v.get("me"), undefined);
  assert.deepEqual(v.origins(), []);
  const cases: { time: number; version: number; why: string }[] = [
    { time: 0, version: 1, why: "first" },
    { time: 0, version: 2, why: "bumped" },
    { time: 1_700_000_000_000, version: 1_700_000_000_000, why: "jumps to the time" },
    { time: 1_700_000_000_000, version: 1_700_000_000_001, why: "same time: bumped" },
    { time: 1_600_000_000_000, version: 1_700_000_000_002, why: "clock went back: bumped" },
    { time: 1_700_000_000_500.7, version: 1_700_000_000_500, why: "whole ms" },
  ];
  for (const c of cases) {
    const share = v.publish(local(c.time));
    assert.equal(share.origin, "me", c.why);
    assert.equal(share.version, c.version, c.why);
    assert.equal(v.get("me"), share, c.why);
  }
  assert.deepEqual(v.origins(), ["me"]);
});

Deno.test("a restarted agent outranks its previous life and its tombstones", () => {
  const before = view();
  before.publish(local(1000));
  const old = before.publish(local(2000));
  const peer = new GossipView({ self: "peer", maxAgeMs: MAX_AGE });
  peer.merge([old], 2000);
  peer.expire(2001, new Set()); // the lease expired: tombstoned
  const after = view(); // the restart: a fresh counter
  const fresh = after.publish(local(5000));
  assert.deepEqual(peer.merge([fresh], 5000).updated, ["me"]);
});

Deno.test("merge: per origin the higher version wins and a tie keeps the held entry", () => {
  const cases: { name: string; held: number; incoming: number; wins: boolean }[] = [
    { name: "newer replaces", held: 3, incoming: 4, wins: true },
    { name: "tie keeps the held entry", held: 3, incoming: 3, wins: false },
    { name: "older is ignored", held: 3, incoming: 2, wins: false },
  ];
  for (const c of cases) {
    const v = view();
    assert.deepEqual(v.merge([share("a", c.held, { time: 1 })], 0).updated, ["a"], c.name);
    const { updated } = v.merge([share("a", c.incoming, { time: 2 })], 10);
    assert.deepEqual(updated, c.wins ? ["a"] : [], c.name);
    assert.equal(v.get("a")?.version, c.wins ? c.incoming : c.held, c.name);
    assert.equal(v.get("a")?.time, c.wins ? 2 : 1, c.name);
    assert.equal(v.receivedAt("a"), c.wins ? 10 : 0, c.name);
  }
});

Deno.test("merge within one batch keeps the highest version, whatever the order", () => {
  for (const order of [[1, 3, 2], [3, 2, 1], [2, 1, 3]]) {
    const v = view();
    const { updated } = v.merge(order.map((version) => share("a", version)), 0);
    assert.deepEqual(updated, ["a"], String(order));
    assert.equal(v.get("a")?.version, 3, String(order));
  }
});

Deno.test("merge ignores entries claiming to be self, but the next publish outranks them", () => {
  const v = view();
  v.publish(local());
  const { updated } = v.merge([share("me", 40, { time: 99 })], 0);
  assert.deepEqual(updated, []);
  assert.equal(v.get("me")?.version, 1);
  assert.notEqual(v.get("me")?.time, 99);
  assert.equal(v.publish(local()).version, 41);
  v.merge([share("me", Number.MAX_SAFE_INTEGER)], 1000);
  assert.equal(v.publish(local()).version, 42, "a version a day ahead of the clock is ignored");
});

Deno.test("merge keeps services unknown locally", () => {
  const v = view();
  const services = {
    web: { running: 1, pending: 0, analytics: {}, cpuNumber: 1 },
    mystery: { running: 2, pending: 1, cpu_avg: 0.3, analytics: { x: 1 }, cpuNumber: 4 },
  };
  v.merge([share("a", 1, { services })], 0);
  assert.deepEqual(v.get("a")?.services, services);
});

Deno.test("expire drops entries not refreshed by a newer version within maxAgeMs", () => {
  const v = view();
  v.publish(local());
  v.merge([share("a", 1), share("b", 1)], 0);
  v.merge([share("a", 1)], 8_000); // same version: not a refresh
  v.merge([share("b", 2)], 8_000); // newer version: refreshed
  assert.deepEqual(v.expire(MAX_AGE, undefined), [], "exactly maxAgeMs old is kept");
  assert.deepEqual(v.expire(MAX_AGE + 1, undefined), ["a"]);
  assert.deepEqual(v.origins(), ["me", "b"]);
  assert.deepEqual(v.expire(18_001, undefined), ["b"]);
  assert.deepEqual(v.origins(), ["me"], "self never expires");
});

Deno.test("expire drops origins that left the membership", () => {
  const cases: { name: string; live: ReadonlySet<string> | undefined; left: string[] }[] = [
    { name: "no membership: no filter", live: undefined, left: ["me", "a", "b"] },
    { name: "b left", live: new Set(["me", "a"]), left: ["me", "a"] },
    { name: "self is kept even if absent", live: new Set(["b"]), left: ["me", "b"] },
    { name: "empty membership", live: new Set(), left: ["me"] },
  ];
  for (const c of cases) {
    const v = view();
    v.publish(local());
    v.merge([share("a", 1), share("b", 1)], 0);
    v.expire(1, c.live);
    assert.deepEqual(v.origins(), c.left, c.name);
  }
});

Deno.test("an expired entry cannot be gossiped back, but a newer version can", () => {
  const v = view();
  v.merge([share("dead", 7)], 0);
  assert.deepEqual(v.expire(MAX_AGE + 1, undefined), ["dead"]);
  assert.deepEqual(v.merge([share("dead", 7)], MAX_AGE + 2).updated, [], "same version");
  assert.deepEqual(v.merge([share("dead", 6)], MAX_AGE + 2).updated, [], "older version");
  assert.deepEqual(v.merge([share("dead", 8)], MAX_AGE + 3).updated, ["dead"], "alive again");

  const w = view();
  w.merge([share("gone", 3)], 0);
  w.expire(1, new Set());
  assert.deepEqual(w.merge([share("gone", 3)], 2).updated, [], "left membership: tombstoned");
  w.expire(1 + MAX_AGE + 1, new Set()); // the tombstone itself expires
  assert.deepEqual(w.merge([share("gone", 3)], 1 + MAX_AGE + 2).updated, ["gone"]);
});

Deno.test("entries, digest, newerThan and changedSince", () => {
  const v = view();
  v.merge([share("a", 5)], 100);
  v.publish(local(150));
  v.merge([share("b", 2)], 200);
  assert.deepEqual(v.entries().map((e) => e.origin), ["me", "a", "b"], "self first");
  assert.equal(v.size, 3);
  assert.deepEqual(v.digest(), { me: 150, a: 5, b: 2 });
  assert.deepEqual(v.newerThan({ me: 150, a: 4, c: 9 }).map((e) => e.origin), ["a", "b"]);
  assert.deepEqual(v.newerThan({}).map((e) => e.origin), ["me", "a", "b"]);
  assert.deepEqual(v.newerThan({ me: 150, a: 5, b: 2 }), []);
  assert.deepEqual(v.changedSince(150).map((e) => e.origin), ["me", "b"]);
  assert.deepEqual(v.changedSince(201), []);
  assert.equal(v.get("zzz"), undefined);
});

Deno.test("constructor rejects a non-positive maxAgeMs", () => {
  for (const maxAgeMs of [0, -1, Number.NaN]) {
    assert.throws(() => new GossipView({ self: "me", maxAgeMs }), RangeError);
  }
});

Deno.test("the view holds at most maxOrigins other origins and as many tombstones", () => {
  const view = new GossipView({ self: "me", maxAgeMs: 1000, maxOrigins: 3 });
  const many = Array.from({ length: 10 }, (_, i) => ({ ...local(0), origin: `o${i}`, version: 1 }));
  const { updated, refused } = view.merge(many, 0);
  assert.deepEqual(updated, ["o0", "o1", "o2"]);
  assert.equal(refused, 7);
  // Known origins still update when full.
  assert.deepEqual(view.merge([{ ...local(0), origin: "o1", version: 2 }], 0).updated, ["o1"]);
  view.expire(10, new Set(["me"]));
  assert.equal(view.size, 0);
  assert.equal(view.tombstones, 3);
  view.merge(many.slice(3, 6).map((e) => ({ ...e, version: 5 })), 20);
  view.expire(30, new Set(["me"]));
  assert.equal(view.tombstones, 3, "capped: the oldest tombstones went");
});

Deno.test("attachSignature signs only the current share; wouldAccept mirrors merge", () => {
  const view = new GossipView({ self: "me", maxAgeMs: 1000 });
  const first = view.publish(local(100));
  const second = view.publish(local(200));
  assert.equal(view.attachSignature(first.version, "old"), false);
  assert.equal(view.attachSignature(second.version, "sig"), true);
  assert.equal(view.get("me")?.sig, "sig");
  assert.equal(view.publish({ ...local(300), sig: "stale" }).sig, undefined);
  assert.equal(view.wouldAccept({ origin: "me", version: 300 }, 0), false);
  assert.equal(view.wouldAccept({ origin: "me", version: 301 }, 0), true);
  view.merge([{ ...local(0), origin: "a", version: 7 }], 0);
  assert.equal(view.wouldAccept({ origin: "a", version: 7 }, 0), false);
  assert.equal(view.wouldAccept({ origin: "a", version: 8 }, 0), true);
  view.expire(10, new Set(["me"]));
  assert.equal(view.wouldAccept({ origin: "a", version: 7 }, 10), false, "tombstoned");
  assert.equal(view.wouldAccept({ origin: "a", version: 8 }, 10), true);
});
