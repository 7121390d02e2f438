/**
 * An agent keeps running while etcd is down and registers again when it returns (a real
 * agent process against a private, real etcd that the test kills and restarts).
 */

import assert from "node:assert/strict";
import { GruProcess } from "../helpers/gru_process.ts";
import { EtcdServer } from "../helpers/etcd_server.ts";
import { EtcdKvStore } from "../../src/adapters/etcd/etcd_kv_store.ts";
import { ClusterStore } from "../../src/cluster/cluster_store.ts";
import { eventually } from "../contract/kv_store_contract.ts";
import { testRunId } from "../helpers/env.ts";
import { LABEL_TEST_RUN } from "../../src/domain/model.ts";

Deno.test("agent survives an etcd outage and re-registers when etcd returns", async () => {
  const etcd = await EtcdServer.start();
  const tmp = await Deno.makeTempDir({ prefix: "gru-outage-" });
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  let agent: GruProcess | undefined;
  const connect = async () =>
    new ClusterStore(await EtcdKvStore.connect({ endpoints: [etcd.url], timeoutMs: 1000 }));
  try {
    let store = await connect();
    await store.createCluster("outage", { uuid: "a".repeat(32), token: "t" });
    await store.kv.close();
    agent = new GruProcess([
      "agent",
      "--etcd",
      etcd.url,
      "--cluster",
      "outage",
      "--name",
      "o1",
      "--address",
      "127.0.0.1",
      "--port",
      String(port),
      "--listen",
      "127.0.0.1",
      "--state",
      `${tmp}/o1.json`,
      "--ttl",
      "2",
      "--label",
      `${LABEL_TEST_RUN}=${testRunId()}`,
    ]);
    store = await connect();
    await eventually(async () => (await store.getNode("outage", "o1")) !== undefined, 20_000);
    await store.kv.close();

    await etcd.kill();
    // Longer than two TTLs: the lease is gone for good by now.
    await new Promise((r) => setTimeout(r, 5000));
    const res = await fetch(`http://127.0.0.1:${port}/gru/v1/health`);
    const h = await res.json();
    assert.equal(res.status, 503, JSON.stringify(h));
    assert.equal(h.status, "degraded");

    await etcd.restart();
    store = await connect();
    try {
      await eventually(async () => {
        try {
          return (await store.getNode("outage", "o1")) !== undefined;
        } catch {
          return false;
        }
      }, 30_000).catch((err) => {
        throw new Error(`${err.message}\nagent log:\n${agent?.log}`);
      });
      await eventually(
        async () =>
          (await fetch(`http://127.0.0.1:${port}/gru/v1/health`).then((r) => r.json())).status ===
            "ok",
        10_000,
      );
    } finally {
      await store.kv.close();
    }
  } finally {
    await agent?.stop("SIGKILL");
    await etcd.destroy();
    await Deno.remove(tmp, { recursive: true });
  }
});
