import assert from "node:assert/strict";
import { MemoryContainerRuntime } from "../adapters/memory/memory_container_runtime.ts";
import { parseServiceDescriptor } from "../config/documents.ts";
import { FakeClock } from "../domain/clock.ts";
import { LABEL_CLUSTER, LABEL_NODE } from "../domain/model.ts";
import type { ContainerSpec, RuntimeEvent } from "../ports/container_runtime.ts";
import type { UsageReader } from "../ports/usage_reader.ts";
import { InstanceManager } from "../agent/executor/instances.ts";
import { Monitor } from "../agent/monitor/monitor.ts";
import { RuntimeHolder } from "./runtime_holder.ts";

const IMAGE = "gru-test/busybox";

function spec(name: string): ContainerSpec {
  return {
    name,
    image: IMAGE,
    env: [],
    labels: { [LABEL_CLUSTER]: "c", [LABEL_NODE]: "n1" },
    cpusetCpus: "0",
    memory: 64 << 20,
    portBindings: {},
  };
}

/** Lets queued microtasks and macrotasks run. */
const settle = () => new Promise((r) => setTimeout(r, 0));

Deno.test("RuntimeHolder forwards to the runtime it holds, and a swap ends the old streams", async () => {
  const clock = new FakeClock(1_000);
  const a = new MemoryContainerRuntime({ clock, images: [IMAGE] });
  const b = new MemoryContainerRuntime({ clock, images: [IMAGE] });
  const holder = new RuntimeHolder(a);
  const onA = await holder.create(spec("on-a"));
  assert.ok(a.peek(onA));
  const seen: RuntimeEvent[] = [];
  const ctl = new AbortController();
  const first = holder.events({}, (e) => seen.push(e), ctl.signal);
  await settle();
  await holder.swap(b);
  await first; // ended by the swap, not by the caller
  assert.equal(holder.swaps, 1);
  const onB = await holder.create(spec("on-b"));
  assert.ok(b.peek(onB));
  assert.equal(a.peek(onB), undefined);
  assert.deepEqual((await holder.listAll()).map((c) => c.name), ["on-b"]);
  // A stream opened after the swap sees the new engine's events.
  const second = holder.events({}, (e) => seen.push(e), ctl.signal);
  await settle();
  await holder.start(onB);
  await b.settle();
  await settle();
  assert.ok(seen.some((e) => e.id === onB && e.action === "start"));
  ctl.abort();
  await second;
  await holder.close();
});

Deno.test("Monitor reconnects its event stream to the engine swapped in", async () => {
  const clock = new FakeClock(1_700_000_000_000);
  const bad = new MemoryContainerRuntime({ clock, images: [IMAGE] });
  bad.down(); // a wrong DaemonUrl: nothing answers
  const good = new MemoryContainerRuntime({ clock, images: [IMAGE], ncpu: 2 });
  const holder = new RuntimeHolder(bad);
  const instances = new InstanceManager({
    runtime: holder,
    clock,
    cluster: "c",
    node: "n1",
    spec: { hostIp: "127.0.0.1", etcdAddr: "http://127.0.0.1:2379", env: () => undefined },
  });
  const monitor = new Monitor({
    runtime: holder,
    usage: {
      kind: "none",
      read: () => Promise.resolve({ at: clock.now() }),
      forget: () => {},
      close: () => Promise.resolve(),
    } satisfies UsageReader,
    instances,
    clock,
    cluster: "c",
    node: "n1",
    settings: () => ({ windowMs: 10_000, warmupMs: 0, logReading: false, services: new Set() }),
  });
  await assert.rejects(instances.init());
  monitor.start();
  await settle();
  await holder.swap(good);
  await instances.init();
  const web = parseServiceDescriptor({
    Name: "web",
    Image: IMAGE,
    Configuration: { CpuNumber: 1, Memory: "64M" },
  }, "web.json");
  const inst = await instances.start(web);
  assert.equal(good.peek(inst.id)?.state, "running");
  // The monitor's stream broke on the bad engine; after its backoff it reconnects to the new one.
  for (let i = 0; i < 10 && !monitor.snapshot().eventsConnected; i++) {
    clock.advance(5_000);
    await settle();
    await good.settle();
    await settle();
  }
  assert.ok(good.calls.some((c) => c.method === "events"), "no event stream on the new engine");
  // A crash on the new engine reaches the instance list through the event stream.
  good.kill(inst.id);
  await good.settle();
  for (let i = 0; i < 5; i++) await settle();
  assert.notEqual(instances.list("web").find((x) => x.id === inst.id)?.status, "running");
  await monitor.stop();
  await holder.close();
});
