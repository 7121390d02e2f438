import assert from "node:assert/strict";
import { coordinate, type CoordinationInput } from "./coordination.ts";
import type { Candidate } from "../planner/types.ts";
import { descriptor } from "../../../tests/helpers/planner_fixtures.ts";
import { seededPrng } from "../../domain/random.ts";

const cand = (name: Candidate["name"], targets: string[]): Candidate => ({
  name,
  targets,
  weight: 0.9,
  actions: {},
  reasons: [],
});

function input(over: Partial<CoordinationInput> = {}): CoordinationInput {
  const web = { ...descriptor("web", { cpuNumber: 1 }), minInstances: 1, maxInstances: 4 };
  return {
    chosen: cand("scaleout", ["web"]),
    self: "n1",
    now: 100_000,
    prng: () => 0.1,
    cluster: {
      web: {
        nodes: ["n1", "n2"],
        running: 2,
        pending: 0,
        canHost: ["n1", "n2", "n3"],
        recentActions: [],
      },
    },
    services: new Map([["web", web]]),
    scaleOutCooldownMs: 10_000,
    scaleInCooldownMs: 30_000,
    ...over,
  };
}

const cases: { name: string; in: CoordinationInput; ok: boolean; reason?: RegExp }[] = [
  { name: "a draw under 1/m acts", in: input(), ok: true },
  {
    name: "a draw over 1/m yields to peers",
    in: input({ prng: () => 0.5 }),
    ok: false,
    reason: /yielding to peers: 3 nodes could start web, p=0\.33, draw 0\.50/,
  },
  {
    name: "alone, a node always acts",
    in: input({
      prng: () => 0.99,
      cluster: {
        web: { nodes: ["n1"], running: 1, pending: 0, canHost: ["n1"], recentActions: [] },
      },
    }),
    ok: true,
  },
  {
    name: "cluster max counts every node's instances",
    in: input({
      cluster: {
        web: { nodes: ["n1", "n2"], running: 3, pending: 1, canHost: ["n1"], recentActions: [] },
      },
    }),
    ok: false,
    reason: /cluster max of web reached: 4 of 4 instances/,
  },
  {
    name: "another node's recent start is a cluster cooldown",
    in: input({
      cluster: {
        web: {
          nodes: ["n1", "n2"],
          running: 2,
          pending: 0,
          canHost: ["n1"],
          recentActions: [{ origin: "n2", action: "start", age: 3_000, reason: "scaleout" }],
        },
      },
    }),
    ok: false,
    reason: /cluster cooldown: n2 started web 3\.0 s ago/,
  },
  {
    name: "this node's own start is not a cluster cooldown (local guards handle it)",
    in: input({
      prng: () => 0,
      cluster: {
        web: {
          nodes: ["n1"],
          running: 1,
          pending: 0,
          canHost: ["n1"],
          recentActions: [{ origin: "n1", action: "start", age: 1_000, reason: "scaleout" }],
        },
      },
    }),
    ok: true,
  },
  {
    name: "a partitioned node never scales in",
    in: input({ chosen: cand("scalein", ["web"]), partitioned: "etcd unreachable" }),
    ok: false,
    reason: /no scale-in: etcd unreachable/,
  },
  {
    name: "scale-in stops at the cluster-wide min",
    in: input({
      chosen: cand("scalein", ["web"]),
      cluster: {
        web: { nodes: ["n1"], running: 1, pending: 0, canHost: [], recentActions: [] },
      },
    }),
    ok: false,
    reason: /cluster min of web: 1 of min 1/,
  },
  {
    name: "no decision scales out below the cluster min: the reconciliation fills it",
    in: input({
      services: new Map([["web", {
        ...descriptor("web", { cpuNumber: 1 }),
        minInstances: 3,
        maxInstances: 3,
      }]]),
    }),
    ok: false,
    reason: /web has 2 instances in the cluster for \[3, 3\]: the bounds reconciliation fills/,
  },
  {
    name: "no decision scales in above the cluster max: the reconciliation stops the excess",
    in: input({
      chosen: cand("scalein", ["web"]),
      prng: () => 0,
      cluster: {
        web: { nodes: ["n1", "n2"], running: 5, pending: 0, canHost: [], recentActions: [] },
      },
    }),
    ok: false,
    reason: /web has 5 instances in the cluster for \[1, 4\]: the bounds reconciliation stops/,
  },
  {
    name: "scale-in gate counts the nodes running the service",
    in: input({ chosen: cand("scalein", ["web"]), prng: () => 0.6 }),
    ok: false,
    reason: /2 nodes could stop web, p=0\.50/,
  },
];

for (const c of cases) {
  Deno.test(`coordinate() ${c.name}`, () => {
    const r = coordinate(c.in);
    assert.equal(r.ok, c.ok, JSON.stringify(r));
    if (!r.ok && c.reason) assert.match(r.reason, c.reason);
  });
}

Deno.test("coordinate() lets about one of m nodes act (1000 seeded trials)", () => {
  const prng = seededPrng(1);
  let acted = 0;
  for (let i = 0; i < 1000; i++) if (coordinate(input({ prng })).ok) acted++;
  assert.ok(acted > 280 && acted < 390, `${acted} of 1000 ≈ 1/3`);
});
