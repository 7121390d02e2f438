/** The fast path's trigger (fast_path.ts): which short-window signal crosses which level. */

import assert from "node:assert/strict";
import {
  parseAgentConfig,
  parsePolicyConfig,
  parseServiceDescriptor,
} from "../config/documents.ts";
import type { AnalyzedService } from "./analyzer/analysis.ts";
import { fastTrigger, triggerText } from "./fast_path.ts";

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
