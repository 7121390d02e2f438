/**
 * etcd as a real cluster: a real agent process given the three endpoints of a private
 * 3-member etcd on loopback keeps its node registered (lease kept alive) while one member is
 * down, the leader included, and its commands that write etcd still work; a `gru config
 * import` in the middle of a leader election succeeds or fails cleanly (all or nothing), and
 * succeeds once a leader is back; writes through the etcd adapter fail over and never fail.
 */

import assert from "node:assert/strict";
import { gru, GruProcess } from "../helpers/gru_process.ts";
import { EtcdCluster } from "../helpers/etcd_cluster.ts";
import { waitFor } from "../helpers/agent.ts";
import { freePort } from "../helpers/net.ts";
import { testRunId } from "../helpers/env.ts";
import { removeRunContainers } from "../helpers/docker.ts";
import { EtcdKvStore } from "../../src/adapters/etcd/etcd_kv_store.ts";
import { ClusterStore } from "../../src/cluster/cluster_store.ts";
import { LABEL_TEST_RUN } from "../../src/domain/model.ts";

const IMAGE = "gru-test/busybox";

async function writeConf(dir: string, image: string, threshold: number): Promise<void> {
  await Deno.mkdir(`${dir}/services`, { recursive: true });
  await Deno.writeTextFile(
    `${dir}/services/idle.json`,
    JSON.stringify({ Name: "idle", Image: image }),
  );
  await Deno.writeTextFile(
    `${dir}/policy.json`,
    JSON.stringify({ Scaleout: { Enable: true, Threshold: threshold, Metrics: ["cpu_avg"] } }),
  );
}

/** Writes a key every 200 ms for `ms`; returns the errors. */
async function writesFor(store: ClusterStore, key: string, ms: number): Promise<string[]> {
  const errors: string[] = [];
  const end = Date.now() + ms;
  for (let i = 0; Date.now() < end; i++) {
    await store.kv.put(key, String(i)).catch((err) => errors.push(String(err)));
    await new Promise((r) => setTimeout(r, 200));
  }
  return errors;
}

Deno.test("an agent on a 3-member etcd survives the loss and return of any member", async () => {
  const run = testRunId();
  const cluster = `etcdc-${run}`;
  const etcd = await EtcdCluster.start();
  const endpoints = etcd.urls.join(",");
  const env = { ETCD_ADDR: endpoints };
  const tmp = await Deno.makeTempDir({ prefix: "gru-etcdc-" });
  const port = freePort();
  const base = `http://127.0.0.1:${port}/gru/v1`;
  let agent: GruProcess | undefined;
  const store = new ClusterStore(
    await EtcdKvStore.connect({ endpoints: etcd.urls, timeoutMs: 3000 }),
  );
  // Watches the node key all along: it must never disappear (that would be a lost lease).
  let watching = true;
  let armed = false;
  const missing: number[] = [];
  const watcher = (async () => {
    while (watching) {
      const node = await store.getNode(cluster, "e1").catch(() => "error" as const);
      if (armed && node === undefined) missing.push(Date.now());
      await new Promise((r) => setTimeout(r, 300));
    }
  })();
  try {
    assert.equal((await gru(["create", cluster], { env })).code, 0);
    await writeConf(`${tmp}/v1`, IMAGE, 0.81);
    const imp = await gru(["config", "import", cluster, `${tmp}/v1`], { env });
    assert.equal(imp.code, 0, imp.stderr);
    const token = await store.token(cluster);
    agent = new GruProcess([
      "agent",
      "--etcd",
      endpoints,
      "--cluster",
      cluster,
      "--name",
      "e1",
      "--address",
      "127.0.0.1",
      "--port",
      String(port),
      "--listen",
      "127.0.0.1",
      "--state",
      `${tmp}/e1.json`,
      "--ttl",
      "3",
      "--label",
      `${LABEL_TEST_RUN}=${run}`,
    ]);
    const health = () =>
      fetch(`${base}/health`).then((r) => r.json()).catch(() => ({ registered: false }));
    await waitFor(async () => (await health()).registered === true, 30_000, () => agent!.log);
    await waitFor(
      async () => (await store.getNode(cluster, "e1").catch(() => undefined)) !== undefined,
      10_000,
      () => "node record not written",
    );
    armed = true;
    const command = async (Name: string, Target: string) => {
      const res = await fetch(`${base}/commands`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: JSON.stringify({ Name, Target }),
      });
      return { status: res.status, body: await res.json() };
    };

    let version = 1;
    for (const which of ["leader", "follower"] as const) {
      const leader = await etcd.waitLeader();
      const victim = which === "leader" ? leader : (leader + 1) % 3;
      await etcd.kill(victim);
      // An import in the middle of the election (or just after a follower died): it succeeds,
      // or fails with a clear error and changes nothing.
      version++;
      await writeConf(`${tmp}/v${version}`, `${IMAGE}:v${version}`, 0.8 + version / 100);
      const before = await store.exportDocs(cluster).catch(() => undefined);
      // Meanwhile, writes through the adapter fail over to the live members: none fails.
      const [mid, failedWrites] = await Promise.all([
        gru(["config", "import", cluster, `${tmp}/v${version}`], { env }),
        writesFor(store, `/gru/${cluster}/probe`, 4000),
      ]);
      assert.deepEqual(failedWrites, [], `writes failed after the ${which} died`);
      const docs = await store.exportDocs(cluster);
      const image = docs.services?.find((s) => s.name === "idle")?.image;
      const threshold = docs.policy?.scaleout.threshold;
      if (mid.code === 0) {
        assert.equal(image, `${IMAGE}:v${version}`);
        assert.equal(threshold, 0.8 + version / 100);
      } else {
        assert.match(mid.stderr, /etcd/i);
        assert.doesNotMatch(mid.stderr, /\n\s+at .*:\d+:\d+/, "a stack trace instead of an error");
        // Nothing or everything: the two documents moved together.
        const old = before?.services?.find((s) => s.name === "idle")?.image;
        assert.ok(
          (image === old && threshold === before?.policy?.scaleout.threshold) ||
            (image === `${IMAGE}:v${version}` && threshold === 0.8 + version / 100),
          `half an import: ${image} ${threshold}`,
        );
        const again = await gru(["config", "import", cluster, `${tmp}/v${version}`], { env });
        assert.equal(again.code, 0, again.stderr);
      }
      // Commands that write etcd work with a member down.
      for (const [name, active] of [["start", true], ["stop", false]] as const) {
        const res = await command(name, "agent");
        assert.equal(res.status, 200, JSON.stringify(res.body));
        await waitFor(
          async () =>
            (await store.getNode(cluster, "e1").catch(() => undefined))?.active === active,
          15_000,
          () => `active flag not ${active} in etcd`,
        );
      }
      // Longer than two lease TTLs with the member down: the lease is kept alive.
      await new Promise((r) => setTimeout(r, 7000));
      assert.equal((await health()).registered, true, agent.log.slice(-2000));
      assert.notEqual(await store.getNode(cluster, "e1"), undefined);
      const reload = await command("update", "all");
      assert.equal(reload.status, 200, JSON.stringify(reload.body));
      await etcd.restart(victim);
    }
    assert.deepEqual(missing, [], `the node key vanished ${missing.length} times\n${agent.log}`);
    assert.equal((await health()).registered, true);
  } finally {
    watching = false;
    await watcher;
    await agent?.stop("SIGTERM");
    await removeRunContainers(run);
    await store.kv.deletePrefix(`/gru/${cluster}/`).catch(() => {});
    await store.kv.close();
    await etcd.destroy();
    await Deno.remove(tmp, { recursive: true });
  }
});
