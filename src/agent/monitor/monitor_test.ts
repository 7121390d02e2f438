import assert from "node:assert/strict";
import { FakeClock } from "../../domain/clock.ts";
import type { ContainerRuntime } from "../../ports/container_runtime.ts";
import type { UsageReader } from "../../ports/usage_reader.ts";
import type { InstanceManager } from "../executor/instances.ts";
import { Monitor, type MonitorOptions } from "./monitor.ts";

/** A monitor over no containers: only its user metrics (user_metrics_test.ts) are exercised. */
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
  return { m };
}

Deno.test("Monitor.pushUserMetric() records values and snapshot() averages them", () => {
  const { m } = monitor();
  m.pushUserMetric("web", "response_time", [10, 20]);
  m.pushUserMetric("web", "queue.len-2", [3]);
  assert.deepEqual(m.snapshot().userMetrics, { web: { response_time: 15, "queue.len-2": 3 } });
  assert.equal(m.userMetricStats().metrics, 2);
});

Deno.test("Monitor.pushUserMetric() applies the bounds of its options", () => {
  const { m } = monitor({ maxMetricsPerService: 1 });
  m.pushUserMetric("web", "a", [1]);
  assert.throws(() => m.pushUserMetric("web", "b", [1]), /has 1 user metrics already/);
  assert.equal(m.userMetricStats().refusedOverLimit, 1);
});
