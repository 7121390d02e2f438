/**
 * The node's desired state over the in-memory store: restored from etcd, else the cache, else
 * defaults; changes made while etcd is away kept as dirty and written when it returns.
 */

import assert from "node:assert/strict";
import { MemoryKvStore } from "../adapters/memory/memory_kv_store.ts";
import { ClusterStore } from "../cluster/cluster_store.ts";
import { clusterKeys } from "../cluster/keys.ts";
import { UnavailableError } from "../domain/errors.ts";
import type { KvStore } from "../ports/kv_store.ts";
import { NodeState, type NodeStateCacheFile } from "./node_state.ts";

/** A store whose etcd can be switched off: every call fails as an unreachable etcd does. */
async function switchableStore() {
  const kv = await MemoryKvStore.open();
  const state = { down: false };
  const proxy = new Proxy(kv, {
    get(target, prop, receiver) {
      const v = Reflect.get(target, prop, receiver);
      if (typeof v !== "function" || prop === "close") return v;
      return (...args: unknown[]) =>
        state.down
          ? Promise.reject(new UnavailableError("etcd unreachable (test)"))
          : (v as (...a: unknown[]) => unknown).apply(target, args);
    },
  }) as KvStore;
  const store = new ClusterStore(proxy);
  await store.createCluster("c1", { uuid: "u".repeat(32), token: "t" });
  return { kv, store, state };
}

/** A cache file in memory. */
function memoryCache(initial?: string): NodeStateCacheFile & { text: string | undefined } {
  const file = {
    path: "/test/n1.node-state.json",
    text: initial,
    read: () => Promise.resolve(file.text),
    write: (t: string) => {
      file.text = t;
      return Promise.resolve();
    },
  };
  return file;
}

function nodeState(store: ClusterStore, cache?: NodeStateCacheFile) {
  return new NodeState({ store, cluster: "c1", node: "n1", cache });
}

Deno.test("a first start has defaults, and a change is written to etcd and the cache", async () => {
  const { kv, store } = await switchableStore();
  try {
    const cache = memoryCache();
    const ns = nodeState(store, cache);
    await ns.restore();
    assert.deepEqual(ns.state, { baseServices: [], cpuMin: 0, cpuMax: 0, active: false });
    assert.deepEqual(ns.view().sources, {
      baseServices: "default",
      cpuMin: "default",
      cpuMax: "default",
      active: "default",
    });
    assert.equal(await ns.set({ baseServices: ["web"], cpuMax: 0.5, active: true }), true);
    assert.deepEqual(await store.getNodeDesired("c1", "n1"), {
      baseServices: ["web"],
      cpuMax: 0.5,
      active: true,
    });
    const v = ns.view();
    assert.equal(v.sources.baseServices, "etcd");
    assert.equal(v.sources.cpuMin, "default");
    assert.deepEqual(v.pending, []);
    const cached = JSON.parse(cache.text!);
    assert.deepEqual(cached, {
      cluster: "c1",
      node: "n1",
      state: { baseServices: ["web"], cpuMax: 0.5, active: true },
      dirty: [],
    });
  } finally {
    await kv.close();
  }
});

Deno.test("a restart restores from etcd, and etcd wins over the cache", async () => {
  const { kv, store } = await switchableStore();
  try {
    const cache = memoryCache();
    const first = nodeState(store, cache);
    await first.restore();
    await first.set({ baseServices: ["web"], active: true });
    // Someone changed etcd while the agent was down: etcd wins over the older cache.
    await store.putNodeDesired("c1", "n1", { baseServices: ["db"], cpuMin: 0.25 });
    const again = nodeState(store, cache);
    await again.restore();
    assert.deepEqual(again.state, {
      baseServices: ["db"],
      cpuMin: 0.25,
      cpuMax: 0,
      active: false,
    });
    assert.equal(again.view().sources.cpuMin, "etcd");
    assert.equal(again.view().sources.active, "default");
    assert.equal(again.needsSync, false);
    assert.deepEqual(JSON.parse(cache.text!).state, { baseServices: ["db"], cpuMin: 0.25 });
  } finally {
    await kv.close();
  }
});

Deno.test("etcd down at start: the cache is restored, and etcd is read when it returns", async () => {
  const { kv, store, state } = await switchableStore();
  try {
    const cache = memoryCache();
    const first = nodeState(store, cache);
    await first.restore();
    await first.set({ baseServices: ["web"], cpuMax: 0.75, active: true });
    state.down = true;
    const again = nodeState(store, cache);
    await again.restore();
    assert.deepEqual(again.state, {
      baseServices: ["web"],
      cpuMin: 0,
      cpuMax: 0.75,
      active: true,
    });
    assert.equal(again.view().sources.baseServices, "cache");
    assert.match(again.view().etcdError ?? "", /unreachable/);
    assert.equal(again.needsSync, true);
    assert.equal(await again.sync(), false, "etcd still down: nothing changes");
    // etcd returns with another value: it wins.
    state.down = false;
    await store.putNodeDesired("c1", "n1", { baseServices: ["web"], cpuMax: 0.5, active: true });
    assert.equal(await again.sync(), true);
    assert.equal(again.state.cpuMax, 0.5);
    assert.equal(again.view().sources.cpuMax, "etcd");
    assert.equal(again.needsSync, false);
    assert.equal(again.view().etcdError, undefined);
  } finally {
    await kv.close();
  }
});

Deno.test("no cache and etcd down: defaults, then etcd's state when it returns", async () => {
  const { kv, store, state } = await switchableStore();
  try {
    await store.putNodeDesired("c1", "n1", { baseServices: ["web"], active: true });
    state.down = true;
    const ns = nodeState(store);
    await ns.restore();
    assert.equal(ns.state.active, false);
    state.down = false;
    assert.equal(await ns.sync(), true);
    assert.deepEqual(ns.state.baseServices, ["web"]);
    assert.equal(ns.state.active, true);
  } finally {
    await kv.close();
  }
});

Deno.test("a change made while etcd is away is kept dirty, survives a restart and wins", async () => {
  const { kv, store, state } = await switchableStore();
  try {
    const cache = memoryCache();
    const first = nodeState(store, cache);
    await first.restore();
    await first.set({ baseServices: ["web"], cpuMax: 0.5, active: true });
    state.down = true;
    assert.equal(await first.set({ active: false }), false);
    assert.deepEqual(first.view().pending, ["active"]);
    assert.deepEqual(JSON.parse(cache.text!).dirty, ["active"]);
    // The agent dies; etcd returns with the old record; the restarted agent keeps the change.
    state.down = false;
    const again = nodeState(store, cache);
    await again.restore();
    assert.equal(again.state.active, false);
    assert.deepEqual(again.state.baseServices, ["web"]);
    assert.deepEqual(await store.getNodeDesired("c1", "n1"), {
      baseServices: ["web"],
      cpuMax: 0.5,
      active: false,
    });
    assert.deepEqual(again.view().pending, []);
    assert.equal(again.view().sources.active, "etcd");
  } finally {
    await kv.close();
  }
});

Deno.test("a dirty change made with etcd never read keeps etcd's other fields", async () => {
  const { kv, store, state } = await switchableStore();
  try {
    await store.putNodeDesired("c1", "n1", { baseServices: ["web"], active: true });
    state.down = true;
    const ns = nodeState(store, memoryCache());
    await ns.restore();
    assert.equal(await ns.set({ cpuMax: 0.5 }), false);
    state.down = false;
    assert.equal(await ns.sync(), true);
    assert.deepEqual(ns.state, { baseServices: ["web"], cpuMin: 0, cpuMax: 0.5, active: true });
    assert.deepEqual(await store.getNodeDesired("c1", "n1"), {
      baseServices: ["web"],
      cpuMax: 0.5,
      active: true,
    });
  } finally {
    await kv.close();
  }
});

Deno.test("etcd without a record takes the cache's state back", async () => {
  const { kv, store } = await switchableStore();
  try {
    const cache = memoryCache();
    const first = nodeState(store, cache);
    await first.restore();
    await first.set({ baseServices: ["web"], active: true });
    await kv.delete(clusterKeys("c1").nodeDesired("n1"));
    const again = nodeState(store, cache);
    await again.restore();
    assert.equal(again.state.active, true);
    assert.deepEqual(await store.getNodeDesired("c1", "n1"), {
      baseServices: ["web"],
      active: true,
    });
  } finally {
    await kv.close();
  }
});

Deno.test("a bad cache or etcd record is reported and never used", async () => {
  const { kv, store } = await switchableStore();
  try {
    const other = memoryCache(JSON.stringify({
      cluster: "c1",
      node: "n2",
      state: { active: true },
      dirty: ["active"],
    }));
    const a = nodeState(store, other);
    await a.restore();
    assert.equal(a.state.active, false, "another node's cache is ignored");
    const bad = memoryCache(JSON.stringify({
      cluster: "c1",
      node: "n1",
      state: { cpuMax: 7 },
      dirty: [],
    }));
    const b = nodeState(store, bad);
    await b.restore();
    assert.equal(b.state.cpuMax, 0, "an invalid cache is ignored");
    await kv.put(clusterKeys("c1").nodeDesired("n1"), '{"cpuMin": "lots"}');
    await assert.rejects(
      () => store.getNodeDesired("c1", "n1"),
      /etcd key \/gru\/c1\/desired\/n1: \$\.cpuMin: expected a number in \[0, 1\]/,
    );
    const c = nodeState(store, memoryCache());
    await c.restore();
    assert.equal(c.state.cpuMin, 0);
    assert.throws(() => c.set({ cpuMax: 2 }), /\$\.cpuMax: expected a number in \[0, 1\]/);
  } finally {
    await kv.close();
  }
});
