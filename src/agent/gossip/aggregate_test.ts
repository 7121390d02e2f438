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

Deno.test("aggregateServices: recentActions of every node, newest first", () => {
  const out = aggregateServices([
    node("b", { web: svc(1) }, {
      actions: [
        { service: "web", action: "start", time: 10, reason: "scaleout" },
        { service: "db", action: "stop", time: 50, reason: "scalein" },
        { service: "web", action: "stop", time: 30, reason: "scalein" },
      ],
    }),
    node("a", { web: svc(1), db: svc(0) }, {
      actions: [
        { service: "web", action: "start", time: 30, reason: "tie" },
        { service: "web", action: "start", time: 20, reason: "scaleout" },
      ],
    }),
  ]);
  assert.deepEqual(out.web?.recentActions, [
    { origin: "a", action: "start", time: 30, reason: "tie" },
    { origin: "b", action: "stop", time: 30, reason: "scalein" },
    { origin: "a", action: "start", time: 20, reason: "scaleout" },
    { origin: "b", action: "start", time: 10, reason: "scaleout" },
  ]);
  assert.deepEqual(out.db?.recentActions, [
    { origin: "b", action: "stop", time: 50, reason: "scalein" },
  ]);
});

Deno.test("aggregateServices: services known anywhere appear; no entries gives nothing", () => {
  assert.deepEqual(aggregateServices([]), {});
  const out = aggregateServices([node("a", { web: svc(1) }), node("b", { mystery: svc(2) })]);
  assert.deepEqual(Object.keys(out).sort(), ["mystery", "web"]);
  assert.deepEqual(out.mystery?.nodes, ["b"]);
});
