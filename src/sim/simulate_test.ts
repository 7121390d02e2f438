import assert from "node:assert/strict";
import { seededPrng } from "../domain/random.ts";
import { mmcResponseTime, sampleWork, stepSecond } from "./model.ts";
import { renderJson, renderSvg, renderTable } from "./report.ts";
import { DEFAULT_SETTINGS, type SimSettings, simulate } from "./simulate.ts";
import { builtinTrace, type Trace } from "./traces.ts";
import { simStrategies } from "./controllers.ts";

/**
 * The hand-checkable setting: no measurement noise, S = 5 s, one request at a time per
 * instance, 5 s start-up, a loop every 10 s over a 5 s window.
 */
const HAND: SimSettings = {
  ...DEFAULT_SETTINGS,
  measurement: "exact",
  serviceTime: 5,
  capacity: 1,
  startup: 5,
  maxResponseTime: 15,
  nodes: 1,
  coresPerNode: 4,
  interval: 10,
  window: 5,
  scaleOutCooldown: 10,
  scaleInCooldown: 10,
  scaleInStabilization: 10,
  scaleOutThreshold: 0.75,
  scaleInThreshold: 0.35,
  targetUtilization: 0.6,
};

/** 30 s at 0.1 rps, then 60 s at 0.2 rps. */
const SMALL: Trace = {
  name: "small",
  rps: [...new Array(30).fill(0.1), ...new Array(60).fill(0.2)],
};

Deno.test("simulate: the small trace's figures, computed by hand, for threshold, probdelta, target and hpa", () => {
  // By hand (one node, one instance at the start, ticks at s = 0, 10, 20, …):
  // - s 0–29: λ = 0.1, work λS = 0.5 per second on 1 instance: utilization 0.5; the M/M/1
  //   response time S / (1 − ρ) = 5 / 0.5 = 10 s ≤ 15: no violation. The ticks at 0 (no data
  //   yet: cpu_avg unknown), 10, 20 and 30 (window 25–29, 0.5) do nothing: 0.5 is neither over
  //   0.75 nor under 0.35, and hpa's ⌈1 × 0.5 / 0.6⌉ = 1.
  // - s 30–44: λ = 0.2, work 1.0 on 1 instance: ρ = 1, the queue is unstable (response time
  //   infinite): 15 violation seconds (30 … 44).
  // - tick 40 (window 35–39, utilization 1.0): threshold and probdelta see scale-out weight
  //   (1 − 0.75) / 0.25 = 1 (noaction 0, so probdelta's draw cannot miss it); the guards have
  //   no history and coordination has one node (p = 1): start. hpa: ⌈1 × 1.0 / 0.6⌉ = 2: start.
  //   target: ratio 1.0 / 0.6 = 1.67, outside the 0.1 tolerance, ⌈1 × 1.67⌉ = 2, no scale-out
  //   stabilization, step +1, no cooldown yet, this node's share is 1: start. (At 10–30 its
  //   ratio 0.83 gives ⌈0.83⌉ = 1 = current: no step.) The new instance is pending until 45.
  // - s 45–89: 2 instances, ρ = 0.5, 10 s: no violation; ticks 50–80 see 0.5: nothing (hpa:
  //   ⌈2 × 0.5 / 0.6⌉ = 2; target: ⌈2 × 0.83⌉ = 2).
  // Instance-seconds: 40 × 1 (s 0–39) + 50 × 2 (s 40–89, pending included) = 140.
  const run = simulate(SMALL, ["threshold", "probdelta", "target", "hpa"], HAND, 7);
  for (const r of run.results) {
    assert.deepEqual(
      {
        instanceSeconds: r.instanceSeconds,
        sloViolationSeconds: r.sloViolationSeconds,
        actions: r.actions,
        maxInstances: r.maxInstances,
      },
      { instanceSeconds: 140, sloViolationSeconds: 15, actions: 1, maxInstances: 2 },
      r.strategy,
    );
    assert.deepEqual(r.log.map((a) => [a.second, a.node, a.action]), [[40, "n1", "start"]]);
  }
  assert.match(run.results[0]!.log[0]!.why, /scaleout \(weight 1\.00\): cpu_avg 1 over threshold/);
  assert.match(run.results[2]!.log[0]!.why, /^target: desired 2; my share of \+1: 1/);
  assert.match(run.results[3]!.log[0]!.why, /hpa: ⌈1 × 1\.000 \/ 0\.6⌉ = 2/);
});

Deno.test("simulate: the guards hold Gru's scale-in back where plain hpa acts at once", () => {
  // 0.6 rps (3 busy instances) for 20 s, then 0.05 rps: hpa drops at its first tick on the low
  // load; Gru's scale-in must be wanted for the 10 s stabilization window first, then waits the
  // 10 s cooldown between two stops.
  const busy = simulate(
    { name: "up-then-idle", rps: [...new Array(20).fill(0.6), ...new Array(60).fill(0.05)] },
    ["threshold", "hpa"],
    { ...HAND, startup: 0 },
    1,
  );
  const [gru, hpa] = busy.results;
  const gruStops = gru!.log.filter((a) => a.action === "stop").map((a) => a.second);
  const hpaStops = hpa!.log.filter((a) => a.action === "stop").map((a) => a.second);
  assert.ok(hpaStops.length > 0 && gruStops.length > 0, JSON.stringify({ gruStops, hpaStops }));
  assert.ok(gruStops[0]! > hpaStops[0]!, "the stabilization window delays Gru's first stop");
  for (let i = 1; i < gruStops.length; i++) {
    assert.ok(gruStops[i]! - gruStops[i - 1]! >= 10, "one scale-in per cooldown");
  }
});

Deno.test("simulate: the same seed gives byte-identical output; another seed differs", () => {
  const settings = { ...DEFAULT_SETTINGS, nodes: 3, coresPerNode: 6 };
  const once = simulate(builtinTrace("spike"), ["probdelta", "hpa"], settings, 42);
  const again = simulate(builtinTrace("spike"), ["probdelta", "hpa"], settings, 42);
  assert.equal(renderJson(again), renderJson(once));
  assert.equal(renderTable(again), renderTable(once));
  assert.equal(renderSvg(again), renderSvg(once));
  const other = simulate(builtinTrace("spike"), ["probdelta", "hpa"], settings, 43);
  assert.notEqual(renderJson(other), renderJson(once));
});

Deno.test("simulate: several nodes share the work through coordination and stay within the cores", () => {
  const run = simulate(builtinTrace("step"), ["threshold"], {
    ...DEFAULT_SETTINGS,
    nodes: 3,
    coresPerNode: 5,
  }, 3);
  const r = run.results[0]!;
  const nodes = new Set(r.log.filter((a) => a.action === "start").map((a) => a.node));
  assert.ok(nodes.size >= 2, `starts on ${[...nodes].join(", ")}`);
  assert.ok(r.maxInstances <= 15, "never more instances than cores");
});

Deno.test("simulate: unknown strategy and bad settings are refused with the known names", () => {
  assert.throws(
    () => simulate(SMALL, ["nope"], HAND, 1),
    /Unknown strategy "nope": expected one of .*probdelta.*hpa/,
  );
  assert.throws(() => simulate(SMALL, ["hpa"], { ...HAND, interval: 0 }, 1), /Invalid interval 0/);
  assert.throws(
    () => simulate(SMALL, ["hpa"], { ...HAND, targetUtilization: 1.5 }, 1),
    /Invalid targetUtilization/,
  );
  assert.ok(simStrategies().has("probdelta") && simStrategies().has("hpa"));
});

Deno.test("model: M/M/c response time and the backlog, by hand", () => {
  // M/M/1, a = 0.5: S / (1 − 0.5) = 10.
  assert.equal(mmcResponseTime(0.5, 1, 5), 10);
  // M/M/2, a = 1: Σ_{k<2} a^k/k! = 2, a²/2! · 2/(2 − 1) = 1, Erlang C = 1/3;
  // R = 5 + (1/3) · 5 / (2 − 1) = 6.667.
  assert.ok(Math.abs(mmcResponseTime(1, 2, 5) - (5 + 5 / 3)) < 1e-12);
  assert.equal(mmcResponseTime(2, 2, 5), Infinity);
  const model = { ...HAND, serviceTime: 1 };
  const state = { backlog: 0, sampledBacklog: 0 };
  // 2 rps of 1 s work on one instance: 1 served, 1 left over, unstable.
  const over = stepSecond(model, state, 2, 1, 2);
  assert.deepEqual([over.utilization, state.backlog, over.violation], [1, 1, true]);
  // Two instances and 0.5 rps: 1 + 0.5 offered, all served; ρ = 0.25.
  const drain = stepSecond(model, state, 0.5, 2, 0.5);
  assert.equal(state.backlog, 0);
  assert.equal(drain.utilization, 0.75);
  assert.equal(drain.responseTime, mmcResponseTime(0.25, 1, 1));
});

Deno.test("model: the sampled work averages λ·S", () => {
  const work = sampleWork(new Array(4000).fill(0.5), 5, seededPrng(9));
  const mean = work.reduce((a, b) => a + b, 0) / work.length;
  assert.ok(Math.abs(mean - 2.5) < 0.25, `mean work ${mean}`);
  const heavy = sampleWork([1000], 5, seededPrng(9));
  assert.ok(heavy[0]! > 4000 && heavy[0]! < 6000, `normal approximation ${heavy[0]}`);
});
