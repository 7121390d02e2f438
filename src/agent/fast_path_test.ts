/** The fast path's trigger (fast_path.ts): which short-window signal crosses which level. */

import assert from "node:assert/strict";
import {
  parseAgentConfig,
  parsePolicyConfig,
  parseServiceDescriptor,
} from "../config/documents.ts";
import type { AnalyzedService } from "./analyzer/analysis.ts";
import {
  CalmGate,
  fastCrossings,
  fastPathSettings,
  fastTrigger,
  heldText,
  triggerText,
} from "./fast_path.ts";

function analyzed(cpu: number | undefined, running = 1): AnalyzedService {
  return {
    running,
    pending: 0,
    stopped: 0,
    paused: 0,
    cpu_avg: cpu,
    memory_avg: 0.1,
    cpu_cores: undefined,
    analytics: { queue: 40 },
    metrics: {},
    dataAgeMs: 0,
    notes: [],
  };
}

const web = parseServiceDescriptor({
  Name: "web",
  Image: "i",
  Scaling: { Target: { Metric: "cpu_avg", Value: 0.5 }, ScaleOut: { Tolerance: 0.1 } },
}, "web.json");
const policy = parsePolicyConfig({
  Scaleout: { Enable: true, Threshold: 0.5, Metrics: ["cpu_avg"], Analytics: ["queue"] },
}, "policy.json");

function config(strategy: string, margin = 0.1) {
  return parseAgentConfig({
    Autonomic: { PlannerStrategy: strategy, FastPath: { Enable: true, Margin: margin } },
  }, "config.json").autonomic;
}

Deno.test("fastTrigger(): a policy metric over Threshold + Margin triggers", () => {
  const services = new Map([["web", web]]);
  const at = (cpu: number | undefined, margin = 0.1) =>
    fastTrigger({
      analysis: { web: { ...analyzed(cpu), analytics: {} } },
      services,
      policy,
      autonomic: config("probdelta", margin),
    });
  assert.equal(at(0.55), undefined, "over the threshold but within the margin");
  assert.equal(at(undefined), undefined, "unknown never triggers");
  const t = at(0.65)!;
  assert.deepEqual({ ...t }, { service: "web", metric: "cpu_avg", level: 0.6, value: 0.65 });
  assert.equal(triggerText(t, 1), "web cpu_avg 0.65 over 0.6 in the last 1 s");
  assert.ok(at(0.52, 0), "margin 0");
});

Deno.test("fastTrigger(): with target, the target band plus margin; analytics too", () => {
  const services = new Map([["web", web]]);
  const target = (cpu: number) =>
    fastTrigger({
      analysis: { web: analyzed(cpu) },
      services,
      policy,
      autonomic: config("target"),
    });
  assert.equal(target(0.64), undefined, "0.5 × 1.1 + 0.1 = 0.65");
  assert.equal(target(0.66)?.level, 0.65);
  const queue = fastTrigger({
    analysis: { web: analyzed(0.1) },
    services,
    policy,
    autonomic: config("probdelta"),
  });
  assert.equal(queue?.metric, "queue", "an analytic of the scale-out policy");
  const idle = fastTrigger({
    analysis: { web: analyzed(0.9, 0) },
    services,
    policy,
    autonomic: config("probdelta"),
  });
  assert.equal(idle, undefined, "nothing running");
});

Deno.test("fastCrossings(): every crossing service, in name order, one signal each", () => {
  const api = parseServiceDescriptor({ Name: "api", Image: "i" }, "api.json");
  const both = new Map([["web", web], ["api", api]]);
  const crossings = fastCrossings({
    analysis: { web: analyzed(0.9), api: analyzed(0.95), idle: analyzed(0.1) },
    services: both,
    policy,
    autonomic: config("probdelta"),
  });
  assert.deepEqual(crossings.map((c) => [c.service, c.metric]), [["api", "cpu_avg"], [
    "web",
    "cpu_avg",
  ]]);
});

Deno.test("CalmGate: a crossing acts only out of Calm seconds without one", () => {
  const gate = new CalmGate();
  const at = (service: string) => ({ service, metric: "cpu_avg", value: 0.9, level: 0.85 });
  const calm = 20_000;
  // Never seen over the level: calm, it acts.
  assert.equal(gate.observe([at("web")], 1000, calm).trigger?.service, "web");
  // 0.1 s later, still over (the surge goes on): held, with how long ago it crossed.
  const held = gate.observe([at("web")], 1100, calm);
  assert.equal(held.trigger, undefined);
  assert.deepEqual(held.held.map((h) => [h.crossing.service, h.sinceMs]), [["web", 100]]);
  // Bursts every 5 s keep restarting the calm: never acts again.
  for (let t = 6100; t <= 60_100; t += 5000) {
    assert.equal(gate.observe([at("web")], t, calm).trigger, undefined, `at ${t} ms`);
  }
  // 20 s without a crossing: acts again. Another service is calm on its own.
  assert.equal(gate.observe([at("api"), at("web")], 80_100, calm).trigger?.service, "api");
  assert.equal(gate.observe([at("web")], 80_200, calm).trigger, undefined, "web crossed too");
  // Calm 0: every crossing acts (the rule off).
  const off = new CalmGate();
  off.observe([at("web")], 0, 0);
  assert.equal(off.observe([at("web")], 1, 0).trigger?.service, "web");
});

Deno.test("heldText() and the Calm default", () => {
  const h = {
    crossing: { service: "web", metric: "cpu_avg", value: 0.93, level: 0.85 },
    sinceMs: 3240,
  };
  assert.equal(
    heldText(h, 0.4, 20),
    "web cpu_avg 0.93 over 0.85 in the last 0.4 s, held: it crossed 3.2 s before, not out of 20 s of calm",
  );
  assert.equal(fastPathSettings(config("probdelta")).calm, 20);
  const set = parseAgentConfig({ Autonomic: { FastPath: { Enable: true, Calm: 0 } } }, "c.json");
  assert.equal(fastPathSettings(set.autonomic).calm, 0);
  assert.throws(
    () => parseAgentConfig({ Autonomic: { FastPath: { Calm: -1 } } }, "c.json"),
    /FastPath\.Calm|fastPath\.calm/i,
  );
});
