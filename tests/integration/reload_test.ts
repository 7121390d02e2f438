/**
 * Start-up and reload that never degrade silently, on real agent processes over the shared etcd
 * and the real engine: one bad document does not block the others (its last good version stays
 * in force, and `/health` and `gru status` name it), and `update agent` moves the agent to
 * another Docker engine when `Docker.DaemonUrl` changes.
 */

import assert from "node:assert/strict";
import { gru, type GruProcess, loopbackAgent } from "../helpers/gru_process.ts";
import { etcdEndpoints, testRunId } from "../helpers/env.ts";
import { removeRunContainers, testRuntime } from "../helpers/docker.ts";
import { waitFor } from "../helpers/agent.ts";
import { freePort } from "../helpers/net.ts";
import { EtcdKvStore } from "../../src/adapters/etcd/etcd_kv_store.ts";
import { clusterKeys } from "../../src/cluster/keys.ts";
import { LABEL_TEST_RUN } from "../../src/domain/model.ts";
import type { StatusSnapshot } from "../../src/cli/status/collect.ts";

const IMAGE = "gru-test/busybox";
const WEB = "gru-demo/web";

/** A cluster with `docs` written straight to etcd (bad ones included), and a way to talk to it. */
async function rig(name: string, docs: Record<string, unknown>) {
  const run = testRunId();
  const cluster = `${name}-${run}`;
  const env = { ETCD_ADDR: etcdEndpoints().join(",") };
  const created = await gru(["create", cluster], { env });
  assert.equal(created.code, 0, created.stderr);
  const kv = await EtcdKvStore.connect({ endpoints: etcdEndpoints() });
  const keys = clusterKeys(cluster);
  const put = (key: string, doc: unknown) =>
    kv.put(key, typeof doc === "string" ? doc : JSON.stringify(doc));
  for (const [key, doc] of Object.entries(docs)) await put(`/gru/${cluster}/${key}`, doc);
  const token = (await kv.get(keys.token))!;
  const tmp = await Deno.makeTempDir({ prefix: `gru-${name}-` });
  const port = freePort();
  const base = `http://127.0.0.1:${port}/gru/v1`;
  const auth = { authorization: `Bearer ${token}` };
  let agent: GruProcess | undefined;
  const r = {
    run,
    cluster,
    env,
    keys,
    put,
    base,
    get agent() {
      return agent!;
    },
    start() {
      agent = loopbackAgent({ cluster, name: "r1", port, stateDir: tmp, run, ttl: 3, env });
    },
    async health(withToken = false) {
      const res = await fetch(`${base}/health`, withToken ? { headers: auth } : {});
      return { status: res.status, body: await res.json() };
    },
    async get(path: string) {
      const res = await fetch(`${base}${path}`, { headers: auth });
      assert.equal(res.status, 200, `${path}: ${res.status}`);
      return await res.json();
    },
    async command(Name: string, Target: string, Object?: unknown) {
      const res = await fetch(`${base}/commands`, {
        method: "POST",
        headers: { ...auth, "content-type": "application/json" },
        body: JSON.stringify({ Name, Target, Object }),
      });
      return { status: res.status, body: await res.json() };
    },
    async startInstance(service: string) {
      const res = await fetch(`${base}/services/${service}/instances`, {
        method: "POST",
        headers: auth,
      });
      return { status: res.status, body: await res.json() };
    },
    async registered() {
      await waitFor(
        () => r.health().then((h) => h.body.registered === true).catch(() => false),
        30_000,
        () => agent?.log.slice(-2000) ?? "",
      );
    },
    async close() {
      await agent?.stop("SIGKILL");
      await removeRunContainers(run);
      await kv.deletePrefix(`/gru/${cluster}/`).catch(() => {});
      await kv.close();
      await Deno.remove(tmp, { recursive: true });
    },
  };
  return r;
}

Deno.test("one bad document blocks nothing: the rest loads, the last good stays, all is reported", async () => {
  const r = await rig("reload", {
    policy: { Scaleout: { Enable: true, Threshold: 0.93, Metrics: ["cpu_avg"] } },
    "services/web": { Name: "web", Image: IMAGE, Configuration: { CpuNumber: 1 } },
    "services/broken": { Name: "broken", Configuration: { CpuNumber: 1 } }, // no image
  });
  try {
    r.start();
    await r.registered();
    // The good service and the real policy are in force; the bad one is named.
    const services = await r.get("/services") as { name: string }[];
    assert.deepEqual(services.map((s) => s.name), ["web"]);
    const config = await r.get("/config");
    assert.equal(config.policy.scaleout.threshold, 0.93, JSON.stringify(config.policy));
    let h = await r.health();
    assert.equal(h.status, 503);
    assert.deepEqual(
      h.body.documents.problems.map((p: { document: string; inForce: string }) => [
        p.document,
        p.inForce,
      ]),
      [["service broken", "none"]],
    );
    assert.equal(h.body.documents.problems[0].error, undefined, "no reason without the token");
    assert.match((await r.health(true)).body.documents.problems[0].error, /services\/broken/);
    const started = await r.startInstance("web");
    assert.equal(started.status, 201, JSON.stringify(started.body));

    // web turns bad: a reload keeps its last good version and says so.
    await r.put(r.keys.service("web"), { Name: "web", Image: 42 });
    const up = await r.command("update", "services");
    assert.equal(up.status, 200, JSON.stringify(up.body));
    assert.match(up.body.message, /refused .*service web \(last good in force\)/s);
    const still = await r.get("/services") as { name: string; image: string }[];
    assert.deepEqual(still.map((s) => [s.name, s.image]), [["web", IMAGE]]);
    const status = await gru(["status", "--cluster", r.cluster, "--json"], { env: r.env });
    assert.equal(status.code, 0, status.stderr);
    const snap = JSON.parse(status.stdout) as StatusSnapshot;
    assert.deepEqual(snap.refused?.map((x) => x.key), [
      r.keys.service("broken"),
      r.keys.service("web"),
    ]);
    const node = snap.nodes[0]!;
    assert.equal(node.health, "degraded");
    assert.match((node.problems ?? []).join("\n"), /document service web refused/);

    // Fixed: every problem clears and the agent is healthy again.
    await r.put(r.keys.service("web"), { Name: "web", Image: IMAGE });
    await r.put(r.keys.service("broken"), { Name: "broken", Image: IMAGE });
    assert.equal((await r.command("update", "all")).status, 200);
    h = await r.health();
    assert.equal(h.status, 200, JSON.stringify(h.body));
    assert.deepEqual(h.body.documents, { ok: true, problems: [] });
  } finally {
    await r.close();
  }
});

Deno.test("update agent moves the agent to the Docker engine DaemonUrl now names", async () => {
  const r = await rig("engine", {
    config: { Docker: { DaemonUrl: "tcp://127.0.0.1:1", DaemonTimeout: 2 } },
    "services/web": { Name: "web", Image: WEB, Configuration: { CpuNumber: 1 } },
  });
  try {
    r.start();
    await r.registered();
    const h = await r.health();
    assert.equal(h.body.docker.ok, false, JSON.stringify(h.body));
    assert.notEqual((await r.startInstance("web")).status, 201);

    await r.put(r.keys.config, {
      Docker: { DaemonUrl: "tcp://127.0.0.1:2375", DaemonTimeout: 10 },
    });
    const up = await r.command("update", "agent");
    assert.equal(up.status, 200, JSON.stringify(up.body));
    await waitFor(
      () => r.health().then((x) => x.body.docker.ok === true),
      20_000,
      () => r.agent.log.slice(-2000),
    );
    const started = await r.startInstance("web");
    assert.equal(started.status, 201, JSON.stringify(started.body));
    const mine = await testRuntime().list({ [LABEL_TEST_RUN]: r.run });
    assert.ok(mine.some((c) => c.id === started.body.data.id), JSON.stringify(mine));
    // The monitor follows the new engine: a container killed behind its back is seen.
    const rt = testRuntime();
    await rt.stop(started.body.data.id, 0);
    await waitFor(
      async () => {
        const node = await r.get("/node") as { instances: { id: string; status: string }[] };
        return node.instances.find((i) => i.id === started.body.data.id)?.status !== "running";
      },
      20_000,
      () => r.agent.log.slice(-2000),
    );
    assert.match(r.agent.log, /engine client rebuilt/);
  } finally {
    await r.close();
  }
});
