import assert from "node:assert/strict";
import { measurements } from "./measurements.ts";
import type { DecisionRecord } from "./decisions.ts";
import { descriptor } from "../../../tests/helpers/planner_fixtures.ts";

const record: DecisionRecord = {
  seq: 7,
  time: 1_700_000_000_000,
  node: "n1",
  strategy: "probdelta",
  draw: 0.25,
  inputs: {
    services: {
      web: {
        running: 2,
        pending: 1,
        stopped: 1,
        paused: 0,
        cpu_avg: 0.8,
        memory_avg: undefined,
        cpu_cores: 1.6,
        analytics: { resp_time_ratio: 0.5, unknown_one: undefined },
        metrics: { response_time: 100 },
        dataAgeMs: 100,
        notes: [],
        cluster: {
          nodes: 2,
          running: 3,
          pending: 1,
          cpu_avg: 0.7,
          memory_avg: undefined,
          analytics: { resp_time_ratio: 0.4 },
        },
      },
    },
    node: { totalCpus: 4, freeCpus: 1, totalMemory: 1000, freeMemory: 250 },
    usageSource: "cgroup-v1",
    eventsConnected: true,
  },
  candidates: [],
  chosen: { policy: "scaleout", targets: ["web"], weight: 0.6, reasons: [] },
  outcome: "executed",
  why: "",
  actions: [{ service: "web", action: "start", ok: true, why: "scaleout" }],
  phasesMs: { monitor: 1, analyze: 2, plan: 3, execute: 4 },
};

Deno.test("measurements() gives the original's points plus decisions, skipping unknowns", () => {
  const web = { ...descriptor("web"), type: "webserver", image: "gru-demo/web" };
  const points = measurements(record, { uuid: "u1", services: new Map([["web", web]]) });
  const by = (m: string) => points.filter((p) => p.measurement === m);
  assert.deepEqual(points.map((p) => p.measurement), [
    "node",
    "instance_status",
    "cpu_service",
    "user_stat_service",
    "user_analytics_service",
    "user_shared_service",
    "policy",
    "decision",
  ]);
  assert.deepEqual(by("node")[0], {
    measurement: "node",
    tags: { node: "u1", name: "n1" },
    fields: { cpu: 0.4, memory: 0.75, cores_total: 4, cores_free: 1, active_services: 1 },
    time: record.time,
  });
  const tags = {
    node: "n1",
    service_name: "web",
    service_type: "webserver",
    service_image: "gru-demo/web",
  };
  assert.deepEqual(by("instance_status")[0]!.tags, tags);
  assert.deepEqual(by("instance_status")[0]!.fields, {
    all: 4,
    pending: 1,
    running: 2,
    stopped: 1,
    paused: 0,
  });
  assert.deepEqual(by("cpu_service")[0]!.fields, {
    stats_value: 0.8,
    analytics_value: 0.8,
    shared_value: 0.7,
  });
  assert.equal(by("memory_service").length, 0, "memory unknown everywhere: no point, not 0");
  assert.deepEqual(by("user_analytics_service")[0]!.fields, { resp_time_ratio: 0.5 });
  assert.deepEqual(by("user_shared_service")[0]!.fields, { resp_time_ratio: 0.4 });
  assert.deepEqual(by("decision")[0]!.tags, {
    node: "n1",
    policy: "scaleout",
    outcome: "executed",
  });
  assert.deepEqual(by("decision")[0]!.fields, {
    seq: 7,
    weight: 0.6,
    draw: 0.25,
    actions: 1,
    duration_ms: 10,
  });
});
