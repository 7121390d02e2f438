import assert from "node:assert/strict";
import { seededPrng } from "../../domain/random.ts";
import {
  type BoundsContext,
  type BoundsHere,
  type BoundsService,
  type BoundsVerdict,
  rank,
  reconcileBounds,
  stoppers,
} from "./reconcile.ts";

type PerNode = Record<string, { instances: number; keep: number; active: boolean }>;

function nodes(counts: Record<string, number>, extra: Partial<PerNode[string]> = {}): PerNode {
  return Object.fromEntries(
    Object.entries(counts).map((
      [n, instances],
    ) => [n, { instances, keep: 0, active: true, ...extra }]),
  );
}

function svc(over: Partial<BoundsService> = {}): BoundsService {
  return {
    name: "web",
    min: 2,
    max: 2,
    perNode: nodes({ a: 1, b: 1, c: 0 }),
    canHost: ["a", "b", "c"],
    recent: [],
    ...over,
  };
}

function ctx(self: string, over: Partial<BoundsContext> = {}): BoundsContext {
  return {
    self,
    unknownPeers: [],
    scaleOutCooldownMs: 10_000,
    scaleInCooldownMs: 20_000,
    ...over,
  };
}

const HERE: BoundsHere = { done: 0, canHost: true, keep: 0 };

/** Every node's verdict on the same view (each with its own `here`). */
function all(
  s: BoundsService,
  c: (self: string) => BoundsContext = (self) => ctx(self),
  here: (self: string) => BoundsHere = (self) => ({ ...HERE, canHost: s.canHost.includes(self) }),
): Record<string, BoundsVerdict> {
  // Inactive agents run no loop: only the active ones decide.
  return Object.fromEntries(
    Object.entries(s.perNode).filter(([, info]) => info.active)
      .map(([n]) => [n, reconcileBounds(s, c(n), here(n))]),
  );
}

function acting(verdicts: Record<string, BoundsVerdict>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [n, v] of Object.entries(verdicts)) {
    if (v.action !== "none") out[n] = `${v.action} ${v.count}`;
  }
  return out;
}

function sum(actions: Record<string, string>, verb: string): number {
  return Object.values(actions).filter((a) => a.startsWith(verb))
    .reduce((n, a) => n + Number(a.split(" ")[1]), 0);
}

Deno.test("reconcileBounds: the nodes together act for exactly the gap", async (t) => {
  const cases: {
    name: string;
    service: BoundsService;
    starts: number;
    stops: number;
    why?: RegExp;
  }[] = [
    { name: "within bounds: nothing", service: svc(), starts: 0, stops: 0, why: /within bounds/ },
    {
      name: "deficit of 1 (a node died): exactly one start, not one per node",
      service: svc({ perNode: nodes({ a: 1, b: 0, c: 0 }) }),
      starts: 1,
      stops: 0,
    },
    {
      name: "deficit of 3 on 3 empty nodes: one each",
      service: svc({ min: 3, max: 5, perNode: nodes({ a: 0, b: 0, c: 0 }) }),
      starts: 3,
      stops: 0,
    },
    {
      name: "deficit of 3 on 2 hosts: two now, the rest next loop",
      service: svc({ min: 3, max: 5, perNode: nodes({ a: 0, b: 0, c: 0 }), canHost: ["a", "b"] }),
      starts: 2,
      stops: 0,
    },
    {
      name: "deficit, no host: nothing",
      service: svc({ perNode: nodes({ a: 1, b: 0, c: 0 }), canHost: [] }),
      starts: 0,
      stops: 0,
      why: /no node can host/,
    },
    {
      name: "the partition case after the heal: 4 for a max of 2, exactly 2 stops",
      service: svc({ perNode: nodes({ a: 2, b: 1, c: 1 }) }),
      starts: 0,
      stops: 2,
    },
    {
      name: "excess of 1: exactly one stop",
      service: svc({ perNode: nodes({ a: 1, b: 1, c: 1 }) }),
      starts: 0,
      stops: 1,
    },
    {
      name: "unlimited max: no excess",
      service: svc({ max: 0, perNode: nodes({ a: 5, b: 5, c: 5 }) }),
      starts: 0,
      stops: 0,
    },
    {
      name: "a start younger than ScaleInCooldown holds the excess",
      service: svc({
        perNode: nodes({ a: 1, b: 1, c: 1 }),
        recent: [{ origin: "b", action: "start", age: 19_000 }],
      }),
      starts: 0,
      stops: 0,
      why: /b started one 19\.0 s ago \(cooldown 20\.0 s\)/,
    },
    {
      name: "an older start does not",
      service: svc({
        perNode: nodes({ a: 1, b: 1, c: 1 }),
        recent: [{ origin: "b", action: "start", age: 21_000 }],
      }),
      starts: 0,
      stops: 1,
    },
    {
      name: "a stop younger than ScaleOutCooldown holds the deficit",
      service: svc({
        perNode: nodes({ a: 1, b: 0, c: 0 }),
        recent: [{ origin: "c", action: "stop", age: 5_000 }],
      }),
      starts: 0,
      stops: 0,
      why: /c stopped one/,
    },
    {
      name: "a recent start does not hold a deficit (same direction)",
      service: svc({
        min: 3,
        max: 3,
        perNode: nodes({ a: 1, b: 1, c: 0 }),
        recent: [{ origin: "b", action: "start", age: 100 }],
      }),
      starts: 1,
      stops: 0,
    },
    {
      name: "an inactive node is never dealt a stop: the active ones stop theirs",
      service: svc({
        perNode: { ...nodes({ a: 1, b: 1 }), c: { instances: 2, keep: 0, active: false } },
      }),
      starts: 0,
      stops: 2,
    },
    {
      name: "excess held by inactive nodes only: nothing",
      service: svc({
        perNode: { ...nodes({ a: 0, b: 0 }), c: { instances: 3, keep: 0, active: false } },
      }),
      starts: 0,
      stops: 0,
      why: /no active node holds a removable instance/,
    },
    {
      name: "a base-service floor is never dealt a stop",
      service: svc({
        perNode: { ...nodes({ a: 1, b: 1 }), c: { instances: 2, keep: 2, active: true } },
      }),
      starts: 0,
      stops: 2,
    },
  ];
  for (const c of cases) {
    await t.step(c.name, () => {
      const verdicts = all(c.service, (self) => ctx(self), (self) => ({
        ...HERE,
        canHost: c.service.canHost.includes(self),
        keep: c.service.perNode[self]?.keep ?? 0,
      }));
      const acts = acting(verdicts);
      assert.equal(sum(acts, "start"), c.starts, JSON.stringify(verdicts));
      assert.equal(sum(acts, "stop"), c.stops, JSON.stringify(verdicts));
      for (const [n, v] of Object.entries(verdicts)) {
        assert.ok(v.action !== "start" || v.count === 1, `${n} starts at most one per loop`);
      }
      if (c.why) {
        assert.ok(
          Object.values(verdicts).some((v) => c.why!.test(v.why)),
          JSON.stringify(verdicts),
        );
      }
    });
  }
});

Deno.test("reconcileBounds: a node cut off or with an incomplete view does nothing cluster-wide", async (t) => {
  const deficit = svc({ perNode: nodes({ a: 1 }), canHost: ["a"] });
  const excess = svc({ perNode: nodes({ a: 3 }) });
  for (const [name, s] of [["deficit", deficit], ["excess", excess]] as const) {
    await t.step(`${name}, partitioned`, () => {
      const v = reconcileBounds(s, ctx("a", { partitioned: "this node cannot reach etcd" }), HERE);
      assert.equal(v.action, "none");
      assert.match(v.why, /cut off \(this node cannot reach etcd\)/);
    });
    await t.step(`${name}, a live member's share missing`, () => {
      const v = reconcileBounds(s, ctx("a", { unknownPeers: ["b", "c"] }), HERE);
      assert.equal(v.action, "none");
      assert.match(v.why, /view incomplete: no share yet from b, c/);
    });
    await t.step(`${name}, complete and reachable: acts`, () => {
      assert.notEqual(reconcileBounds(s, ctx("a"), HERE).action, "none");
    });
  }
});

Deno.test("reconcileBounds: this node's own actions of this loop count", () => {
  const s = svc({ perNode: nodes({ a: 0, b: 1, c: 0 }) });
  const first = reconcileBounds(s, ctx("a"), HERE);
  const chosen = first.action === "start" ? "a" : "not a";
  // Whoever was chosen, once a started one earlier in the loop the deficit is gone for a.
  const after = reconcileBounds(s, ctx("a"), { ...HERE, done: 1 });
  assert.equal(after.action, "none", chosen);
  assert.match(after.why, /within bounds: 2 in the cluster/);
});

Deno.test("reconcileBounds: the ranking spreads the work over the nodes", () => {
  const names = Array.from({ length: 5 }, (_, i) => `node-${i}`);
  const chosen = new Map<string, number>();
  for (let k = 0; k < 200; k++) {
    const s = svc({
      name: `svc-${k}`,
      min: 1,
      max: 1,
      perNode: nodes(Object.fromEntries(names.map((n) => [n, 0]))),
      canHost: names,
    });
    const acts = acting(all(s));
    assert.equal(Object.keys(acts).length, 1, `svc-${k}: exactly one node fills the deficit`);
    const who = Object.keys(acts)[0]!;
    chosen.set(who, (chosen.get(who) ?? 0) + 1);
  }
  // 200 services over 5 nodes: each node fills some (40 expected), none takes them all.
  for (const n of names) {
    const got = chosen.get(n) ?? 0;
    assert.ok(got >= 20 && got <= 60, `${n} filled ${got} of 200`);
  }
  assert.notEqual(rank("web", "a"), rank("db", "a"));
});

Deno.test("reconcileBounds: fills go to the nodes with the fewest instances, stops to the most", () => {
  const s = svc({ min: 4, max: 4, perNode: nodes({ a: 2, b: 0, c: 1 }) });
  assert.deepEqual(acting(all(s)), { b: "start 1" });
  const over = svc({ min: 1, max: 3, perNode: nodes({ a: 3, b: 1, c: 2 }) });
  const dealt = stoppers(over, ctx("a"), HERE, 3);
  assert.equal(dealt.get("a"), 2);
  assert.equal(dealt.get("c"), 1);
  assert.equal(dealt.get("b"), undefined);
});

/**
 * Many simulated rounds: N nodes, one service, random faults (instances killed or added behind
 * the reconciler's back, as a partition heal does); every node acts on a view in which each
 * peer's share (its count and its ledger) is independently fresh or one round old (gossip in
 * flight). Actions carry ages; the cooldowns are three rounds. Checked: the count ends within
 * bounds and stays there, and between two faults it is back within bounds in at most three
 * rounds and never crosses to the other side of the bounds (no herd, hence no oscillation).
 */
Deno.test("reconcileBounds: converges without oscillating over many simulated rounds", () => {
  for (let seed = 1; seed <= 40; seed++) {
    const prng = seededPrng(seed);
    const lagP = [0, 0.3, 0.7][seed % 3]!;
    const names = Array.from({ length: 2 + Math.floor(prng() * 5) }, (_, i) => `n${i}`);
    const min = Math.floor(prng() * 4);
    const max = min + Math.floor(prng() * 3) || (prng() < 0.5 ? 0 : min + 1);
    let now = new Map(names.map((n) => [n, Math.floor(prng() * 4)]));
    let before = new Map(now);
    const ledger: { origin: string; action: "start" | "stop"; round: number }[] = [];
    const ROUND = 1000;
    const total = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0);
    // totals[0] is the initial state, totals[r + 1] the state after round r.
    const totals: number[] = [total(now)];
    for (let round = 0; round < 60; round++) {
      if (round === 20 || round === 35) {
        // a fault: one node loses or gains instances
        const n = names[Math.floor(prng() * names.length)]!;
        now.set(n, Math.max(0, now.get(n)! + (prng() < 0.5 ? -2 : 2)));
      }
      const next = new Map(now);
      for (const self of names) {
        // Each peer's share independently fresh or one round old (its count and its ledger
        // travel together, as in a share).
        const stale = new Set(names.filter((n) => n !== self && prng() < lagP));
        const perNode: PerNode = {};
        for (const n of names) {
          const count = stale.has(n) ? before.get(n)! : now.get(n)!;
          perNode[n] = { instances: count, keep: 0, active: true };
        }
        const s: BoundsService = {
          name: "web",
          min,
          max,
          perNode,
          canHost: names,
          recent: ledger.filter((a) => !stale.has(a.origin) || a.round < round - 1)
            .map((a) => ({ origin: a.origin, action: a.action, age: (round - a.round) * ROUND })),
        };
        const v = reconcileBounds(
          s,
          ctx(self, { scaleOutCooldownMs: 3 * ROUND, scaleInCooldownMs: 3 * ROUND }),
          HERE,
        );
        if (v.action === "none") continue;
        const delta = v.action === "start" ? v.count : -v.count;
        next.set(self, next.get(self)! + delta);
        ledger.push({ origin: self, action: v.action, round });
      }
      before = now;
      now = next;
      totals.push(total(now));
    }
    const label = `seed ${seed}: [${min}, ${max}] on ${names.length} nodes, totals ${
      totals.join(",")
    }`;
    const last = totals.at(-1)!;
    assert.ok(last >= min && (max === 0 || last <= max), label);
    // Settled well before the end: the last 10 rounds saw no change.
    assert.ok(totals.slice(-10).every((x) => x === last), label);
    // Within each fault-free stretch (a fault lands before rounds 20 and 35): back within
    // bounds in at most 3 rounds, and never over to the other side of the bounds: no herd, no
    // overshoot, so nothing to oscillate between.
    for (const [from, to] of [[0, 21], [21, 36], [36, 61]] as const) {
      const stretch = totals.slice(from, to);
      const side = (x: number) => (x < min ? -1 : max > 0 && x > max ? 1 : 0);
      const sides = stretch.map(side).filter((x, i, arr) => i === 0 || x !== arr[i - 1]);
      assert.ok(sides.filter((x) => x !== 0).length <= 1, `${label}: sides ${sides}`);
      assert.ok(stretch.slice(3).every((x) => side(x) === 0), `${label}: slow from ${from}`);
    }
  }
});
