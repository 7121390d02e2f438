/** The plan phase (plan_step.ts): schedules, the strategy, shadows and the fast path together. */

import assert from "node:assert/strict";
import {
  parseAgentConfig,
  parsePolicyConfig,
  parseServiceDescriptor,
} from "../config/documents.ts";
import { seededPrng } from "../domain/random.ts";
import type { MergedView } from "./gossip/merge.ts";
import type { LoopState } from "./loop.ts";
import { PlanStep } from "./plan_step.ts";

const MONDAY_10_UTC = Date.parse("2026-03-23T10:00:00Z");

function setup(autonomic: Record<string, unknown>, cpu: number) {
  const web = parseServiceDescriptor({
    Name: "web",
    Image: "img",
    MinInstances: 1,
    Scaling: {
      Target: { Metric: "cpu_avg", Value: 0.5 },
      Schedules: [{
        Name: "office-hours",
        Start: "0 8 * * 1-5",
        End: "0 18 * * 1-5",
        TimeZone: "Europe/Berlin",
        MinInstances: 3,
      }],
    },
  }, "web.json");
  const state: LoopState = {
    node: "n1",
    config: parseAgentConfig({ Autonomic: autonomic }, "config.json"),
    policy: parsePolicyConfig({
      Scaleout: { Enable: true, Threshold: 0.8, Metrics: ["cpu_avg"] },
      Scalein: { Enable: true, Threshold: 0.3, Metrics: ["cpu_avg"] },
    }, "policy.json"),
    services: new Map([["web", web]]),
    analytics: new Map(),
    constraints: { cpuMin: 0, cpuMax: 0, baseServices: [] },
    dryRun: false,
  };
  const merged: MergedView = {
    cluster: {},
    planner: {
      web: {
        descriptor: web,
        local: { running: 4, pending: 0 },
        cluster: {
          base: { cpu_avg: cpu, memory_avg: 0.1 },
          user: {},
          active: true,
          instances: 4,
          running: 4,
          pending: 0,
        },
      },
    },
    partitioned: undefined,
    unknownPeers: [],
  };
  const node = { totalCpus: 8, freeCpus: 4, totalMemory: 8e9, freeMemory: 4e9, baseServices: [] };
  return { state, merged, node };
}

Deno.test("PlanStep: shadows do not change the chosen decision nor its draws", () => {
  const plain = setup({ PlannerStrategy: "probdelta" }, 0.1);
  const shadowed = setup(
    { PlannerStrategy: "probdelta", ShadowStrategies: ["target", "dummy"] },
    0.1,
  );
  const p1 = seededPrng(42);
  const p2 = seededPrng(42);
  const common = { now: MONDAY_10_UTC, monotonic: 0 };
  const a = new PlanStep().run({ ...plain, prng: p1, ...common });
  const b = new PlanStep().run({ ...shadowed, prng: p2, ...common });
  assert.deepEqual(a.decision, b.decision);
  assert.equal(p1(), p2(), "the same draws were taken");
  assert.deepEqual(a.shadows, []);
  assert.deepEqual(b.shadows.map((s) => [s.strategy, s.policy]), [
    ["target", "scalein"],
    ["dummy", "scalein"],
  ]);
  assert.equal(b.shadows[0]!.desired, 3, "⌈4 × 0.1 / 0.5⌉ = 1, floored at the schedule's 3");
});

Deno.test("PlanStep: a schedule in force narrows the bounds the strategy sees, and is named", () => {
  const s = setup({ PlannerStrategy: "target" }, 0.1);
  const office = new PlanStep().run({
    ...s,
    prng: seededPrng(1),
    now: MONDAY_10_UTC,
    monotonic: 0,
  });
  assert.equal(office.decision.chosen.track?.desired, 3);
  assert.equal(office.decision.chosen.track?.heldBy, "bounds");
  assert.deepEqual(office.schedules.web?.names, ["office-hours"]);
  assert.equal(office.schedules.web?.min, 3);
  assert.equal(office.services.get("web")?.minInstances, 3);
  const night = new PlanStep().run({
    ...s,
    prng: seededPrng(1),
    now: MONDAY_10_UTC + 12 * 3600_000,
    monotonic: 0,
  });
  assert.equal(night.decision.chosen.track?.desired, 1);
  assert.deepEqual(night.schedules, {});
});

Deno.test("PlanStep: a fast-path tick never scales in", () => {
  for (const strategy of ["probdelta", "target"]) {
    const s = setup({ PlannerStrategy: strategy }, 0.05);
    const night = MONDAY_10_UTC + 12 * 3600_000;
    const normal = new PlanStep().run({ ...s, prng: seededPrng(1), now: night, monotonic: 0 });
    assert.equal(normal.decision.chosen.name, "scalein", strategy);
    const fast = new PlanStep().run({
      ...s,
      prng: seededPrng(1),
      now: night,
      monotonic: 0,
      fast: true,
    });
    assert.equal(fast.decision.chosen.name, "noaction", strategy);
  }
});

Deno.test("PlanStep: a fast-path tick takes the scale-out whatever a random strategy draws", () => {
  const night = MONDAY_10_UTC + 12 * 3600_000;
  for (const strategy of ["probdelta", "probcumulative"]) {
    const s = setup({ PlannerStrategy: strategy }, 0.85);
    let normalIdle = 0;
    let overridden = 0;
    for (let seed = 1; seed <= 40; seed++) {
      const common = { ...s, now: night, monotonic: 0 };
      const normal = new PlanStep().run({ ...common, prng: seededPrng(seed) });
      if (normal.decision.chosen.name === "noaction") normalIdle++;
      const fast = new PlanStep().run({ ...common, prng: seededPrng(seed), fast: true });
      assert.equal(fast.decision.chosen.name, "scaleout", `${strategy}, seed ${seed}`);
      assert.deepEqual(fast.decision.chosen.targets, ["web"]);
      const note = fast.decision.chosen.reasons.at(-1)!;
      if (/fast path: the margin was crossed/.test(note)) overridden++;
      assert.equal(normal.decision.chosen.reasons.some((r) => r.startsWith("fast path")), false);
    }
    assert.ok(normalIdle > 0, `${strategy}: a regular tick sometimes draws no action`);
    assert.ok(overridden > 0, `${strategy}: some fast ticks overrode the draw, and say so`);
  }
});
