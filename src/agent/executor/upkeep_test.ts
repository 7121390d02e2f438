import assert from "node:assert/strict";
import { descriptor } from "../../../tests/helpers/planner_fixtures.ts";
import type { ClusterService } from "../gossip/aggregate.ts";
import type { ActionRecord } from "../record/decisions.ts";
import type { Actuator } from "./actuator.ts";
import { type ClusterBoundsInput, keepClusterBounds } from "./upkeep.ts";

function seen(perNode: Record<string, number>, keep: Record<string, number> = {}): ClusterService {
  const nodes = Object.keys(perNode);
  return {
    nodes: nodes.filter((n) => perNode[n]! > 0),
    running: Object.values(perNode).reduce((a, b) => a + b, 0),
    pending: 0,
    analytics: {},
    canHost: nodes,
    perNode: Object.fromEntries(
      nodes.map((n) => [n, { instances: perNode[n]!, keep: keep[n] ?? 0, active: true }]),
    ),
    recentActions: [],
  };
}

function input(over: Partial<ClusterBoundsInput> = {}): ClusterBoundsInput {
  return {
    self: "n1",
    unknownPeers: [],
    scaleOutCooldownMs: 10_000,
    scaleInCooldownMs: 20_000,
    services: new Map([["web", descriptor("web", { minInstances: 2, maxInstances: 2 })]]),
    cluster: { web: seen({ n1: 3, n2: 1 }) },
    baseServices: [],
    done: [],
    canHost: () => true,
    ...over,
  };
}

function recorder(): { act: Actuator; calls: string[] } {
  const calls: string[] = [];
  const act: Actuator = (svc, action, why) => {
    calls.push(`${action} ${svc.name}: ${why}`);
    return Promise.resolve({ service: svc.name, action, ok: true, why } as ActionRecord);
  };
  return { act, calls };
}

Deno.test("keepClusterBounds stops this node's share of the excess", async () => {
  const { act, calls } = recorder();
  const out = await keepClusterBounds(input(), act);
  // 4 for a max of 2: both stops are dealt to n1, which holds 3.
  assert.deepEqual(calls, [
    "stop web: cluster max: 4 in the cluster for [2, 2]",
    "stop web: cluster max: 4 in the cluster for [2, 2]",
  ]);
  assert.equal(out.length, 2);
});

Deno.test("keepClusterBounds never stops below this node's base-service floor", async () => {
  const { act, calls } = recorder();
  await keepClusterBounds(
    input({ baseServices: ["web"], cluster: { web: seen({ n1: 2, n2: 1 }) } }),
    act,
  );
  // n1 keeps its 2 (base service, MinInstances 2): the excess is n2's to stop.
  assert.deepEqual(calls, []);
});

Deno.test("keepClusterBounds counts what this loop already did", async () => {
  const { act, calls } = recorder();
  const done: ActionRecord[] = [{ service: "web", action: "stop", ok: true, why: "scalein" }];
  await keepClusterBounds(input({ done, cluster: { web: seen({ n1: 2, n2: 1 }) } }), act);
  assert.deepEqual(calls, [], "the scale-in of this loop already closed the gap");
});

Deno.test("keepClusterBounds fills a deficit only from the node the ranking picks", async () => {
  const picks: string[] = [];
  for (const self of ["n1", "n2", "n3"]) {
    const { act, calls } = recorder();
    await keepClusterBounds(
      input({ self, cluster: { web: seen({ n1: 1, n2: 0, n3: 0 }) } }),
      act,
    );
    if (calls.length > 0) picks.push(self);
  }
  assert.equal(picks.length, 1, `one node of n2, n3 starts the missing one: ${picks}`);
  assert.notEqual(picks[0], "n1", "n1 already holds one");
});
