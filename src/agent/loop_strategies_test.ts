/**
 * Target tracking, shadows, schedules and the fast path through the whole loop on a fake clock
 * (real monitor, analyzer, planner, executor and recorder over the in-memory engine). Load is
 * a total of cores shared by the running instances, so more instances each burn less.
 */

import assert from "node:assert/strict";
import { parseServiceDescriptor } from "../config/documents.ts";
import { noTelemetry, type Telemetry } from "../ports/telemetry.ts";
import { FakeUsage, IMAGE, loopRig } from "./_testing.ts";

/** `load` is the total of cores per service, shared evenly by its running instances. */
function rig(
  autonomic: Record<string, unknown>,
  scaling: Record<string, unknown> = {},
  start = "2026-03-23T12:00:00Z",
) {
  const shadows: string[] = [];
  const telemetry: Telemetry = {
    ...noTelemetry,
    shadowDecision: (s, p, agrees) => shadows.push(`${s} ${p} ${agrees}`),
  };
  const svc = parseServiceDescriptor({
    Name: "web",
    Image: IMAGE,
    MinInstances: 1,
    MaxInstances: 6,
    Configuration: { CpuNumber: 1, Memory: "128M" },
    Scaling: { Target: { Metric: "cpu_avg", Value: 0.5 }, ...scaling },
  }, "web.json");
  const r = loopRig({
    services: [svc],
    autonomic,
    start: Date.parse(start),
    ncpu: 8,
    usage: ({ runtime, clock, running }) =>
      new FakeUsage(runtime, clock, (total) => Math.min(1, total / Math.max(1, running()))),
    telemetry,
    decisions: 1000,
    monotonicLedger: true,
  });
  return {
    ...r,
    shadows,
    async init() {
      await r.instances.init();
      await r.instances.start(svc);
      await r.monitor.sample();
    },
  };
}

async function settle(): Promise<void> {
  for (let i = 0; i < 3; i++) await new Promise((r) => setTimeout(r, 0));
}

Deno.test("loop + target: one action adds what the formula asks, then holds within tolerance", async () => {
  const r = rig({ PlannerStrategy: "target" });
  await r.init();
  r.usage.load.web = 2.4;
  const first = await r.after(2);
  assert.equal(first.chosen.policy, "scaleout", first.why);
  assert.equal(first.chosen.track?.formula, 2, "⌈1 × 1 / 0.5⌉: one instance burns at most 1 core");
  assert.equal(first.outcome, "executed", first.why);
  assert.equal(r.running(), 2);
  // 2.4 cores on 2 instances: each saturated, the formula asks for ⌈2 × 1 / 0.5⌉ = 4.
  const held = await r.after(2);
  assert.equal(held.outcome, "blocked", "scale-out cooldown 5 s");
  assert.match(held.why, /scale-out cooldown of web: n1 started one/);
  const second = await r.after(4);
  assert.equal(second.outcome, "executed", second.why);
  assert.equal(second.actions.length, 2, "+2 in one action");
  assert.equal(r.running(), 4);
  // 2.4 / 4 = 0.6 each: ratio 1.2, ⌈4 × 1.2⌉ = 5.
  const third = await r.after(6);
  assert.equal(third.chosen.track?.desired, 5, third.why);
  assert.equal(r.running(), 5);
  const steady = await r.after(6);
  assert.equal(steady.chosen.policy, "noaction", "0.48 of 0.5 is within the tolerance");
  assert.match(steady.chosen.reasons.join(), /within tolerance 0\.1/);
  assert.match(
    steady.why,
    /no action: web: cpu_avg 0\.48 for target 0\.5: ratio 0\.96 within tolerance/,
  );
});

Deno.test("loop + target: scale-in waits for its stabilization window and takes at most MaxStep", async () => {
  const r = rig({ PlannerStrategy: "target" }, {
    ScaleIn: { StabilizationWindow: 6, MaxStep: "50%", Cooldown: 3 },
  });
  await r.init();
  const svc = r.state.services.get("web")!;
  for (let i = 0; i < 5; i++) await r.instances.start(svc);
  assert.equal(r.running(), 6);
  r.usage.load.web = 3; // 0.5 each: 6 is right
  const busy = await r.after(2);
  assert.equal(busy.chosen.policy, "noaction", busy.why);
  r.usage.load.web = 0.3; // 0.05 each: ⌈6 × 0.05 / 0.5⌉ = 1
  const wish = await r.after(2);
  assert.equal(wish.chosen.policy, "noaction", wish.why);
  assert.match(wish.chosen.reasons.join(), /stabilization window 6 s keeps 6/);
  const stillHeld = await r.after(3);
  assert.equal(stillHeld.chosen.policy, "noaction");
  const first = await r.after(2);
  assert.equal(first.chosen.policy, "scalein", first.why);
  assert.equal(first.chosen.track?.formula, 1);
  assert.equal(first.chosen.track?.desired, 3, "at most 50 % of 6 per action");
  assert.equal(first.chosen.track?.heldBy, "maxStep");
  assert.equal(r.running(), 3);
  const cooling = await r.after(1);
  assert.notEqual(cooling.outcome, "executed", "scale-in cooldown 3 s");
  const second = await r.after(3);
  assert.equal(second.outcome, "executed", second.why);
  assert.equal(r.running(), 1, "MinInstances 1");
});

Deno.test("loop: shadow strategies are recorded and counted, and only the chosen acts", async () => {
  const r = rig({ PlannerStrategy: "threshold", ShadowStrategies: ["target", "dummy"] });
  await r.init();
  r.usage.load.web = 0.6; // 0.6 on one instance: under the 0.7 threshold, over the 0.5 target
  const d = await r.after(2);
  assert.equal(d.chosen.policy, "noaction");
  assert.equal(d.outcome, "none");
  assert.equal(r.running(), 1, "the shadows did not act");
  const target = d.shadows?.find((s) => s.strategy === "target");
  assert.equal(target?.policy, "scaleout");
  assert.equal(target?.desired, 2);
  assert.equal(target?.agrees, false);
  assert.deepEqual(r.shadows, ["target scaleout false", "dummy noaction true"]);
});

Deno.test("loop: the decision record names the schedule in force, and the reconciliation fills it", async () => {
  const r = rig({ PlannerStrategy: "target" }, {
    Schedules: [{
      Name: "evening-peak",
      Start: "0 21 * * *",
      Duration: 7200,
      TimeZone: "Europe/Berlin",
      MinInstances: 3,
    }],
  }, "2026-03-23T19:59:58Z");
  await r.init();
  r.usage.load.web = 0.5;
  const before = await r.after(1);
  assert.equal(before.schedules, undefined, "20:59:59 in Berlin: not yet");
  const inForce = await r.after(1); // 21:00:00 in Berlin (UTC+1)
  assert.deepEqual(inForce.schedules?.web?.names, ["evening-peak"]);
  assert.equal(inForce.schedules?.web?.min, 3);
  assert.ok(inForce.actions.some((a) => a.action === "start" && /cluster min/.test(a.why)));
});

/** A loop started on the fake clock, driven in 250 ms steps (a usage sample every second). */
async function drive(r: ReturnType<typeof rig>, ms: number): Promise<void> {
  for (let t = 0; t < ms; t += 250) {
    r.clock.advance(250);
    if (r.clock.monotonic() % 1000 === 0) await r.monitor.sample();
    await settle();
  }
}

async function reaction(fast: boolean) {
  const r = rig({
    PlannerStrategy: "threshold",
    LoopTimeInterval: 5,
    Window: 5,
    FastPath: { Enable: fast, Margin: 0.1, Window: 1, CheckInterval: 0.25 },
  });
  await r.init();
  r.loop.start();
  r.usage.load.web = 0.05;
  await drive(r, 5_250);
  const t0 = r.clock.monotonic();
  r.usage.load.web = 2;
  while (r.running() < 2 && r.clock.monotonic() - t0 < 30_000) await drive(r, 250);
  const reactedMs = r.clock.monotonic() - t0;
  await drive(r, 12_000);
  r.usage.load.web = 0.05;
  await drive(r, 16_000);
  await r.loop.stop();
  return { r, reactedMs, records: r.decisions.list() };
}

Deno.test("loop: the fast path scales out before the next tick, and adds no flapping", async () => {
  const slow = await reaction(false);
  const fast = await reaction(true);
  assert.ok(fast.reactedMs < slow.reactedMs, `${fast.reactedMs} vs ${slow.reactedMs} ms`);
  assert.ok(fast.reactedMs <= 1500, `${fast.reactedMs} ms of fake time`);
  const fastTicks = fast.records.filter((d) => d.trigger?.kind === "fast-path");
  assert.ok(fastTicks.length >= 1);
  assert.match(fastTicks[0]!.trigger!.why, /web cpu_avg 1 over 0\.8 in the last 1 s/);
  assert.equal(fastTicks[0]!.outcome, "executed", fastTicks[0]!.why);
  for (const d of fastTicks) {
    assert.ok(d.actions.every((a) => a.action === "start"), "a fast tick never stops one");
  }
  const actions = (x: typeof fast) =>
    x.records.flatMap((d) => d.actions.filter((a) => a.ok).map((a) => a.action)).join(",");
  assert.equal(actions(fast), actions(slow), "the same actions, only sooner");
  assert.equal(fast.r.running(), 1);
});

/** Bursts over the fast-path level (1 core for 0.5 s every 3 s) on a mean far under it. */
async function bursty(calm: number) {
  const r = rig({
    PlannerStrategy: "probdelta",
    LoopTimeInterval: 1,
    Window: 5,
    FastPath: { Enable: true, Margin: 0.1, Window: 0.5, CheckInterval: 0.1, Calm: calm },
  });
  await r.init();
  r.loop.start();
  r.usage.load.web = 0.05;
  await drive(r, 6_000);
  for (let cycle = 0; cycle < 30; cycle++) {
    r.usage.load.web = 1;
    await drive(r, 500);
    r.usage.load.web = 0.05;
    await drive(r, 2_500);
  }
  await r.loop.stop();
  const records = r.decisions.list();
  const count = (action: string) =>
    records.filter((d) => d.actions.some((a) => a.ok && a.action === action)).length;
  return { records, starts: count("start"), stops: count("stop") };
}

Deno.test("loop: the fast path acts only out of calm, so a bursty load under the threshold does not flap", async () => {
  const off = await bursty(0);
  assert.ok(off.starts >= 3, `without the calm rule the bursts start ${off.starts} instances`);
  assert.ok(off.stops >= 2, `and stop ${off.stops} again`);
  const on = await bursty(20);
  assert.ok(on.starts <= 1, `with it: ${on.starts} start(s), the onset at most`);
  assert.ok(on.stops <= 1, `and ${on.stops} stop(s)`);
  const held = on.records.flatMap((d) => d.fastPathHeld ?? []);
  assert.ok(held.length >= 10, `${held.length} held crossings recorded`);
  assert.match(
    held[0]!,
    /^web cpu_avg 1 over 0\.8 in the last 0\.5 s, held: it crossed \d+\.\d s before, not out of 20 s of calm$/,
  );
  assert.ok(
    on.records.every((d) =>
      d.trigger === undefined || d.actions.every((a) => a.action === "start")
    ),
  );
});
