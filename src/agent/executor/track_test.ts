/** This node's share of a target-tracking step (track.ts): N nodes add what the formula asks. */

import assert from "node:assert/strict";
import { parseServiceDescriptor } from "../../config/documents.ts";
import { seededPrng } from "../../domain/random.ts";
import type { ClusterService } from "../gossip/aggregate.ts";
import { RecommendationLog } from "../planner/anti_flap.ts";
import { trackService } from "../planner/target_tracking.ts";
import type { Tracking } from "../planner/types.ts";
import { dealStarts, trackShare, type TrackShareInput } from "./track.ts";

function track(step: number): Tracking {
  return {
    service: "web",
    metric: "cpu_avg",
    value: 0.9,
    target: 0.5,
    current: 3,
    pending: 0,
    formula: 3 + step,
    desired: 3 + step,
    step,
    why: "test",
  };
}

function view(
  perNode: Record<string, number>,
  recent: ClusterService["recentActions"] = [],
): ClusterService {
  const nodes = Object.keys(perNode);
  return {
    nodes,
    running: Object.values(perNode).reduce((a, b) => a + b, 0),
    pending: 0,
    analytics: {},
    canHost: nodes,
    perNode: Object.fromEntries(
      nodes.map((n) => [n, { instances: perNode[n]!, keep: 0, active: true }]),
    ),
    recentActions: recent,
  };
}

function share(
  self: string,
  step: number,
  v: ClusterService,
  extra: Partial<TrackShareInput> = {},
) {
  return trackShare({
    track: track(step),
    self,
    view: v,
    cooldownMs: 10_000,
    roundMs: 1_000,
    canHost: true,
    keep: 0,
    ...extra,
  });
}

Deno.test("trackShare(): the nodes' shares add up to the step, not N times it", () => {
  const nodes = ["n1", "n2", "n3", "n4", "n5"];
  for (const step of [1, 2, 3, 7, -1, -2]) {
    const v = view({ n1: 1, n2: 2, n3: 0, n4: 1, n5: 3 });
    let total = 0;
    for (const self of nodes) {
      const s = share(self, step, v);
      if (s.ok) total += s.count;
    }
    assert.equal(total, Math.abs(step), `step ${step}`);
  }
});

Deno.test("dealStarts(): fewest instances first, then a stable rank", () => {
  const dealt = dealStarts("web", new Map([["a", 3], ["b", 0], ["c", 1]]), ["a", "b", "c"], 3);
  assert.equal(dealt.get("b"), 2);
  assert.equal(dealt.get("c"), 1);
  assert.equal(dealt.get("a"), undefined);
});

Deno.test("trackShare(): a start within the scale-out cooldown holds the scale-out", () => {
  const v = view({ n1: 1, n2: 1 }, [
    { origin: "n2", action: "start", time: 0, age: 4_000, reason: "" },
  ]);
  const s = share("n1", 2, v);
  assert.equal(s.ok, false);
  assert.match(s.why, /scale-out cooldown of web: n2 started one 4\.0 s ago \(Cooldown 10\.0 s\)/);
  assert.equal(share("n1", 2, v, { cooldownMs: 3_000 }).ok, true, "cooldown over");
});

Deno.test("trackShare(): a peer's start since this node's last loop is the same round", () => {
  const v = view({ n1: 1, n2: 2 }, [
    { origin: "n2", action: "start", time: 0, age: 400, reason: "" },
  ]);
  const same = share("n1", 2, v, { roundMs: 1_000 });
  assert.equal(same.ok, true, same.why);
  const own = share("n2", 2, v, { roundMs: 1_000 });
  assert.equal(own.ok, false, "its own start always counts");
  const older = share("n1", 2, v, { roundMs: 300 });
  assert.equal(older.ok, false, "before its previous loop: a cooldown");
});

Deno.test("trackShare(): scale-in waits for any action within its cooldown, and never when cut off", () => {
  const v = view({ n1: 3, n2: 1 }, [
    { origin: "n2", action: "start", time: 0, age: 200, reason: "" },
  ]);
  assert.equal(share("n1", -1, v, { roundMs: 1_000 }).ok, false, "a start is never this round");
  const calm = view({ n1: 3, n2: 1 });
  assert.equal(share("n1", -1, calm).ok, true);
  const cut = share("n1", -1, calm, { partitioned: "this node cannot reach etcd" });
  assert.equal(cut.ok, false);
  assert.match(cut.why, /no scale-in/);
});

Deno.test("trackShare(): staggered loops, pushes seen or not, add the step once", async (t) => {
  // Each node recomputes the step from its own view: a peer's start it has heard of is pending
  // there (0 % of the target on the way up) and in the counts; one it has not is in neither.
  const descriptor = parseServiceDescriptor({
    Name: "web",
    Image: "i",
    Scaling: { Target: { Metric: "cpu_avg", Value: 0.5 } },
  }, "web.json");
  const nodes = ["n1", "n2", "n3", "n4"];
  for (let seed = 1; seed <= 40; seed++) {
    const prng = seededPrng(seed);
    // One instance each at 0.9 of a 0.5 target: ⌈4 × 0.9 / 0.5⌉ = 8, a step of +4.
    const held: Record<string, number> = { n1: 1, n2: 1, n3: 1, n4: 1 };
    const started: { origin: string; seenBy: Set<string> }[] = [];
    const order = [...nodes].sort(() => prng() - 0.5);
    for (const self of order) {
      // What this node sees: every start whose push reached it (its own always).
      const seen = started.filter((s) => s.origin === self || s.seenBy.has(self));
      const perNode = { ...held };
      for (const s of started) if (!seen.includes(s)) perNode[s.origin]! -= 1;
      const v = view(
        perNode,
        seen.map((s) => ({
          origin: s.origin,
          action: "start" as const,
          time: 0,
          age: 100,
          reason: "",
        })),
      );
      const pending = seen.length;
      const tracking = trackService("web", {
        descriptor,
        local: { running: 1, pending: 0 },
        cluster: {
          base: { cpu_avg: 0.9 },
          user: {},
          active: true,
          running: 4,
          pending,
          instances: 4 + pending,
        },
      }, {
        now: 0,
        log: new RecommendationLog(),
        defaults: { scaleOutCooldown: 10, scaleInCooldown: 10, scaleInStabilization: 0 },
      })!;
      if (tracking.step <= 0) continue;
      const s = trackShare({
        track: tracking,
        self,
        view: v,
        cooldownMs: 10_000,
        roundMs: 1_000,
        canHost: true,
        keep: 0,
      });
      if (!s.ok) continue;
      for (let k = 0; k < s.count; k++) {
        held[self]! += 1;
        const seenBy = new Set(nodes.filter((n) => n !== self && prng() < 0.5));
        started.push({ origin: self, seenBy });
      }
    }
    await t.step(`seed ${seed}`, () => {
      assert.equal(started.length, 4, `order ${order.join(",")}: ${JSON.stringify(held)}`);
    });
  }
});
