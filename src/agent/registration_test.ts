import assert from "node:assert/strict";
import { MemoryKvStore } from "../adapters/memory/memory_kv_store.ts";
import { ClusterStore } from "../cluster/cluster_store.ts";
import type { KvStore } from "../ports/kv_store.ts";
import type { NodeRecord } from "../domain/model.ts";
import { systemClock } from "../domain/clock.ts";
import { NodeRegistration } from "./registration.ts";

const record: NodeRecord = {
  config: {
    uuid: "u".repeat(32),
    name: "n1",
    address: "http://127.0.0.1:1",
    cluster: "c",
    remote: "",
  },
  constraints: { cpuMin: 0, cpuMax: 0, baseServices: [] },
  resources: { totalCpus: 0, totalMemory: 0 },
  active: false,
};

/** `kv` whose `grantLease` waits until `open()` is called. */
function gatedLeases(kv: MemoryKvStore): { kv: KvStore; open: () => void } {
  let open!: () => void;
  const gate = new Promise<void>((r) => open = r);
  const proxy = new Proxy(kv, {
    get(target, prop) {
      if (prop === "grantLease") {
        return async (ttl: number) => {
          await gate;
          return target.grantLease(ttl);
        };
      }
      const v = Reflect.get(target, prop, target);
      return typeof v === "function" ? v.bind(target) : v;
    },
  });
  return { kv: proxy, open };
}

/** `p`, or a rejection naming `what` when it has not settled after `ms` (a hang, not a timing). */
function settles<T>(p: Promise<T>, what: string, ms = 10_000): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const hang = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} still pending after ${ms} ms`)), ms);
  });
  return Promise.race([p, hang]).finally(() => clearTimeout(timer));
}

Deno.test("stop() during the first registration ends the loop and revokes the lease", async () => {
  const mem = await MemoryKvStore.open();
  const gated = gatedLeases(mem);
  const store = new ClusterStore(gated.kv);
  await store.createCluster("c", { uuid: "a".repeat(32), token: "t" });
  const reg = new NodeRegistration({
    store,
    cluster: "c",
    ttl: 5,
    clock: systemClock,
    record: () => record,
  });
  try {
    reg.start();
    // SIGTERM while the lease is being granted: the registration completes after the abort.
    const stopped = reg.stop();
    gated.open();
    await settles(stopped, "NodeRegistration.stop()");
    assert.equal(reg.registered, false);
    assert.deepEqual(await store.listNodes("c"), [], "the node left at once (lease revoked)");
  } finally {
    await mem.close();
  }
});

Deno.test("stop() after registering revokes the lease", async () => {
  const mem = await MemoryKvStore.open();
  const store = new ClusterStore(mem);
  await store.createCluster("c", { uuid: "a".repeat(32), token: "t" });
  const reg = new NodeRegistration({
    store,
    cluster: "c",
    ttl: 5,
    clock: systemClock,
    record: () => record,
  });
  try {
    reg.start();
    await reg.waitRegistered(10_000);
    assert.equal((await store.listNodes("c")).length, 1);
    await settles(reg.stop(), "NodeRegistration.stop()");
    assert.deepEqual(await store.listNodes("c"), []);
  } finally {
    await mem.close();
  }
});
