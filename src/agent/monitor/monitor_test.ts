import assert from "node:assert/strict";
import { FakeClock } from "../../domain/clock.ts";
import { ValidationError } from "../../domain/errors.ts";
import type { ContainerRuntime } from "../../ports/container_runtime.ts";
import type { UsageReader } from "../../ports/usage_reader.ts";
import type { InstanceManager } from "../executor/instances.ts";
import { Monitor, type MonitorOptions } from "./monitor.ts";

/** The error `f` throws (failing when it throws none). */
function thrown(f: () => void): Error {
  try {
    f();
  } catch (err) {
    return err as Error;
  }
  throw new Error("expected an error");
}

/** A monitor over no containers: only its user metrics are exercised. */
function monitor(options: Partial<MonitorOptions> = {}) {
  const clock = new FakeClock(1_000_000);
  const services = new Set(["web", "db"]);
  const m = new Monitor({
    runtime: {} as ContainerRuntime,
    usage: { kind: "none" } as UsageReader,
    instances: { list: () => [] } as unknown as InstanceManager,
    clock,
    cluster: "c",
    node: "n",
    settings: () => ({ windowMs: 10_000, warmupMs: 0, logReading: false, services }),
    ...options,
  });
  return { m, clock, services };
}

Deno.test("Monitor.pushUserMetric() records values and snapshot() averages them", () => {
  const { m } = monitor();
  m.pushUserMetric("web", "response_time", [10, 20]);
  m.pushUserMetric("web", "queue.len-2", [3]);
  assert.deepEqual(m.snapshot().userMetrics, { web: { response_time: 15, "queue.len-2": 3 } });
  assert.equal(m.userMetricStats().metrics, 2);
});

Deno.test("Monitor.pushUserMetric() refuses bad names with a short escaped excerpt, storing nothing", () => {
  const { m } = monitor();
  const bad = [
    "x".repeat(5000),
    "m".repeat(65),
    "",
    "5xx",
    ".hidden",
    "a b",
    "a,b=c",
    "trailing\\",
    "line\nbreak",
    "esc\u001b[2J",
    "nul\u0000",
    "ünïcode",
  ];
  for (const name of bad) {
    const err = thrown(() => m.pushUserMetric("web", name, [1]));
    assert.ok(err instanceof ValidationError);
    const message = err.message;
    assert.match(message, /^Invalid metric name "/, name.slice(0, 20));
    assert.ok(message.length < 200, `short: ${message}`);
    // deno-lint-ignore no-control-regex
    assert.doesNotMatch(message, /[\u0000-\u001f\u007f]/, "no raw control character");
  }
  const long = thrown(() => m.pushUserMetric("web", "x".repeat(5000), [1]));
  assert.ok(!long.message.includes("x".repeat(81)), "quotes at most 80 characters");
  assert.deepEqual(m.snapshot().userMetrics, {});
  assert.deepEqual(m.userMetricStats(), {
    metrics: 0,
    refusedNames: bad.length + 1,
    refusedOverLimit: 0,
    pruned: 0,
  });
});

Deno.test("Monitor.pushUserMetric() accepts a 64-character name", () => {
  const { m } = monitor();
  m.pushUserMetric("web", "_" + "a".repeat(63), [1]);
  assert.equal(m.userMetricStats().metrics, 1);
});

Deno.test("Monitor.pushUserMetric() refuses an unknown service and bad values, storing nothing", () => {
  const { m } = monitor();
  assert.throws(
    () => m.pushUserMetric("nope\n", "rt", [1]),
    /Unknown service "nope\\n" for metric "rt"/,
  );
  for (const v of [NaN, Infinity, -1, "1" as unknown as number]) {
    assert.throws(() => m.pushUserMetric("web", "rt", [1, v]), ValidationError);
  }
  assert.deepEqual(m.snapshot().userMetrics, {});
});

Deno.test("Monitor.pushUserMetric() bounds the distinct metrics of a service and counts refusals", () => {
  const { m } = monitor({ maxMetricsPerService: 3 });
  for (const name of ["a", "b", "c"]) m.pushUserMetric("web", name, [1]);
  assert.throws(() => m.pushUserMetric("web", "d", [1]), /has 3 user metrics already.*"d"/);
  assert.throws(() => m.pushUserMetric("web", "e", [1]), ValidationError);
  // known metrics still take values; other services have their own bound
  m.pushUserMetric("web", "a", [3]);
  m.pushUserMetric("db", "d", [1]);
  assert.deepEqual(Object.keys(m.snapshot().userMetrics["web"] ?? {}).sort(), ["a", "b", "c"]);
  assert.deepEqual(m.userMetricStats(), {
    metrics: 4,
    refusedNames: 0,
    refusedOverLimit: 2,
    pruned: 0,
  });
});

Deno.test("Monitor prunes stale metrics, making room for new ones", () => {
  const { m, clock } = monitor({ maxMetricsPerService: 2, staleWindows: 3 });
  m.pushUserMetric("web", "a", [1]);
  m.pushUserMetric("web", "b", [1]);
  clock.advance(20_000);
  m.pushUserMetric("web", "b", [2]); // b stays fresh
  clock.advance(15_000); // a: 35 s without a value > 3 windows of 10 s
  m.pushUserMetric("web", "c", [5]);
  assert.deepEqual(m.snapshot().userMetrics, { web: { b: undefined, c: 5 } });
  clock.advance(25_000);
  assert.deepEqual(m.snapshot().userMetrics, { web: { c: undefined } });
  clock.advance(10_000);
  assert.deepEqual(m.snapshot().userMetrics, {});
  assert.deepEqual(m.userMetricStats(), {
    metrics: 0,
    refusedNames: 0,
    refusedOverLimit: 0,
    pruned: 3,
  });
});

Deno.test("Monitor drops the metrics of a service that is no longer known", () => {
  const { m, services } = monitor();
  m.pushUserMetric("db", "a", [1]);
  services.delete("db");
  assert.deepEqual(m.snapshot().userMetrics, {});
  assert.equal(m.userMetricStats().pruned, 1);
});

Deno.test("Monitor keeps memory bounded under a flood of distinct names", () => {
  const { m } = monitor();
  let refused = 0;
  for (let i = 0; i < 5000; i++) {
    try {
      m.pushUserMetric("web", `flood_${i}`, [i]);
    } catch {
      refused++;
    }
  }
  assert.equal(m.userMetricStats().metrics, 64);
  assert.equal(refused, 5000 - 64);
  assert.equal(m.userMetricStats().refusedOverLimit, 5000 - 64);
});
