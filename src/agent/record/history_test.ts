import assert from "node:assert/strict";
import type { DecisionRecord, ServiceInputs } from "./decisions.ts";
import { markersOf, SeriesRing, ServiceHistory } from "./history.ts";

function inputs(running: number, extra: Partial<ServiceInputs> = {}): ServiceInputs {
  return {
    running,
    pending: 0,
    stopped: 0,
    paused: 0,
    cpu_avg: 0.5,
    memory_avg: undefined,
    cpu_cores: undefined,
    analytics: { load: 0.7 },
    metrics: {},
    dataAgeMs: 0,
    notes: [],
    ...extra,
  };
}

function record(
  time: number,
  services: Record<string, ServiceInputs>,
  over: Partial<DecisionRecord> = {},
): DecisionRecord {
  return {
    seq: time,
    time,
    node: "n1",
    strategy: "probabilistic",
    draw: undefined,
    inputs: {
      services,
      node: { totalCpus: 2, totalMemory: 1, freeCpus: 2, freeMemory: 1 },
      usageSource: "test",
      eventsConnected: true,
    },
    candidates: [],
    chosen: { policy: "noaction", targets: [], weight: 1, reasons: [] },
    outcome: "none",
    why: "",
    actions: [],
    phasesMs: { monitor: 0, analyze: 0, plan: 0, execute: 0 },
    ...over,
  };
}

Deno.test("SeriesRing grows by doubling up to its bound, then keeps the newest samples", () => {
  const ring = new SeriesRing(10, 2, 2);
  for (let t = 1; t <= 25; t++) {
    ring.push({ t, running: t, pending: 0, cpuAvg: undefined, memoryAvg: 0.1, analytics: {} });
    assert.ok(ring.capacity <= 10);
  }
  assert.deepEqual(ring.length, 10);
  assert.deepEqual(ring.capacity, 10);
  const v = ring.view(0);
  assert.deepEqual(v.t, [16, 17, 18, 19, 20, 21, 22, 23, 24, 25]);
  assert.deepEqual(v.running[0], 16);
  assert.deepEqual(v.cpuAvg[0], null);
  assert.deepEqual(v.memoryAvg[9], 0.1);
});

Deno.test("SeriesRing bounds its analytics and marks unknown values null", () => {
  const ring = new SeriesRing(5, 2);
  ring.push({ t: 1, running: 1, pending: 0, cpuAvg: 0, memoryAvg: 0, analytics: { a: 1 } });
  ring.push({
    t: 2,
    running: 1,
    pending: 0,
    cpuAvg: 0,
    memoryAvg: 0,
    analytics: { a: undefined, b: 2, c: 3 },
  });
  const v = ring.view(0);
  assert.deepEqual(Object.keys(v.analytics).sort(), ["a", "b"]);
  assert.deepEqual(v.analytics.a, [1, null]);
  assert.deepEqual(v.analytics.b, [null, 2]);
});

Deno.test("ServiceHistory drops samples, services and markers older than its window", () => {
  const h = new ServiceHistory({ windowMs: 10_000, maxSamples: 100 });
  h.add(record(1_000, { old: inputs(1), web: inputs(1) }));
  for (let t = 2_000; t <= 20_000; t += 1_000) h.add(record(t, { web: inputs(2) }));
  const v = h.view();
  assert.deepEqual(Object.keys(v.services), ["web"]);
  assert.deepEqual(v.services.web!.t[0], 10_000);
  assert.deepEqual(v.services.web!.t.length, 11);
  assert.deepEqual(h.view({ minutes: 5_500 / 60_000 }).services.web!.t, [
    15_000,
    16_000,
    17_000,
    18_000,
    19_000,
    20_000,
  ]);
});

Deno.test("ServiceHistory keeps at most maxServices services and maxMarkers markers", () => {
  const h = new ServiceHistory({ maxServices: 2, maxMarkers: 3 });
  for (let t = 1; t <= 5; t++) {
    h.add(
      record(t, { a: inputs(1), b: inputs(1), c: inputs(1) }, {
        chosen: { policy: "scaleout", targets: ["a"], weight: 1, reasons: [`r${t}`] },
        outcome: "executed",
      }),
    );
  }
  const v = h.view();
  assert.deepEqual(h.serviceCount, 2);
  assert.deepEqual(Object.keys(v.services).sort(), ["a", "b"]);
  assert.deepEqual(v.markers.map((m) => m.t), [3, 4, 5]);
  assert.deepEqual(v.markers[0]!.reasons[0], "r3");
  assert.deepEqual(h.view({ service: "b" }).markers, []);
});

Deno.test("markersOf: scaling policies by outcome, upkeep actions, nothing for noaction", () => {
  const scale = (policy: string, outcome: DecisionRecord["outcome"]) =>
    markersOf(record(1, {}, {
      chosen: { policy, targets: ["web"], weight: 0.8, reasons: ["cpu_avg 0.9 > 0.7"] },
      outcome,
      why: "because",
    }));
  assert.deepEqual(scale("scaleout", "executed")[0]!.kind, "scale-out");
  assert.deepEqual(scale("scalein", "executed")[0]!.kind, "scale-in");
  assert.deepEqual(scale("scaleout", "dry-run")[0]!.kind, "dry-run");
  assert.deepEqual(scale("scaleout", "blocked")[0]!.kind, "blocked");
  assert.deepEqual(scale("scaleout", "executed")[0]!.reasons, ["cpu_avg 0.9 > 0.7", "because"]);
  assert.deepEqual(scale("scaleout", "none"), []);
  assert.deepEqual(scale("noaction", "none"), []);
  const upkeep = markersOf(record(1, {}, {
    actions: [{ service: "db", action: "start", ok: false, error: "no room", why: "base service" }],
  }));
  assert.deepEqual(upkeep.map((m) => [m.service, m.kind, m.policy]), [["db", "failed", "upkeep"]]);
  assert.deepEqual(upkeep[0]!.reasons, ["start: base service", "no room"]);
  const fast = markersOf(record(1, {}, {
    chosen: { policy: "scaleout", targets: ["web"], weight: 0.8, reasons: ["cpu_avg 1 > 0.75"] },
    outcome: "executed",
    why: "started",
    trigger: { kind: "fast-path", why: "web cpu_avg 1 over 0.85 in the last 0.4 s" },
  }));
  assert.deepEqual(fast[0]!.reasons, [
    "fast path: web cpu_avg 1 over 0.85 in the last 0.4 s",
    "cpu_avg 1 > 0.75",
    "started",
  ]);
});

Deno.test("ServiceHistory tells the sink off, ok and down from its reports", () => {
  const h = new ServiceHistory();
  h.add(record(1, {}));
  assert.deepEqual(h.view().influx, "off");
  h.add(record(2, {}), { kind: "influxdb-v1", written: 0, failedWrites: 0 });
  assert.deepEqual(h.view().influx, "ok");
  h.add(record(3, {}), { kind: "influxdb-v1", written: 0, failedWrites: 1 });
  assert.deepEqual(h.view().influx, "down");
  h.add(record(4, {}), { kind: "influxdb-v1", written: 0, failedWrites: 1 });
  assert.deepEqual(h.view().influx, "down");
  h.add(record(5, {}), { kind: "influxdb-v1", written: 10, failedWrites: 1 });
  assert.deepEqual(h.view().influx, "ok");
});

Deno.test("ServiceHistory view with stepMs keeps the last sample of each step", () => {
  const h = new ServiceHistory();
  for (let t = 1_000; t <= 10_000; t += 1_000) h.add(record(t, { web: inputs(t / 1000) }));
  const v = h.view({ stepMs: 4_000 }).services.web!;
  assert.deepEqual(v.t, [3_000, 7_000, 10_000]);
  assert.deepEqual(v.running, [3, 7, 10]);
  assert.equal(h.view({ stepMs: 0 }).services.web!.t.length, 10);
});
