/**
 * Node state that survives (issue #11), on a private real etcd and the real dockerd:
 * - a `gru agent` process given base services, `cpumax` and `start agent`, killed with SIGKILL
 *   and started again plainly (`gru agent --state <file>`, as systemd does), comes back with
 *   all three and replaces a base-service container that `docker kill` ended;
 * - when etcd has lost the record, the restarted process restores it from its local cache file
 *   and writes it back;
 * - an agent started while etcd is unreachable restores them from its local cache file, and
 *   confirms them with etcd when it returns.
 */

import assert from "node:assert/strict";
import { GruProcess, loopbackAgent } from "../helpers/gru_process.ts";
import { EtcdServer } from "../helpers/etcd_server.ts";
import { testRunId } from "../helpers/env.ts";
import { removeRunContainers, testRuntime } from "../helpers/docker.ts";
import { freePort } from "../helpers/net.ts";
import { pickUsageReader } from "../helpers/agent.ts";
import { eventually } from "../contract/kv_store_contract.ts";
import { EtcdKvStore } from "../../src/adapters/etcd/etcd_kv_store.ts";
import { ClusterStore } from "../../src/cluster/cluster_store.ts";
import { clusterKeys } from "../../src/cluster/keys.ts";
import { AgentClient } from "../../src/api/client.ts";
import { parseAgentConfig, parseServiceDescriptor } from "../../src/config/documents.ts";
import { LABEL_SERVICE, LABEL_TEST_RUN } from "../../src/domain/model.ts";
import { nodeStateCachePath, nodeStateFile } from "../../src/app/node_state_file.ts";
import { documentsCachePath } from "../../src/app/documents_cache.ts";
import { wireAgent } from "../../src/app/agent_wiring.ts";
import { systemClock } from "../../src/domain/clock.ts";
import type { Agent } from "../../src/agent/agent.ts";

const TOKEN = "node-state-test-token";

async function connect(etcd: EtcdServer): Promise<ClusterStore> {
  return new ClusterStore(await EtcdKvStore.connect({ endpoints: [etcd.url], timeoutMs: 1000 }));
}

/** A cluster with a one-second loop and the `web` service. */
async function createCluster(store: ClusterStore, cluster: string): Promise<void> {
  await store.createCluster(cluster, { uuid: "a".repeat(32), token: TOKEN });
  await store.importDocs(cluster, {
    config: parseAgentConfig({
      Autonomic: { LoopTimeInterval: 1 },
      Communication: { LoopTimeInterval: 1 },
    }, "config.json"),
    services: [
      parseServiceDescriptor({
        Name: "web",
        Image: "gru-demo/web",
        Configuration: { CpuNumber: 1, Memory: "32m" },
      }, "web.json"),
    ],
  });
}

/** This run's running `web` containers. */
async function runningWeb(run: string) {
  const cs = await testRuntime().list({ [LABEL_TEST_RUN]: run, [LABEL_SERVICE]: "web" });
  return cs.filter((c) => c.state === "running");
}

/** When the container's current run began (`docker inspect`). */
async function startedAt(id: string): Promise<string> {
  const out = await new Deno.Command("docker", {
    args: ["inspect", "-f", "{{.State.StartedAt}}", id],
  }).output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  return new TextDecoder().decode(out.stdout).trim();
}

async function dockerKill(id: string): Promise<void> {
  const out = await new Deno.Command("docker", { args: ["kill", id], stdout: "null" }).output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
}

Deno.test("a plainly restarted agent process restores its node state and replaces a killed base service", async () => {
  const run = testRunId();
  const cluster = `ns-${run}`;
  const etcd = await EtcdServer.start();
  const tmp = await Deno.makeTempDir({ prefix: "gru-node-state-" });
  const env = { ETCD_ADDR: etcd.url };
  const port = freePort();
  const address = `http://127.0.0.1:${port}`;
  const client = new AgentClient({ token: TOKEN, timeoutMs: 30_000 });
  const store = await connect(etcd);
  let agent: GruProcess | undefined;
  // As systemd runs it: the identity file and nothing else (the label marks test containers).
  const plainAgent = () =>
    new GruProcess([
      "agent",
      "--state",
      `${tmp}/n1.json`,
      "--listen",
      "127.0.0.1",
      "--label",
      `${LABEL_TEST_RUN}=${run}`,
    ], env);
  const logOf = () => `\nagent log:\n${agent?.log.slice(-4000)}`;
  try {
    await createCluster(store, cluster);
    agent = loopbackAgent({ cluster, name: "n1", port, stateDir: tmp, run, ttl: 2, env });
    await eventually(async () => (await store.getNode(cluster, "n1")) !== undefined, 30_000)
      .catch((err) => assert.fail(err.message + logOf()));
    await client.command(address, {
      name: "update",
      target: "node-base-services",
      object: ["web"],
    });
    await client.command(address, { name: "update", target: "node-cpumax", object: "0.5" });
    await client.command(address, { name: "start", target: "agent" });
    await eventually(async () => (await runningWeb(run)).length === 1, 60_000)
      .catch((err) => assert.fail(err.message + logOf()));
    const cache = nodeStateCachePath(`${tmp}/n1.json`);
    assert.equal((await Deno.stat(cache)).mode! & 0o777, 0o600, "the cache is private");

    await agent.stop("SIGKILL");
    // The leased keys are gone with the lease: what comes back must come from elsewhere.
    await eventually(async () => (await store.getNode(cluster, "n1")) === undefined, 20_000);
    const [before] = await runningWeb(run);

    agent = plainAgent();
    await eventually(async () => (await store.getNode(cluster, "n1"))?.active === true, 30_000)
      .catch((err) => assert.fail(err.message + logOf()));
    const node = await store.getNode(cluster, "n1");
    assert.deepEqual(node?.constraints, { cpuMin: 0, cpuMax: 0.5, baseServices: ["web"] });
    const health = await client.get<{ active: boolean }>(address, "/health");
    assert.equal(health.active, true);
    const view = await client.get<{ desired: { sources: Record<string, string> } }>(
      address,
      "/node",
    );
    assert.deepEqual(view.desired.sources, {
      baseServices: "etcd",
      cpuMin: "default",
      cpuMax: "etcd",
      active: "etcd",
    });

    // A replacement is a new container, or the killed one started again (instances reuse a
    // stopped container of their service): either way, a run that began after the kill.
    const startedBefore = await startedAt(before!.id);
    await dockerKill(before!.id);
    await eventually(async () => {
      const now = await runningWeb(run);
      return now.length === 1 && (now[0]!.id !== before!.id ||
        await startedAt(now[0]!.id) !== startedBefore);
    }, 60_000).catch(async (err) => {
      const last = await client.get(address, "/decisions?limit=1").catch((e) => e.message);
      assert.fail(`${err.message}\nlast decision: ${JSON.stringify(last)}${logOf()}`);
    });

    // etcd loses the record (say, restored from an older snapshot): the cache brings it back.
    await agent.stop("SIGKILL");
    await store.kv.delete(clusterKeys(cluster).nodeDesired("n1"));
    await eventually(async () => (await store.getNode(cluster, "n1")) === undefined, 20_000);
    agent = plainAgent();
    await eventually(async () => (await store.getNode(cluster, "n1"))?.active === true, 30_000)
      .catch((err) => assert.fail(err.message + logOf()));
    assert.deepEqual(await store.getNodeDesired(cluster, "n1"), {
      baseServices: ["web"],
      cpuMax: 0.5,
      active: true,
    });
    assert.match(agent.log, /Node state restored from "the local cache"/);
  } finally {
    await agent?.stop("SIGKILL");
    await store.kv.close();
    await removeRunContainers(run);
    await etcd.destroy();
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("an agent started with etcd unreachable restores its node state from the local cache", async () => {
  const run = testRunId();
  const cluster = `nc-${run}`;
  const etcd = await EtcdServer.start();
  const tmp = await Deno.makeTempDir({ prefix: "gru-node-cache-" });
  const usage = await pickUsageReader();
  const open: { store: ClusterStore; agent: Agent }[] = [];
  const startAgent = async () => {
    const store = await connect(etcd);
    const agent = wireAgent({
      identity: {
        cluster,
        name: "n1",
        uuid: "b".repeat(32),
        address: "http://127.0.0.1:1",
        hostIp: "127.0.0.1",
      },
      store,
      runtime: testRuntime(),
      usage,
      clock: systemClock,
      ttl: 2,
      dryRun: false,
      etcdAddr: etcd.url,
      env: () => undefined,
      labels: { [LABEL_TEST_RUN]: run },
      nodeStateCache: nodeStateFile(`${tmp}/n1.json`),
    });
    open.push({ store, agent });
    await agent.start();
    return agent;
  };
  try {
    const setup = await connect(etcd);
    await createCluster(setup, cluster);
    await setup.kv.close();
    const first = await startAgent();
    await first.command({ name: "update", target: "node-base-services", object: ["web"] });
    await first.command({ name: "update", target: "node-cpumax", object: 0.25 });
    await first.command({ name: "start", target: "agent" });
    await eventually(async () => (await runningWeb(run)).length === 1, 60_000);
    await first.stop();

    await etcd.kill();
    const second = await startAgent();
    assert.equal(second.active, true, "active again, from the cache");
    assert.deepEqual(second.constraints, { cpuMin: 0, cpuMax: 0.25, baseServices: ["web"] });
    const desired = (await second.node()).desired;
    assert.deepEqual(desired.sources, {
      baseServices: "cache",
      cpuMin: "default",
      cpuMax: "cache",
      active: "cache",
    });
    assert.ok(desired.etcdError, "the etcd failure is reported");

    await etcd.restart();
    await eventually(async () => (await second.node()).desired.sources.active === "etcd", 30_000);
    assert.equal(second.active, true);
    assert.deepEqual(second.constraints, { cpuMin: 0, cpuMax: 0.25, baseServices: ["web"] });
    await eventually(async () => (await runningWeb(run)).length === 1, 30_000);
  } finally {
    for (const o of open.reverse()) {
      await o.agent.stop().catch(() => {});
      await o.store.kv.close().catch(() => {});
    }
    await usage.close();
    await removeRunContainers(run);
    await etcd.destroy();
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("a gru agent process started with etcd down runs on its cached documents and keeps its base service", async () => {
  const run = testRunId();
  const cluster = `nd-${run}`;
  const etcd = await EtcdServer.start();
  const tmp = await Deno.makeTempDir({ prefix: "gru-doc-cache-" });
  const env = { ETCD_ADDR: etcd.url };
  const port = freePort();
  const address = `http://127.0.0.1:${port}`;
  const client = new AgentClient({ token: TOKEN, timeoutMs: 30_000 });
  const store = await connect(etcd);
  let agent: GruProcess | undefined;
  const logOf = () => `\nagent log:\n${agent?.log.slice(-4000)}`;
  try {
    await createCluster(store, cluster);
    agent = loopbackAgent({ cluster, name: "n1", port, stateDir: tmp, run, ttl: 2, env });
    await eventually(async () => (await store.getNode(cluster, "n1")) !== undefined, 30_000)
      .catch((err) => assert.fail(err.message + logOf()));
    await client.command(address, {
      name: "update",
      target: "node-base-services",
      object: ["web"],
    });
    await client.command(address, { name: "start", target: "agent" });
    await eventually(async () => (await runningWeb(run)).length === 1, 60_000)
      .catch((err) => assert.fail(err.message + logOf()));
    const cachePath = documentsCachePath(`${tmp}/n1.json`);
    assert.equal((await Deno.stat(cachePath)).mode! & 0o777, 0o600, "the cache is private");
    const cached = await Deno.readTextFile(cachePath);
    const keys = (JSON.parse(cached) as { entries: { key: string }[] }).entries.map((e) => e.key);
    assert.ok(keys.includes(clusterKeys(cluster).service("web")), `cached: ${keys}`);
    assert.ok(keys.every((k) => !k.includes("/nodes/")), `no node record cached: ${keys}`);
    assert.ok(!cached.includes(TOKEN), "the cluster token is never cached");
    await agent.stop("SIGTERM");

    // etcd is gone when the agent starts (as after a power cut of the whole cluster).
    await etcd.kill();
    agent = new GruProcess([
      "agent",
      "--state",
      `${tmp}/n1.json`,
      "--listen",
      "127.0.0.1",
      "--label",
      `${LABEL_TEST_RUN}=${run}`,
    ], env);
    await eventually(() => Promise.resolve(/running on the cached ones/.test(agent!.log)), 60_000)
      .catch((err) => assert.fail(err.message + logOf()));
    const [before] = await runningWeb(run);
    assert.ok(before, "the base service still runs");
    const startedBefore = await startedAt(before.id);
    await dockerKill(before.id);
    await eventually(async () => {
      const now = await runningWeb(run);
      return now.length === 1 && (now[0]!.id !== before.id ||
        await startedAt(now[0]!.id) !== startedBefore);
    }, 60_000).catch((err) => assert.fail(`${err.message}${logOf()}`));

    // etcd returns: the agent reads the real documents and registers.
    await etcd.restart();
    await eventually(async () => (await store.getNode(cluster, "n1"))?.active === true, 60_000)
      .catch((err) => assert.fail(err.message + logOf()));
    // Healthy again (200, token read, documents from etcd) once etcd is back.
    await eventually(async () => {
      const res = await fetch(`${address}/gru/v1/health`);
      await res.body?.cancel();
      return res.status === 200;
    }, 60_000).catch((err) => assert.fail(err.message + logOf()));
  } finally {
    await agent?.stop("SIGKILL");
    await store.kv.close();
    await removeRunContainers(run);
    await etcd.destroy();
    await Deno.remove(tmp, { recursive: true });
  }
});
