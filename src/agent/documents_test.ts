import assert from "node:assert/strict";
import { MemoryKvStore } from "../adapters/memory/memory_kv_store.ts";
import { ClusterStore } from "../cluster/cluster_store.ts";
import { clusterKeys } from "../cluster/keys.ts";
import { defaultAgentConfig } from "../config/documents.ts";
import { AgentDocuments } from "./documents.ts";

const C = "docs";

async function setup() {
  const store = new ClusterStore(await MemoryKvStore.open());
  await store.createCluster(C, { uuid: "a".repeat(32), token: "t" });
  const keys = clusterKeys(C);
  const put = (key: string, doc: unknown) => store.kv.put(key, JSON.stringify(doc));
  await put(keys.service("web"), { Name: "web", Image: "gru-test/busybox" });
  await put(keys.service("db"), { Name: "db", Image: "gru-test/busybox" });
  await put(keys.policy, { Scaleout: { Enable: true, Threshold: 0.93, Metrics: ["cpu_avg"] } });
  await put(keys.config, { Autonomic: { LoopTimeInterval: 7 } });
  return { store, keys, put, docs: new AgentDocuments(store, C) };
}

Deno.test("reload: a bad service is skipped and reported, the others and the policy load", async () => {
  const { keys, put, docs, store } = await setup();
  await put(keys.service("broken"), { Name: "broken" }); // no image
  assert.deepEqual(await docs.reload("all"), ["agent", "policy", "services", "analytics"]);
  assert.deepEqual([...docs.services.keys()].sort(), ["db", "web"]);
  assert.equal(docs.policy.scaleout.threshold, 0.93);
  assert.equal(docs.config.autonomic.loopTimeInterval, 7);
  assert.deepEqual(docs.problems.map((p) => [p.document, p.key, p.inForce]), [
    ["service broken", keys.service("broken"), "none"],
  ]);
  assert.match(docs.problems[0]!.error, /services\/broken/);
  await store.kv.close();
});

Deno.test("reload: a service that turns bad keeps its last good version until fixed", async () => {
  const { keys, put, docs, store } = await setup();
  await docs.reload("all");
  await put(keys.service("web"), { Name: "web", Image: 42 });
  await put(keys.service("db"), { Name: "db", Image: "gru-test/other" });
  await docs.reload("services");
  assert.equal(docs.services.get("web")?.image, "gru-test/busybox");
  assert.equal(docs.services.get("db")?.image, "gru-test/other");
  assert.deepEqual(docs.problems.map((p) => [p.document, p.inForce]), [
    ["service web", "last good"],
  ]);
  // A removed service goes, a fixed one comes back and its problem clears.
  await store.kv.delete(keys.service("db"));
  await put(keys.service("web"), { Name: "web", Image: "gru-test/new" });
  await docs.reload("services");
  assert.deepEqual([...docs.services.keys()], ["web"]);
  assert.equal(docs.services.get("web")?.image, "gru-test/new");
  assert.equal(docs.problems.length, 0);
  await store.kv.close();
});

Deno.test("reload: a bad config keeps the last good one, or the defaults at first, and says so", async () => {
  const { keys, put, docs, store } = await setup();
  await store.kv.put(keys.config, "{ not json");
  await docs.reload("all");
  assert.deepEqual(docs.config, defaultAgentConfig());
  assert.deepEqual(docs.problems.map((p) => [p.document, p.inForce]), [["agent", "defaults"]]);
  assert.equal(docs.policy.scaleout.threshold, 0.93);
  await put(keys.config, { Autonomic: { LoopTimeInterval: 9 } });
  await docs.reload("agent");
  assert.equal(docs.config.autonomic.loopTimeInterval, 9);
  assert.equal(docs.problems.length, 0);
  await put(keys.config, { Autonomic: { LoopTimeInterval: "soon" } });
  await docs.reload("agent");
  assert.equal(docs.config.autonomic.loopTimeInterval, 9);
  assert.deepEqual(docs.problems.map((p) => [p.document, p.inForce]), [["agent", "last good"]]);
  await store.kv.close();
});

Deno.test("reload: a store error changes nothing and throws; onConfig sees each new config", async () => {
  const { keys, put, docs, store } = await setup();
  const seen: number[] = [];
  docs.onConfig = (next) => (seen.push(next.autonomic.loopTimeInterval), Promise.resolve());
  await docs.reload("all");
  await put(keys.service("web"), { Name: "web", Image: "gru-test/changed" });
  const getPrefix = store.kv.getPrefix.bind(store.kv);
  store.kv.getPrefix = () => Promise.reject(new Error("etcd away"));
  await assert.rejects(docs.reload("all"), /etcd away/);
  assert.equal(docs.services.get("web")?.image, "gru-test/busybox");
  store.kv.getPrefix = getPrefix;
  await docs.reload("all");
  assert.equal(docs.services.get("web")?.image, "gru-test/changed");
  assert.deepEqual(seen, [7, 7]);
  await store.kv.close();
});
