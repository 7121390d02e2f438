/**
 * `gru join <cluster> --name N` is the agent, as in the original and the seed README: the
 * process stays up, registers the node, serves the API with the loop inactive, and `gru manage`
 * lists it; SIGTERM makes it leave (lease revoked: the node is gone at once) and exit 0. With
 * `--register-only` it registers and exits.
 */

import assert from "node:assert/strict";
import { gru, GruProcess } from "../helpers/gru_process.ts";
import { etcdEndpoints, testRunId } from "../helpers/env.ts";
import { removeRunContainers } from "../helpers/docker.ts";
import { waitFor } from "../helpers/agent.ts";
import { freePort } from "../helpers/net.ts";
import { EtcdKvStore } from "../../src/adapters/etcd/etcd_kv_store.ts";
import { ClusterStore } from "../../src/cluster/cluster_store.ts";
import { LABEL_TEST_RUN } from "../../src/domain/model.ts";

Deno.test("gru join stays up as the agent, serves /health until SIGTERM, then leaves", async () => {
  const run = testRunId();
  const cluster = `joinrun-${run}`;
  const etcd = etcdEndpoints().join(",");
  const env = { ETCD_ADDR: etcd };
  const tmp = await Deno.makeTempDir({ prefix: "gru-join-" });
  const kv = await EtcdKvStore.connect({ endpoints: etcdEndpoints() });
  const store = new ClusterStore(kv);
  const port = freePort();
  let agent: GruProcess | undefined;
  try {
    const created = await gru(["create", cluster], { env });
    assert.equal(created.code, 0, created.stderr);
    agent = new GruProcess([
      "join",
      cluster,
      "--name",
      "j1",
      // Local test only: loopback, a free port, a private identity file and the run label.
      "--address",
      "127.0.0.1",
      "--listen",
      "127.0.0.1",
      "--port",
      String(port),
      "--state",
      `${tmp}/j1.json`,
      "--ttl",
      "3",
      "--label",
      `${LABEL_TEST_RUN}=${run}`,
    ], env);
    const base = `http://127.0.0.1:${port}/gru/v1`;
    let health: Record<string, unknown> = {};
    await waitFor(
      async () => {
        try {
          const r = await fetch(`${base}/health`);
          health = await r.json();
          return health.registered === true;
        } catch {
          return false;
        }
      },
      60_000,
      () => `no healthy agent; log:\n${agent!.log}`,
    );
    assert.equal(health.active, false, JSON.stringify(health)); // waits for `start agent`

    const listed = await gru(["manage"], { env, stdin: `use ${cluster}\nlist nodes\n` });
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(listed.stdout, new RegExp(`j1 +http://127\\.0\\.0\\.1:${port} +no`));
    assert.match(listed.stdout, /TOTAL: 1/);
    const saved = JSON.parse(await Deno.readTextFile(`${tmp}/j1.json`));
    assert.equal(saved.name, "j1");

    // Still serving a while later: join did not exit after registering.
    await new Promise((r) => setTimeout(r, 4000));
    const again = await fetch(`${base}/health`);
    assert.equal(again.status, 200, await again.clone().text());
    await again.body?.cancel();

    const status = await agent.stop("SIGTERM");
    agent = undefined;
    assert.equal(status.code, 0);
    assert.equal(await store.getNode(cluster, "j1"), undefined, "lease revoked at exit");
    await assert.rejects(fetch(`${base}/health`));

    // --register-only: registers and exits (the node lives for one TTL without an agent).
    const reg = await gru([
      "join",
      cluster,
      "--name",
      "j2",
      "--address",
      "127.0.0.1",
      "--state",
      `${tmp}/j2.json`,
      "--register-only",
    ], { env });
    assert.equal(reg.code, 0, reg.stderr);
    assert.match(reg.stdout, /Start the agent: gru agent --state/);
  } finally {
    await agent?.stop("SIGKILL");
    await removeRunContainers(run);
    await kv.deletePrefix(`/gru/${cluster}/`);
    await kv.close();
    await Deno.remove(tmp, { recursive: true });
  }
});
