/**
 * `gru status --json` against real agent processes (real etcd, real engine): both live nodes,
 * the instance started on one of them, the services with their counts per node; and the same
 * cluster in the terminal view.
 */

import assert from "node:assert/strict";
import { gru, type GruProcess, loopbackAgent } from "../helpers/gru_process.ts";
import { etcdEndpoints, testRunId } from "../helpers/env.ts";
import { removeRunContainers } from "../helpers/docker.ts";
import { waitFor } from "../helpers/agent.ts";
import { EtcdKvStore } from "../../src/adapters/etcd/etcd_kv_store.ts";
import type { StatusSnapshot } from "../../src/cli/status/collect.ts";
import { freePort } from "../helpers/net.ts";

Deno.test("gru status --json shows the cluster as the agents see it", async () => {
  const run = testRunId();
  const cluster = `status-${run}`;
  const env = { ETCD_ADDR: etcdEndpoints().join(",") };
  const tmp = await Deno.makeTempDir({ prefix: "gru-status-" });
  const agents: GruProcess[] = [];
  const ports = [freePort(), freePort()];
  try {
    assert.equal((await gru(["create", cluster], { env })).code, 0);
    await Deno.mkdir(`${tmp}/conf/services`, { recursive: true });
    await Deno.writeTextFile(
      `${tmp}/conf/services/web.json`,
      JSON.stringify({ Name: "web", Image: "gru-demo/web", Configuration: { cpunumber: 1 } }),
    );
    await Deno.writeTextFile(
      `${tmp}/conf/services/idle.json`,
      JSON.stringify({ Name: "idle", Image: "gru-test/busybox" }),
    );
    const imp = await gru(["config", "import", cluster, `${tmp}/conf`], { env });
    assert.equal(imp.code, 0, imp.stderr);
    for (const [i, port] of ports.entries()) {
      agents.push(loopbackAgent({
        cluster,
        name: `s${i + 1}`,
        port,
        stateDir: tmp,
        run,
        ttl: 3,
        env,
      }));
    }
    const health = (port: number) =>
      fetch(`http://127.0.0.1:${port}/gru/v1/health`)
        .then(async (r) => (await r.json()).registered === true)
        .catch(() => false);
    await waitFor(
      async () => (await Promise.all(ports.map(health))).every(Boolean),
      30_000,
      () => agents.map((a) => a.log.slice(-500)).join("\n---\n"),
    );

    const kv = await EtcdKvStore.connect({ endpoints: etcdEndpoints() });
    const token = await kv.get(`/gru/${cluster}/token`).finally(() => kv.close());
    const started = await fetch(`http://127.0.0.1:${ports[1]}/gru/v1/services/web/instances`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}` },
    });
    assert.equal(started.status, 201, await started.clone().text());
    await started.body?.cancel();

    const res = await gru(["status", "--cluster", cluster, "--json"], { env });
    assert.equal(res.code, 0, res.stderr);
    const snap = JSON.parse(res.stdout) as StatusSnapshot;
    assert.equal(snap.cluster, cluster);
    assert.ok(Math.abs(Date.parse(snap.time) - Date.now()) < 60_000);
    assert.deepEqual(snap.nodes.map((n) => n.name), ["s1", "s2"]);
    const [s1, s2] = snap.nodes;
    assert.equal(s1?.address, `http://127.0.0.1:${ports[0]}`);
    for (const n of snap.nodes) {
      assert.equal(n.health, "ok", JSON.stringify(n));
      assert.equal(n.error, undefined);
      assert.equal(n.active, false);
      assert.ok(n.resources.totalCpus > 0);
      assert.ok(Array.isArray(n.decisions));
    }
    assert.deepEqual(s1?.instances, []);
    assert.equal(s2?.instances.length, 1);
    assert.equal(s2?.instances[0]?.service, "web");
    assert.equal(s2?.instances[0]?.cpus.length, 1);
    assert.deepEqual(snap.services, [
      { name: "idle", image: "gru-test/busybox", instances: { total: 0, byNode: {} } },
      { name: "web", image: "gru-demo/web", instances: { total: 1, byNode: { s2: 1 } } },
    ]);

    const view = await gru(["status", "--cluster", cluster], { env });
    assert.equal(view.code, 0, view.stderr);
    assert.match(view.stdout, new RegExp(`^Cluster ${cluster}: 2 nodes, 2 services`, "m"));
    assert.match(view.stdout, /^s2 +http:\/\/127\.0\.0\.1:\d+ +no +ok +1\/\d+ +.* 1$/m);
    assert.match(view.stdout, /^web +gru-demo\/web +1 +0 +1$/m);

    // A dead node is reported, not fatal (its lease outlives the process for a while).
    await agents[0]!.stop("SIGKILL");
    const after = await gru(["status", "--cluster", cluster, "--json"], { env });
    assert.equal(after.code, 0, after.stderr);
    const dead = (JSON.parse(after.stdout) as StatusSnapshot).nodes.find((n) => n.name === "s1");
    if (dead) {
      assert.equal(dead.health, "unreachable");
      assert.match(dead.error ?? "", /Cannot reach agent/);
    }
  } finally {
    for (const a of agents) await a.stop("SIGKILL");
    await removeRunContainers(run);
    const kv = await EtcdKvStore.connect({ endpoints: etcdEndpoints() });
    await kv.deletePrefix(`/gru/${cluster}/`).finally(() => kv.close());
    await Deno.remove(tmp, { recursive: true });
  }
});
