import assert from "node:assert/strict";
import { FakeClock } from "../../domain/clock.ts";
import type { ContainerRuntime } from "../../ports/container_runtime.ts";
import type { UsageReader } from "../../ports/usage_reader.ts";
import type { InstanceManager } from "../executor/instances.ts";
import { Monitor, type MonitorOptions, RESYNC_MS, SETTLE_MS } from "./monitor.ts";

/** A monitor over no containers; `options` replace its parts. */
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
  return { m, clock };
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

Deno.test("Monitor.resync() lists only when the stream is down, the listing old or begun right after an event", async () => {
  let listings = 0;
  let emit: ((action: string) => void) | undefined;
  let endStream: ((err: Error) => void) | undefined;
  const runtime = {
    events: (_labels: unknown, onEvent: (e: { action: string }) => void, signal: AbortSignal) =>
      new Promise<void>((resolve, reject) => {
        emit = (action) => onEvent({ action });
        endStream = reject;
        signal.addEventListener("abort", () => resolve());
      }),
  } as unknown as ContainerRuntime;
  const { m, clock } = monitor({
    runtime,
    instances: {
      list: () => [],
      refresh: () => (listings++, Promise.resolve()),
    } as unknown as InstanceManager,
  });
  m.start();
  try {
    const settle = () => new Promise((r) => setTimeout(r, 10));
    await settle();
    assert.equal(listings, 1, "connecting lists once");
    assert.equal(m.snapshot().eventsConnected, true);
    await m.resync();
    await m.resync();
    assert.equal(listings, 1, "a fresh listing with the stream connected is kept");
    emit!("die");
    await settle();
    assert.equal(listings, 2, "an event lists at once");
    await m.resync();
    assert.equal(listings, 3, "a listing begun right after an event may be stale: the tick lists");
    clock.advance(SETTLE_MS);
    await m.resync();
    assert.equal(listings, 4, "still, until one begins SETTLE_MS after the event");
    await m.resync();
    assert.equal(listings, 4, "then it is kept");
    clock.advance(RESYNC_MS);
    await m.resync();
    assert.equal(listings, 5, "after RESYNC_MS the tick lists again");
    await m.resync();
    assert.equal(listings, 5);
    endStream!(new Error("engine restarted"));
    await settle();
    assert.equal(m.snapshot().eventsConnected, false);
    const before = listings;
    await m.resync();
    await m.resync();
    assert.equal(listings, before + 2, "without the stream every tick lists");
  } finally {
    await m.stop();
  }
});
