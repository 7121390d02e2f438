/**
 * A PromQL metric source through the whole loop on a fake clock (in-memory engine, a scripted
 * querier): its value feeds an analytic the policies read, and while it fails, the service's
 * `OnSourceFailure` rule holds scale-in and the decision record says so.
 */

import assert from "node:assert/strict";
import { parseAnalytic, parseServiceDescriptor } from "../config/documents.ts";
import type { MetricQuerier, QueryResult } from "../ports/metric_query.ts";
import type { UsageReader } from "../ports/usage_reader.ts";
import type { DecisionRecord } from "./record/decisions.ts";
import { IMAGE, loopRig } from "./_testing.ts";

const idleUsage: UsageReader = {
  kind: "fake",
  read: () => Promise.resolve({ at: 0, cpuNs: 0, memoryBytes: 1 << 20 }),
  forget: () => {},
  close: () => Promise.resolve(),
};

function rig(onSourceFailure: unknown) {
  let answer: QueryResult = { ok: true, value: 90, sampleTime: 0 };
  const querier: MetricQuerier = { query: () => Promise.resolve(answer) };
  const svc = parseServiceDescriptor({
    Name: "web",
    Image: IMAGE,
    MinInstances: 1,
    MaxInstances: 3,
    Analytics: ["load"],
    Configuration: { CpuNumber: 1, Memory: "128M" },
    MetricSources: {
      rps: { Url: "http://prom:9090", Query: 'sum(rate(req{svc="$service"}[1m]))' },
    },
    OnSourceFailure: onSourceFailure,
  }, "web.json");
  const r = loopRig({
    services: [svc],
    autonomic: { ScaleOutCooldown: 1, ScaleInCooldown: 1 },
    policy: {
      Scaleout: { Enable: true, Threshold: 0.7, Analytics: ["load"] },
      Scalein: { Enable: true, Threshold: 0.2, Analytics: ["load"] },
    },
    analytics: [parseAnalytic({ Name: "load", Expr: "rps / 100", Metrics: ["rps"] }, "load.json")],
    usage: () => idleUsage,
    decisions: 10,
    querier,
  });
  return {
    instances: r.instances,
    svc,
    running: r.running,
    answer: (next: QueryResult) => answer = next,
    async tick(): Promise<DecisionRecord> {
      r.clock.advance(2000);
      return await r.loop.tick();
    },
  };
}

Deno.test("loop: a source's value drives the analytic; the record shows it", async () => {
  const r = rig("hold");
  await r.instances.init();
  await r.instances.start(r.svc);
  const out = await r.tick();
  const inputs = out.inputs.services.web!;
  assert.equal(inputs.metrics.rps, 90);
  assert.equal(inputs.analytics.load, 0.9);
  assert.deepEqual(inputs.sources?.map((s) => [s.metric, s.state, s.value, s.origin]), [
    ["rps", "fresh", 90, "n1"],
  ]);
  assert.equal(out.chosen.policy, "scaleout", out.why);
  assert.equal(out.outcome, "executed", out.why);
  assert.equal(r.running(), 2);
});

Deno.test("loop: a failing source never scales in; the record names the rule", async () => {
  for (const rule of ["hold", "scale-out-only", 2]) {
    const r = rig(rule);
    await r.instances.init();
    await r.instances.start(r.svc);
    await r.instances.start(r.svc);
    r.answer({ ok: false, failure: "timeout", error: "no answer within 2000 ms" });
    for (let i = 0; i < 5; i++) {
      const held = await r.tick();
      assert.notEqual(held.chosen.policy, "scalein", held.why);
      assert.equal(held.inputs.services.web!.analytics.load, undefined, "unknown, not 0");
      assert.equal(held.inputs.services.web!.sources?.[0]?.state, "failing");
      assert.match(
        held.why,
        new RegExp(`source rule "${rule === 2 ? "fallback 2" : rule}" for web`),
      );
      assert.match(held.why, /rps failing: timeout: no answer within 2000 ms/);
    }
    assert.equal(r.running(), 2, String(rule));
    // The control: once the source answers with a low value, the same loop scales in.
    r.answer({ ok: true, value: 1, sampleTime: 0 });
    const back = await r.tick();
    assert.equal(back.chosen.policy, "scalein", back.why);
    assert.equal(back.outcome, "executed", back.why);
    assert.equal(r.running(), 1);
  }
});

Deno.test("loop: a fallback count scales out once the source stays unknown", async () => {
  const r = rig(3);
  await r.instances.init();
  await r.instances.start(r.svc);
  await r.instances.start(r.svc);
  r.answer({ ok: false, failure: "error", error: "connection refused" });
  for (const loops of [1, 2]) {
    const held = await r.tick();
    assert.notEqual(held.outcome, "executed", held.why);
    assert.match(held.why, new RegExp(`"fallback 3" for web .*unknown for ${loops} of 3 loops`));
  }
  const out = await r.tick();
  assert.equal(out.chosen.policy, "scaleout", out.why);
  assert.equal(out.outcome, "executed", out.why);
  assert.match(out.why, /2 of 3 instances in the cluster: scale out towards 3/);
  assert.equal(r.running(), 3);
  const atCount = await r.tick();
  assert.notEqual(atCount.outcome, "executed", atCount.why);
  assert.equal(r.running(), 3);
});
