/**
 * A restarted agent (in process, on a fake clock over the in-memory store and engine) gets its
 * base services, `cpumax` and active flag back, and keeps its base service running again.
 */

import assert from "node:assert/strict";
import { MemoryContainerRuntime } from "../adapters/memory/memory_container_runtime.ts";
import { MemoryKvStore } from "../adapters/memory/memory_kv_store.ts";
import { ClusterStore } from "../cluster/cluster_store.ts";
import { parseAgentConfig, parseServiceDescriptor } from "../config/documents.ts";
import { FakeClock } from "../domain/clock.ts";
import type { UsageReader } from "../ports/usage_reader.ts";
import type { Agent } from "./agent.ts";
import type { NodeStateCacheFile } from "./node_state.ts";
import { wireTestAgent } from "./_testing.ts";

const IMAGE = "gru-test/busybox";

const idle: UsageReader = {
  kind: "fake",
  read: () => Promise.resolve({ at: 0, cpuNs: 0, memoryBytes: 0 }),
  forget: () => {},
  close: () => Promise.resolve(),
};

async function rig() {
  const clock = new FakeClock(1_700_000_000_000);
  const runtime = new MemoryContainerRuntime({ clock, images: [IMAGE], ncpu: 4 });
  const store = new ClusterStore(await MemoryKvStore.open());
  await store.createCluster("c1", { uuid: "u".repeat(32), token: "t" });
  await store.importDocs("c1", {
    config: parseAgentConfig({ Autonomic: { LoopTimeInterval: 1, Warmup: 0 } }, "config.json"),
    services: [
      parseServiceDescriptor({
        Name: "web",
        Image: IMAGE,
        Configuration: { CpuNumber: 1, Memory: "64M" },
      }, "web.json"),
    ],
  });
  const file = { text: undefined as string | undefined };
  const cache: NodeStateCacheFile = {
    path: "/test/n1.node-state.json",
    read: () => Promise.resolve(file.text),
    write: (t) => (file.text = t, Promise.resolve()),
  };
  const agent = (): Agent =>
    wireTestAgent({ cluster: "c1", store, runtime, clock, usage: idle, nodeStateCache: cache });
  const web = async () =>
    (await runtime.listAll()).filter((c) => c.name.startsWith("web_") && c.state === "running");
  return { clock, runtime, store, file, agent, web };
}

/** Lets fake time pass until `check` holds (bounded by a number of fake seconds). */
async function until(clock: FakeClock, check: () => Promise<boolean>, what: string) {
  for (let i = 0; i < 60; i++) {
    if (await check()) return;
    clock.advance(1000);
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`Not reached within 60 fake seconds: ${what}`);
}

Deno.test("a restarted agent restores its desired state and replaces a killed base service", async () => {
  const r = await rig();
  const first = r.agent();
  try {
    await first.start();
    await first.command({ name: "update", target: "node-base-services", object: ["web"] });
    await first.command({ name: "update", target: "node-cpumax", object: 0.5 });
    await first.command({ name: "start", target: "agent" });
    await until(r.clock, async () => (await r.web()).length === 1, "the base service runs");
  } finally {
    await first.stop();
  }
  assert.equal(first.active, false);
  const [only] = await r.web();
  r.runtime.kill(only!.id);
  await r.runtime.settle();
  assert.equal((await r.web()).length, 0);

  const second = r.agent();
  try {
    await second.start();
    assert.equal(second.active, true, "the loop runs again without `start agent`");
    assert.deepEqual(second.constraints, { cpuMin: 0, cpuMax: 0.5, baseServices: ["web"] });
    const node = await second.node();
    assert.equal(node.active, true);
    assert.deepEqual(node.desired.sources, {
      baseServices: "etcd",
      cpuMin: "default",
      cpuMax: "etcd",
      active: "etcd",
    });
    await until(r.clock, async () => (await r.web()).length === 1, "the base service is back");
    await second.command({ name: "stop", target: "agent" });
    assert.equal(await r.store.getNodeDesired("c1", "n1").then((d) => d?.active), false);
    assert.equal(JSON.parse(r.file.text!).state.active, false);
  } finally {
    await second.stop();
    await r.store.kv.close();
  }
});
