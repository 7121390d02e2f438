/** Target tracking (target_tracking.ts) and its anti-flapping knobs, on times passed in. */

import assert from "node:assert/strict";
import { parsePolicyConfig, parseServiceDescriptor } from "../../config/documents.ts";
import { seededPrng } from "../../domain/random.ts";
import { RecommendationLog } from "./anti_flap.ts";
import { plan } from "./plan.ts";
import { type TrackContext, trackingCandidates, trackService } from "./target_tracking.ts";
import type { PlannerInput, ServiceState } from "./types.ts";

const DEFAULTS = { scaleOutCooldown: 10, scaleInCooldown: 30, scaleInStabilization: 0 };

function state(
  scaling: Record<string, unknown>,
  figures: { cpu?: number; running: number; pending?: number; min?: number; max?: number },
): ServiceState {
  const descriptor = parseServiceDescriptor({
    Name: "web",
    Image: "img",
    MinInstances: figures.min ?? 0,
    MaxInstances: figures.max ?? 0,
    Analytics: ["rps_per_instance"],
    Scaling: { Target: { Metric: "cpu_avg", Value: 0.5 }, ...scaling },
  }, "web.json");
  return {
    descriptor,
    local: { running: figures.running, pending: figures.pending ?? 0 },
    cluster: {
      base: { cpu_avg: figures.cpu, memory_avg: undefined },
      user: { rps_per_instance: 120 },
      active: true,
      instances: figures.running + (figures.pending ?? 0),
      running: figures.running,
      pending: figures.pending ?? 0,
    },
  };
}

function ctx(now = 0, log = new RecommendationLog()): TrackContext {
  return { now, log, defaults: DEFAULTS };
}

Deno.test("trackService() applies desired = ⌈current × value / target⌉ cluster-wide", () => {
  const t = trackService("web", state({}, { cpu: 0.9, running: 4 }), ctx())!;
  assert.equal(t.formula, 8); // ⌈4 × 0.9 / 0.5⌉ = ⌈7.2⌉
  assert.equal(t.desired, 8);
  assert.equal(t.step, 4);
  assert.equal(t.heldBy, undefined);
  assert.match(t.why, /⌈4 × 0\.9 \/ 0\.5⌉ = 8/);
  const down = trackService("web", state({}, { cpu: 0.1, running: 4 }), ctx())!;
  assert.equal(down.desired, 1);
  assert.equal(down.step, -3);
});

Deno.test("trackService() reads an analytic when the metric is not a base metric", () => {
  const s = state({ Target: { Metric: "rps_per_instance", Value: 100 } }, { running: 5 });
  const t = trackService("web", s, ctx())!;
  assert.equal(t.value, 120);
  assert.equal(t.desired, 6);
});

Deno.test("trackService() holds on an unknown value or with nothing running", () => {
  const unknown = trackService("web", state({}, { running: 3 }), ctx())!;
  assert.equal(unknown.step, 0);
  assert.equal(unknown.heldBy, "unknown");
  assert.match(unknown.why, /cpu_avg unknown/);
  const none = trackService("web", state({}, { cpu: 0.9, running: 0, pending: 1 }), ctx())!;
  assert.equal(none.step, 0);
  assert.equal(none.heldBy, "unknown");
});

Deno.test("trackService() counts pending as 0 % on the way up and 100 % on the way down", () => {
  // 4 running at 0.75 of a 0.5 target ask for 6; 2 already pending cover it.
  const up = trackService("web", state({}, { cpu: 0.75, running: 4, pending: 2 }), ctx())!;
  assert.equal(up.step, 0);
  assert.equal(up.heldBy, "pending");
  // 2 running idle with 2 pending: ⌈2 × 0.1 / 0.5⌉ = 1, + 2 pending = 3 of 4.
  const down = trackService("web", state({}, { cpu: 0.1, running: 2, pending: 2 }), ctx())!;
  assert.equal(down.desired, 3);
  assert.equal(down.step, -1);
});

Deno.test("Tolerance: per direction, a deviation within it keeps the count", () => {
  const cases = [
    { name: "up within 0.1", cpu: 0.54, scaling: {}, step: 0 },
    { name: "up over 0.1", cpu: 0.56, scaling: {}, step: 2 },
    { name: "up with tolerance 0", cpu: 0.51, scaling: { ScaleOut: { Tolerance: 0 } }, step: 1 },
    { name: "down within 0.3", cpu: 0.36, scaling: { ScaleIn: { Tolerance: 0.3 } }, step: 0 },
    { name: "down over 0.3", cpu: 0.3, scaling: { ScaleIn: { Tolerance: 0.3 } }, step: -4 },
  ];
  for (const c of cases) {
    const t = trackService("web", state(c.scaling, { cpu: c.cpu, running: 10 }), ctx())!;
    assert.equal(t.step, c.step, c.name);
    if (c.step === 0) assert.equal(t.heldBy, "tolerance", c.name);
  }
});

Deno.test("StabilizationWindow: scale-in takes the highest recommendation of the window", () => {
  const log = new RecommendationLog();
  const scaling = { ScaleIn: { StabilizationWindow: 60 } };
  const busy = trackService("web", state(scaling, { cpu: 0.5, running: 4 }), ctx(0, log))!;
  assert.equal(busy.step, 0);
  const quiet = trackService("web", state(scaling, { cpu: 0.1, running: 4 }), ctx(30_000, log))!;
  assert.equal(quiet.formula, 1);
  assert.equal(quiet.step, 0, "4 was recommended 30 s ago");
  assert.equal(quiet.heldBy, "stabilization");
  assert.match(quiet.why, /stabilization window 60 s keeps 4/);
  const later = trackService("web", state(scaling, { cpu: 0.1, running: 4 }), ctx(61_000, log))!;
  assert.equal(later.desired, 1, "the busy recommendation left the window");
});

Deno.test("StabilizationWindow: scale-out takes the lowest recommendation of its window", () => {
  const log = new RecommendationLog();
  const scaling = { ScaleOut: { StabilizationWindow: 20 } };
  trackService("web", state(scaling, { cpu: 0.5, running: 2 }), ctx(0, log));
  const spike = trackService("web", state(scaling, { cpu: 1, running: 2 }), ctx(5_000, log))!;
  assert.equal(spike.step, 0);
  assert.equal(spike.heldBy, "stabilization");
  const held = trackService("web", state(scaling, { cpu: 1, running: 2 }), ctx(21_000, log))!;
  assert.equal(held.desired, 4);
});

Deno.test("MaxStep: a count or a percent of the current count per action", () => {
  const count = trackService(
    "web",
    state({ ScaleOut: { MaxStep: 2 } }, { cpu: 1, running: 4 }),
    ctx(),
  )!;
  assert.equal(count.formula, 8);
  assert.equal(count.desired, 6);
  assert.equal(count.heldBy, "maxStep");
  assert.match(count.why, /max step 2 per action: 6/);
  const pct = trackService(
    "web",
    state({ ScaleIn: { MaxStep: "50%" } }, { cpu: 0.05, running: 10 }),
    ctx(),
  )!;
  assert.equal(pct.desired, 5);
  assert.equal(pct.heldBy, "maxStep");
  const small = trackService(
    "web",
    state({ ScaleOut: { MaxStep: "10%" } }, { cpu: 1, running: 2 }),
    ctx(),
  )!;
  assert.equal(small.step, 1, "a percent allows at least one");
});

Deno.test("bounds: desired stays in [MinInstances, MaxInstances]; outside, the reconciliation acts", () => {
  const capped = trackService("web", state({}, { cpu: 1, running: 3, max: 4 }), ctx())!;
  assert.equal(capped.desired, 4);
  assert.equal(capped.heldBy, "bounds");
  const floored = trackService("web", state({}, { cpu: 0.05, running: 3, min: 2 }), ctx())!;
  assert.equal(floored.desired, 2);
  const below = trackService("web", state({}, { cpu: 1, running: 1, min: 2 }), ctx())!;
  assert.equal(below.step, 0);
  assert.match(below.why, /bounds reconciliation/);
});

Deno.test("trackingCandidates() chooses the largest relative step and explains the rest", () => {
  const input: PlannerInput = {
    services: {
      web: state({}, { cpu: 0.9, running: 2 }),
      api: { ...state({}, { cpu: 0.5, running: 2 }) },
    },
    node: { totalCpus: 4, freeCpus: 4, totalMemory: 1e9, freeMemory: 1e9, baseServices: [] },
    policy: parsePolicyConfig({}, "policy.json"),
  };
  const { candidates, chosen } = trackingCandidates(input, ctx());
  assert.equal(chosen.name, "scaleout");
  assert.deepEqual(chosen.targets, ["web"]);
  assert.equal(chosen.track?.step, 2);
  const idle = candidates.at(-1)!;
  assert.equal(idle.name, "noaction");
  assert.match(
    idle.reasons.join(),
    /api: cpu_avg 0\.5 for target 0\.5: ratio 1 within tolerance 0\.1/,
  );
});

Deno.test("plan() with the target strategy draws nothing and records the tracking", () => {
  const input: PlannerInput = {
    services: { web: state({}, { cpu: 0.1, running: 4 }) },
    node: { totalCpus: 4, freeCpus: 4, totalMemory: 1e9, freeMemory: 1e9, baseServices: [] },
    policy: parsePolicyConfig({}, "policy.json"),
  };
  let draws = 0;
  const prng = seededPrng(1);
  const d = plan(input, { strategy: "target", prng: () => (draws++, prng()) });
  assert.equal(draws, 0);
  assert.equal(d.draw, undefined);
  assert.equal(d.chosen.name, "scalein");
  assert.equal(d.chosen.track?.desired, 1);
});
