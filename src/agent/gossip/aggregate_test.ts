import assert from "node:assert/strict";
import { aggregateServices } from "./aggregate.ts";
import type { NodeShare, ServiceShare } from "./types.ts";

function node(
  origin: string,
  services: Record<string, ServiceShare>,
  extra: Partial<NodeShare> = {},
): NodeShare {
  return {
    origin,
    version: 1,
    time: 0,
    active: true,
    services,
    resources: { totalCpus: 8, freeCpus: 4, totalMemory: 100, freeMemory: 50 },
    actions: [],
    ...extra,
  };
}

function svc(running: number, extra: Partial<ServiceShare> = {}): ServiceShare {
  return { running, pending: 0, analytics: {}, cpuNumber: 1, ...extra };
}

Deno.test("aggregateServices: sums, nodes and running-weighted means", () => {
  const out = aggregateServices([
    node("a", { web: svc(1, { cpu_avg: 0.2, memory_avg: 0.1, analytics: { load: 1 } }) }),
    node("b", { web: svc(3, { cpu_avg: 0.6, memory_avg: 0.5, analytics: { load: 5, rt: 9 } }) }),
    // running 0: weight 0, its figures do not count; pending makes it a node of the service
    node("c", { web: svc(0, { pending: 2, cpu_avg: 0.9, analytics: { load: 100 } }) }),
    // running but cpu unknown: not in the cpu mean, but in the sums
    node("d", { web: svc(2, { memory_avg: 0.2 }) }),
    node("e", { web: svc(0) }),
  ]);
  const web = out.web;
  assert.ok(web !== undefined);
  assert.deepEqual(web.nodes, ["a", "b", "c", "d"]);
  assert.equal(web.running, 6);
  assert.equal(web.pending, 2);
  assert.ok(Math.abs((web.cpu_avg ?? NaN) - (1 * 0.2 + 3 * 0.6) / 4) < 1e-12);
  assert.ok(Math.abs((web.memory_avg ?? NaN) - (0.1 + 1.5 + 0.4) / 6) < 1e-12);
  assert.deepEqual(Object.keys(web.analytics).sort(), ["load", "rt"]);
  assert.ok(Math.abs((web.analytics.load ?? NaN) - (1 + 15) / 4) < 1e-12);
  assert.equal(web.analytics.rt, 9);
});

Deno.test("aggregateServices: unknown stays unknown (absent, not 0)", () => {
  const out = aggregateServices([
    node("a", { web: svc(2) }),
    node("b", { web: svc(0, { cpu_avg: 0.5, analytics: { load: 3 } }) }),
  ]);
  assert.ok(out.web !== undefined);
  assert.equal("cpu_avg" in out.web, false);
  assert.equal("memory_avg" in out.web, false);
  assert.deepEqual(out.web.analytics, {});
});

Deno.test("aggregateServices: canHost uses the largest cpuNumber and leaves inactive nodes out", () => {
  const free = (freeCpus: number) => ({ totalCpus: 8, freeCpus, totalMemory: 1, freeMemory: 1 });
  const out = aggregateServices([
    node("a", { web: svc(1, { cpuNumber: 1 }) }, { resources: free(1) }), // 1 < 2
    node("b", { web: svc(0, { cpuNumber: 2 }) }, { resources: free(2) }),
    node("c", { web: svc(0, { cpuNumber: 1 }) }, { resources: free(6) }),
    node("d", { web: svc(0) }, { resources: free(8), active: false }),
    node("e", { db: svc(0) }, { resources: free(8) }), // does not know web
  ]);
  assert.deepEqual(out.web?.canHost, ["b", "c"]);
  assert.deepEqual(out.db?.canHost, ["e"]);
});

Deno.test("aggregateServices: recentActions of every node, youngest first", () => {
  const out = aggregateServices([
    node("b", { web: svc(1) }, {
      time: 100,
      actions: [
        { service: "web", action: "start", time: 10, age: 90, reason: "scaleout" },
        { service: "db", action: "stop", time: 50, age: 50, reason: "scalein" },
        { service: "web", action: "stop", time: 30, age: 70, reason: "scalein" },
      ],
    }),
    node("a", { web: svc(1), db: svc(0) }, {
      time: 100,
      actions: [
        { service: "web", action: "start", time: 30, age: 70, reason: "tie" },
        // an older agent states no age: the origin's publish time minus the action's time
        { service: "web", action: "start", time: 20, reason: "scaleout" },
      ],
    }),
  ]);
  assert.deepEqual(out.web?.recentActions, [
    { origin: "a", action: "start", time: 30, age: 70, reason: "tie" },
    { origin: "b", action: "stop", time: 30, age: 70, reason: "scalein" },
    { origin: "a", action: "start", time: 20, age: 80, reason: "scaleout" },
    { origin: "b", action: "start", time: 10, age: 90, reason: "scaleout" },
  ]);
  assert.deepEqual(out.db?.recentActions, [
    { origin: "b", action: "stop", time: 50, age: 50, reason: "scalein" },
  ]);
});

Deno.test("aggregateServices: ages are receipt-relative, so peers' clock offsets cancel out", () => {
  // Node b's clock is 20 s ahead, node c's 25 s behind; both started web 2 s before they
  // published, and this node accepted their shares 1 s ago (its clock reads 1_000_000).
  const now = 1_000_000;
  const share = (origin: string, offset: number) =>
    node(origin, { web: svc(1) }, {
      time: now - 1000 + offset,
      actions: [{
        service: "web",
        action: "start",
        time: now - 3000 + offset,
        age: 2000,
        reason: "x",
      }],
    });
  const received = new Map([["b", now - 1000], ["c", now - 1000], ["a", now]]);
  const out = aggregateServices([share("b", 20_000), share("c", -25_000)], {
    now,
    receivedAt: (o) => received.get(o),
  });
  assert.deepEqual(out.web?.recentActions.map((a) => [a.origin, a.age]), [["b", 3000], [
    "c",
    3000,
  ]]);
  // Without receipt times, the age stated at publication.
  const bare = aggregateServices([share("b", 20_000)]);
  assert.equal(bare.web?.recentActions[0]?.age, 2000);
});

Deno.test("aggregateServices: perNode holds each origin's instances, floor and activity", () => {
  const out = aggregateServices([
    node("a", { web: svc(2, { pending: 1, keep: 1 }) }),
    node("b", { web: svc(0) }, { active: false }),
  ]);
  assert.deepEqual(out.web?.perNode, {
    a: { instances: 3, keep: 1, active: true },
    b: { instances: 0, keep: 0, active: false },
  });
});

Deno.test("aggregateServices: services known anywhere appear; no entries gives nothing", () => {
  assert.deepEqual(aggregateServices([]), {});
  const out = aggregateServices([node("a", { web: svc(1) }), node("b", { mystery: svc(2) })]);
  assert.deepEqual(Object.keys(out).sort(), ["mystery", "web"]);
  assert.deepEqual(out.mystery?.nodes, ["b"]);
});
