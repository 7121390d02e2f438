import assert from "node:assert/strict";
import { MemoryKvStore } from "../adapters/memory/memory_kv_store.ts";
import { ClusterStore } from "../cluster/cluster_store.ts";
import { clusterKeys } from "../cluster/keys.ts";
import { defaultAgentConfig } from "../config/documents.ts";
import { NotFoundError, UnavailableError } from "../domain/errors.ts";
import { awaitCluster, awaitDocuments } from "./agent_process.ts";
import { AgentDocuments } from "../agent/documents.ts";

async function cluster(config: string) {
  const store = new ClusterStore(await MemoryKvStore.open());
  await store.createCluster("c", { uuid: "a".repeat(32), token: "t" });
  await store.kv.put(clusterKeys("c").config, config);
  return store;
}

Deno.test("awaitCluster retries a config read that fails, never falling back to defaults", async () => {
  const store = await cluster(JSON.stringify({ Docker: { DaemonUrl: "tcp://127.0.0.1:2375" } }));
  const get = store.kv.get.bind(store.kv);
  let failures = 2;
  store.kv.get = (key) =>
    key === clusterKeys("c").config && failures-- > 0
      ? Promise.reject(new UnavailableError("etcd blinked"))
      : get(key);
  const config = await awaitCluster(store, "c", new AbortController().signal);
  assert.equal(failures, -1);
  assert.equal(config.docker.daemonUrl, "tcp://127.0.0.1:2375");
  await store.kv.close();
});

Deno.test("awaitCluster starts on the defaults only for an invalid config; a missing cluster is fatal", async () => {
  const store = await cluster(JSON.stringify({ Docker: { DaemonTimeout: "long" } }));
  assert.deepEqual(
    await awaitCluster(store, "c", new AbortController().signal),
    defaultAgentConfig(),
  );
  await assert.rejects(awaitCluster(store, "nope", new AbortController().signal), NotFoundError);
  await store.kv.close();
});

Deno.test("awaitDocuments retries a failing store, then loads what is good", async () => {
  const store = await cluster(JSON.stringify({ Autonomic: { LoopTimeInterval: 7 } }));
  await store.kv.put(clusterKeys("c").service("bad"), JSON.stringify({ Name: "bad" }));
  const getPrefix = store.kv.getPrefix.bind(store.kv);
  let failures = 2;
  store.kv.getPrefix = (prefix) =>
    failures-- > 0 ? Promise.reject(new UnavailableError("etcd blinked")) : getPrefix(prefix);
  const docs = new AgentDocuments(store, "c");
  await awaitDocuments(docs, new AbortController().signal);
  assert.ok(failures < 0);
  assert.equal(docs.loaded, true);
  assert.equal(docs.config.autonomic.loopTimeInterval, 7);
  assert.deepEqual(docs.problems.map((p) => p.document), ["service bad"]);
  await store.kv.close();
});
