/**
 * Discovery's drain hand-off on the in-memory engine and store: a running instance's key is
 * withdrawn before its container stops, stays withdrawn while the instance exists (a sync in
 * between does not publish it again), and an instance without a published address has nothing
 * to drain.
 */

import assert from "node:assert/strict";
import { MemoryContainerRuntime } from "../adapters/memory/memory_container_runtime.ts";
import { MemoryKvStore } from "../adapters/memory/memory_kv_store.ts";
import { parseAgentConfig, parseServiceDescriptor } from "../config/documents.ts";
import { FakeClock } from "../domain/clock.ts";
import type { Instance, ServiceDescriptor } from "../domain/model.ts";
import { Discovery } from "./discovery.ts";
import { InstanceManager } from "./executor/instances.ts";

const IMAGE = "gru-test/busybox";
const SETTINGS = { appRoot: "app/shop", ttl: 5 };

function service(extra: Record<string, unknown> = {}): ServiceDescriptor {
  return parseServiceDescriptor({
    Name: "web",
    Image: IMAGE,
    DiscoveryPort: "80",
    Configuration: { CpuNumber: 1, Memory: "64M", Ports: { "80": "30100-30109" } },
    ...extra,
  }, "web.json");
}

async function rig() {
  const clock = new FakeClock(1_700_000_000_000);
  const runtime = new MemoryContainerRuntime({ clock, images: [IMAGE], ncpu: 4 });
  const kv = await MemoryKvStore.open();
  const discovery = new Discovery(kv, "10.0.0.7");
  const events: string[] = [];
  const drained: boolean[] = [];
  const services = new Map<string, ServiceDescriptor>();
  const instances: InstanceManager = new InstanceManager({
    runtime,
    clock,
    cluster: "c",
    node: "n1",
    spec: { hostIp: "10.0.0.7", etcdAddr: "http://127.0.0.1:2379", env: () => undefined },
    beforeStop: async (inst: Instance) => {
      const had = await discovery.withdraw(inst.id);
      drained.push(had);
      events.push(`withdrawn ${(await kv.getPrefix("/app/shop/web/")).length} left`);
      // A sync during the drain (a Docker event, the agent's retry loop) publishes nothing back.
      await discovery.sync(instances.list(), services, SETTINGS);
      events.push(`synced ${(await kv.getPrefix("/app/shop/web/")).length} left`);
    },
  });
  const stop = runtime.stop.bind(runtime);
  runtime.stop = (id, timeout) => {
    events.push("container stopped");
    return stop(id, timeout);
  };
  await instances.init();
  return { kv, discovery, instances, services, events, drained };
}

Deno.test("a stopped instance's key goes before its container, and stays gone", async () => {
  const r = await rig();
  try {
    const web = service();
    r.services.set("web", web);
    const a = await r.instances.start(web);
    const b = await r.instances.start(web);
    await r.discovery.sync(r.instances.list(), r.services, SETTINGS);
    const keys = async () => (await r.kv.getPrefix("/app/shop/web/")).map((e) => e.key);
    assert.deepEqual(
      (await keys()).sort(),
      [`/app/shop/web/${a.id}`, `/app/shop/web/${b.id}`].sort(),
    );
    assert.match((await r.kv.get(`/app/shop/web/${b.id}`))!, /^10\.0\.0\.7:301\d\d$/);

    await r.instances.stop(web, { id: b.id });
    assert.deepEqual(r.events, ["withdrawn 1 left", "synced 1 left", "container stopped"]);
    assert.deepEqual(r.drained, [true]);
    assert.deepEqual(await keys(), [`/app/shop/web/${a.id}`]);
    // Once the instance is gone, the withdrawal is forgotten; the others are untouched.
    await r.discovery.sync(r.instances.list(), r.services, SETTINGS);
    assert.deepEqual(await keys(), [`/app/shop/web/${a.id}`]);
  } finally {
    await r.discovery.close();
    await r.kv.close();
  }
});

Deno.test("an instance without a discovery address has nothing to drain", async () => {
  const r = await rig();
  try {
    const web = service({ DiscoveryPort: "" });
    r.services.set("web", web);
    await r.instances.start(web);
    await r.discovery.sync(r.instances.list(), r.services, SETTINGS);
    await r.instances.stop(web);
    assert.deepEqual(r.drained, [false]);
  } finally {
    await r.discovery.close();
    await r.kv.close();
  }
});

Deno.test("Discovery.DrainDelay: seconds from 0 to 3600, absent by default", () => {
  assert.equal(parseAgentConfig({}, "c").discovery.drainDelay, undefined);
  assert.equal(parseAgentConfig({ Discovery: { DrainDelay: 7.5 } }, "c").discovery.drainDelay, 7.5);
  for (const bad of [-1, 3601, "10"]) {
    assert.throws(
      () => parseAgentConfig({ Discovery: { DrainDelay: bad } }, "c.json"),
      (err: Error & { details?: unknown }) =>
        /DrainDelay: expected a number of seconds from 0 to 3600/.test(
          `${err.message} ${JSON.stringify(err.details ?? "")}`,
        ),
    );
  }
});
