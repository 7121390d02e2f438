import assert from "node:assert/strict";
import { Gossiper, type GossipTransport } from "./gossiper.ts";
import { Membership } from "../membership.ts";
import { MemoryKvStore } from "../../adapters/memory/memory_kv_store.ts";
import { ClusterStore } from "../../cluster/cluster_store.ts";
import { FakeClock } from "../../domain/clock.ts";
import { seededPrng } from "../../domain/random.ts";
import type { LocalShare } from "./types.ts";
import type { GossipMessage } from "./types.ts";

const share: LocalShare = {
  active: true,
  services: { web: { running: 1, pending: 0, analytics: {}, cpuNumber: 1 } },
  resources: { totalCpus: 2, freeCpus: 1, totalMemory: 1, freeMemory: 1 },
};

async function setup(transport: GossipTransport, registered = true) {
  const store = new ClusterStore(await MemoryKvStore.open());
  await store.createCluster("c", { uuid: "u", token: "t" });
  const lease = await store.kv.grantLease(30);
  for (const name of ["n1", "n2", "n3"]) {
    await store.registerNode("c", {
      config: { uuid: name, name, address: `http://${name}`, cluster: "c", remote: "" },
      constraints: { cpuMin: 0, cpuMax: 0, baseServices: [] },
      resources: { totalCpus: 2, totalMemory: 1 },
      active: true,
    }, lease.id);
  }
  const clock = new FakeClock(1_000_000);
  const membership = new Membership({ store, cluster: "c", clock });
  membership.start();
  clock.advance(0);
  // Let the first listing land.
  for (let i = 0; i < 50 && membership.nodes.size < 3; i++) {
    await new Promise((r) => setTimeout(r, 10));
  }
  const g = new Gossiper({
    self: "n1",
    cluster: "c",
    clock,
    prng: seededPrng(3),
    membership,
    transport,
    settings: () => ({ intervalMs: 1000, maxFriends: 2 }),
    registered: () => registered,
    fallbackShare: () => share,
  });
  return {
    g,
    close: async () => {
      await membership.stop();
      await lease.revoke();
      await store.kv.close();
    },
  };
}

Deno.test("Gossiper merges its friends' replies and reports them in the cluster view", async () => {
  const peer = (from: string): GossipMessage => ({
    cluster: "c",
    from,
    entries: [{
      origin: from,
      version: 1,
      time: 0,
      active: true,
      services: { web: { running: 2, pending: 0, cpu_avg: 0.8, analytics: {}, cpuNumber: 1 } },
      resources: { totalCpus: 2, freeCpus: 0, totalMemory: 1, freeMemory: 1 },
      actions: [],
    }],
  });
  const asked: string[] = [];
  const { g, close } = await setup((address) => {
    asked.push(address);
    return Promise.resolve(peer(address.slice("http://".length)));
  });
  try {
    await g.round();
    assert.deepEqual(asked.sort(), ["http://n2", "http://n3"]);
    const view = g.update(share, 1_000_000);
    assert.equal(view.web?.running, 5);
    assert.deepEqual(view.web?.nodes.sort(), ["n1", "n2", "n3"]);
    assert.equal(g.unknownPeers().length, 0);
    assert.equal(g.partitioned(), undefined);
  } finally {
    await close();
  }
});

Deno.test("Gossiper calls itself partitioned when etcd or most peers are out of reach", async () => {
  const down = await setup(() => Promise.reject(new Error("unreachable")));
  try {
    await down.g.round();
    assert.match(down.g.partitioned() ?? "", /reached only 0 of 2 peers/);
    assert.equal(down.g.stats.failures, 2);
    assert.deepEqual(down.g.unknownPeers().sort(), ["n2", "n3"]);
  } finally {
    await down.close();
  }
  const noEtcd = await setup(() => Promise.reject(new Error("x")), false);
  try {
    assert.equal(noEtcd.g.partitioned(), "this node cannot reach etcd");
  } finally {
    await noEtcd.close();
  }
});

Deno.test("Gossiper refuses another cluster's message and replies with what the sender lacks", async () => {
  const { g, close } = await setup(() => Promise.reject(new Error("x")));
  try {
    g.update(share, 1_000_000);
    assert.throws(() => g.receive({ cluster: "other", from: "x", entries: [] }), /cluster "other"/);
    const mine = g.view.get("n1")!;
    const reply = g.receive({ cluster: "c", from: "n2", entries: [mine] });
    assert.deepEqual(reply.entries, []);
    const fresh = g.receive({ cluster: "c", from: "n2", entries: [] });
    assert.deepEqual(fresh.entries.map((e) => e.origin), ["n1"]);
  } finally {
    await close();
  }
});
