import assert from "node:assert/strict";
// @ts-types="./parse_prometheus_text_format.d.ts"
import parsePrometheusTextFormat from "parse-prometheus-text-format";
import {
  escapeLabelValue,
  formatValue,
  LOOP_PHASE_BUCKETS,
  MetricsRegistry,
  PrometheusTelemetry,
} from "./prometheus_telemetry.ts";

type Family = ReturnType<typeof parsePrometheusTextFormat>[number];

function family(text: string, name: string): Family {
  const f = parsePrometheusTextFormat(text).find((x) => x.name === name);
  assert.ok(f, `no family ${name} in\n${text}`);
  return f;
}

function valueOf(f: Family, labels: Record<string, string>): number | undefined {
  const m = f.metrics.find((x) =>
    Object.keys(labels).length === Object.keys(x.labels ?? {}).length &&
    Object.entries(labels).every(([k, v]) => x.labels?.[k] === v)
  );
  return m?.value === undefined ? undefined : Number(m.value);
}

Deno.test("PrometheusTelemetry exposes every metric with HELP and TYPE before any call", () => {
  const text = new PrometheusTelemetry().render();
  const families = parsePrometheusTextFormat(text);
  const types = Object.fromEntries(families.map((f) => [f.name, f.type]));
  assert.deepEqual(types, {
    gru_loop_phase_seconds: "HISTOGRAM",
    gru_decisions_total: "COUNTER",
    gru_actions_total: "COUNTER",
    gru_gossip_rounds_total: "COUNTER",
    gru_gossip_exchanges_total: "COUNTER",
    gru_gossip_rejected_total: "COUNTER",
    gru_dependency_errors_total: "COUNTER",
    gru_shadow_decisions_total: "COUNTER",
  });
  for (const f of families) assert.ok(f.help.length > 0, f.name);
  assert.equal(valueOf(family(text, "gru_gossip_rounds_total"), {}), 0);
  assert.equal(valueOf(family(text, "gru_dependency_errors_total"), { dependency: "etcd" }), 0);
  const phases = flatSamples(text)
    .filter((s) => s.name === "gru_loop_phase_seconds_count")
    .map((s) => [s.labels.phase, s.value]);
  assert.deepEqual(phases, [["monitor", 0], ["analyze", 0], ["plan", 0], ["execute", 0], [
    "total",
    0,
  ]]);
  assert.ok(text.endsWith("\n"));
});

Deno.test("PrometheusTelemetry counts what shadow strategies would have chosen", () => {
  const t = new PrometheusTelemetry();
  t.shadowDecision("target", "scaleout", false);
  t.shadowDecision("target", "scaleout", false);
  t.shadowDecision("dummy", "noaction", true);
  const f = family(t.render(), "gru_shadow_decisions_total");
  assert.equal(valueOf(f, { strategy: "target", policy: "scaleout", agrees: "false" }), 2);
  assert.equal(valueOf(f, { strategy: "dummy", policy: "noaction", agrees: "true" }), 1);
});

Deno.test("PrometheusTelemetry counts decisions, actions, gossip and dependency errors", () => {
  const t = new PrometheusTelemetry();
  t.decision("scaleout", "executed");
  t.decision("scaleout", "executed");
  t.decision("none", "none");
  t.action("start", "ok");
  t.action("stop", "failed");
  t.gossipRound(2, 3);
  t.gossipRound(1, 1);
  t.dependencyError("docker");
  t.dependencyError("docker");
  t.dependencyError("etcd");
  const text = t.render();
  const decisions = family(text, "gru_decisions_total");
  assert.equal(valueOf(decisions, { policy: "scaleout", outcome: "executed" }), 2);
  assert.equal(valueOf(decisions, { policy: "none", outcome: "none" }), 1);
  const actions = family(text, "gru_actions_total");
  assert.equal(valueOf(actions, { action: "start", outcome: "ok" }), 1);
  assert.equal(valueOf(actions, { action: "stop", outcome: "failed" }), 1);
  assert.equal(valueOf(actions, { action: "start", outcome: "failed" }), 0);
  assert.equal(valueOf(family(text, "gru_gossip_rounds_total"), {}), 2);
  const ex = family(text, "gru_gossip_exchanges_total");
  assert.equal(valueOf(ex, { result: "ok" }), 3);
  assert.equal(valueOf(ex, { result: "failed" }), 1);
  const dep = family(text, "gru_dependency_errors_total");
  assert.equal(valueOf(dep, { dependency: "docker" }), 2);
  assert.equal(valueOf(dep, { dependency: "etcd" }), 1);
  assert.equal(valueOf(dep, { dependency: "gossip" }), 0);
});

/**
 * Every sample as `{name, labels, value}`. The parser folds histogram series into one object
 * per family (losing their other labels), so the comment lines are dropped and the samples are
 * parsed as untyped ones, one family per sample name.
 */
function flatSamples(
  text: string,
): { name: string; labels: Record<string, string>; value: number }[] {
  const bare = text.split("\n").filter((l) => !l.startsWith("#")).join("\n");
  return parsePrometheusTextFormat(bare).flatMap((f) =>
    f.metrics.map((m) => ({ name: f.name, labels: m.labels ?? {}, value: Number(m.value) }))
  );
}

Deno.test("loop phases are a cumulative histogram in seconds with +Inf, _sum and _count", () => {
  const t = new PrometheusTelemetry();
  t.loopPhase("plan", 0.2); // 0.0002 s: first bucket
  t.loopPhase("plan", 3); // 0.003 s
  t.loopPhase("plan", 700); // 0.7 s
  t.loopPhase("plan", 60_000); // 60 s: only +Inf
  t.loopPhase("total", 1);
  const text = t.render();
  assert.equal(family(text, "gru_loop_phase_seconds").type, "HISTOGRAM");
  const samples = flatSamples(text);
  const plan = samples.filter((s) => s.labels.phase === "plan");
  const buckets = new Map(
    plan.filter((s) => s.name === "gru_loop_phase_seconds_bucket").map((s) => [
      s.labels.le === "+Inf" ? Infinity : Number(s.labels.le),
      s.value,
    ]),
  );
  assert.deepEqual([...buckets.keys()], [...LOOP_PHASE_BUCKETS, Infinity]);
  assert.equal(buckets.get(0.0005), 1);
  assert.equal(buckets.get(0.0025), 1);
  assert.equal(buckets.get(0.005), 2);
  assert.equal(buckets.get(0.5), 2);
  assert.equal(buckets.get(1), 3);
  assert.equal(buckets.get(10), 3);
  assert.equal(buckets.get(Infinity), 4);
  const values = [...buckets.values()];
  for (let i = 1; i < values.length; i++) assert.ok(values[i]! >= values[i - 1]!, "cumulative");
  const one = (name: string, phase: string) =>
    samples.find((s) => s.name === name && s.labels.phase === phase)?.value;
  assert.equal(one("gru_loop_phase_seconds_count", "plan"), 4);
  assert.ok(Math.abs(one("gru_loop_phase_seconds_sum", "plan")! - 60.7032) < 1e-9);
  assert.equal(one("gru_loop_phase_seconds_count", "total"), 1);
  assert.equal(one("gru_loop_phase_seconds_count", "monitor"), 0);
  assert.equal(
    samples.filter((s) => s.name === "gru_loop_phase_seconds_bucket").length,
    5 * (LOOP_PHASE_BUCKETS.length + 1),
  );
});

Deno.test("an unlabelled histogram parses as one with buckets, sum and count", () => {
  const r = new MetricsRegistry();
  const h = r.histogram("lat_seconds", "Latency.", [0.1, 1]);
  h.observe({}, 0.05);
  h.observe({}, 0.5);
  h.observe({}, 5);
  const f = family(r.render(), "lat_seconds");
  assert.equal(f.type, "HISTOGRAM");
  assert.deepEqual(f.metrics, [{
    buckets: { "0.1": "1", "1": "2", "+Inf": "3" },
    sum: "5.55",
    count: "3",
  }]);
  assert.deepEqual(h.get(), { count: 3, sum: 5.55 });
});

Deno.test("computed gauges are sampled at render time; label values are escaped", () => {
  const t = new PrometheusTelemetry();
  let running = 1;
  t.gauge("gru_instances", "Instances on this node, by service and status.", () => [
    { labels: { service: "web", status: "running" }, value: running },
    { labels: { service: 'we"ird\\na\nme', status: "pending" }, value: 0.5 },
  ]);
  t.gauge("gru_metric_points_buffered", "Points waiting.", () => [{ value: 7 }]);
  t.gauge("gru_broken", "A collector that throws.", () => {
    throw new Error("boom");
  });
  running = 3;
  const text = t.render();
  const g = family(text, "gru_instances");
  assert.equal(g.type, "GAUGE");
  assert.equal(valueOf(g, { service: "web", status: "running" }), 3);
  assert.equal(valueOf(g, { service: 'we"ird\\na\nme', status: "pending" }), 0.5);
  assert.match(text, /service="we\\"ird\\\\na\\nme"/);
  assert.equal(valueOf(family(text, "gru_metric_points_buffered"), {}), 7);
  assert.deepEqual(family(text, "gru_broken").metrics, []);
  assert.throws(() => t.gauge("gru_instances", "again", () => []), /registered already/);
  assert.throws(() => t.gauge("bad-name", "x", () => []), /Invalid Prometheus metric name/);
});

Deno.test("registry: help escaping, special values, empty registry", () => {
  const r = new MetricsRegistry();
  assert.equal(r.render(), "");
  r.gauge("x", "line one\nback\\slash", () => [{ value: Infinity }, {
    labels: { a: "1" },
    value: NaN,
  }]);
  const text = r.render();
  assert.match(text, /^# HELP x line one\\nback\\\\slash$/m);
  assert.match(text, /^x \+Inf$/m);
  assert.match(text, /^x\{a="1"\} NaN$/m);
  assert.equal(formatValue(-Infinity), "-Inf");
  assert.equal(escapeLabelValue('a"b\\c\nd'), 'a\\"b\\\\c\\nd');
  const c = r.counter("c_total", "A counter.");
  c.inc({}, -1);
  c.inc({}, 2);
  assert.equal(c.get(), 2);
});
