/**
 * Gossip between real agent processes over real HTTP (one engine, real etcd): views converge
 * within a few rounds, a dead node's entry leaves with its lease, and gossip without the
 * cluster token is refused.
 */

import assert from "node:assert/strict";
import { gru, type GruProcess, loopbackAgent } from "../helpers/gru_process.ts";
import { etcdEndpoints, testRunId } from "../helpers/env.ts";
import { removeRunContainers } from "../helpers/docker.ts";
import { waitFor } from "../helpers/agent.ts";
import { EtcdKvStore } from "../../src/adapters/etcd/etcd_kv_store.ts";
// @ts-types="../../src/adapters/prometheus/parse_prometheus_text_format.d.ts"
import parsePrometheusTextFormat from "parse-prometheus-text-format";
import { freePort } from "../helpers/net.ts";

interface GossipState {
  self: string;
  members: string[];
  entries: { origin: string; version: number }[];
  stats: { rounds: number; exchanges: number; failures: number };
}

/** The cluster token (the gossip view needs it). */
let token: string | undefined;

async function gossipOf(port: number): Promise<GossipState> {
  const res = await fetch(`http://127.0.0.1:${port}/gru/v1/gossip`, {
    headers: { authorization: `Bearer ${token}` },
  });
  if (!res.ok) throw new Error(`GET /gru/v1/gossip: ${res.status} ${await res.text()}`);
  return await res.json();
}

Deno.test("gossip: views converge, dead nodes expire, no token no gossip", async () => {
  const run = testRunId();
  const cluster = `gossip-${run}`;
  const env = { ETCD_ADDR: etcdEndpoints().join(",") };
  const tmp = await Deno.makeTempDir({ prefix: "gru-gossip-" });
  const agents: GruProcess[] = [];
  const ports = [freePort(), freePort(), freePort()];
  try {
    assert.equal((await gru(["create", cluster], { env })).code, 0);
    const tokenKv = await EtcdKvStore.connect({ endpoints: etcdEndpoints() });
    token = await tokenKv.get(`/gru/${cluster}/token`) ?? undefined;
    await tokenKv.close();
    await Deno.mkdir(`${tmp}/conf`);
    await Deno.writeTextFile(
      `${tmp}/conf/config.json`,
      JSON.stringify({ Communication: { LoopTimeInterval: 0.5, MaxFriends: 1 } }),
    );
    const imp = await gru(["config", "import", cluster, `${tmp}/conf`], { env });
    assert.equal(imp.code, 0, imp.stderr);
    for (const [i, port] of ports.entries()) {
      agents.push(loopbackAgent({
        cluster,
        name: `g${i + 1}`,
        port,
        stateDir: tmp,
        run,
        ttl: 2,
        env,
      }));
    }
    // With one friend per round, every view holds all three nodes within a few rounds.
    await waitFor(
      async () => {
        const views = await Promise.all(ports.map((p) => gossipOf(p).catch(() => undefined)));
        return views.every((v) => v?.entries.length === 3);
      },
      30_000,
      () => agents.map((a) => a.log.slice(-500)).join("\n---\n"),
    );
    const v1 = await gossipOf(ports[0]!);
    assert.deepEqual(v1.entries.map((e) => e.origin).sort(), ["g1", "g2", "g3"]);
    assert.ok(v1.stats.exchanges > 0);

    // The agent's own metrics parse as Prometheus text and count the gossip it did.
    const res = await fetch(`http://127.0.0.1:${ports[0]}/metrics`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") ?? "", /^text\/plain; version=0\.0\.4/);
    const families = parsePrometheusTextFormat(await res.text());
    const rounds = families.find((f) => f.name === "gru_gossip_rounds_total");
    assert.ok(Number(rounds?.metrics[0]?.value) > 0, JSON.stringify(rounds));
    const phases = families.find((f) => f.name === "gru_loop_phase_seconds");
    assert.equal(phases?.type, "HISTOGRAM");
    assert.ok(families.some((f) => f.name === "gru_registered"));

    const body = JSON.stringify({ cluster, from: "intruder", entries: [] });
    const anon = await fetch(`http://127.0.0.1:${ports[0]}/gru/v1/gossip`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body,
    });
    assert.equal(anon.status, 401);
    await anon.body?.cancel();

    const other = await fetch(`http://127.0.0.1:${ports[0]}/gru/v1/gossip`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
      body: JSON.stringify({ cluster: "elsewhere", from: "x", entries: [] }),
    });
    assert.equal(other.status, 400);
    await other.body?.cancel();

    await agents[2]!.stop("SIGKILL");
    await waitFor(
      async () => {
        const views = await Promise.all(ports.slice(0, 2).map(gossipOf));
        return views.every((v) => !v.entries.some((e) => e.origin === "g3"));
      },
      15_000,
      () => "g3 still in a view",
    );
  } finally {
    for (const a of agents) await a.stop("SIGKILL");
    await removeRunContainers(run);
    const kv = await EtcdKvStore.connect({ endpoints: etcdEndpoints() });
    await kv.deletePrefix(`/gru/${cluster}/`).finally(() => kv.close());
    await Deno.remove(tmp, { recursive: true });
  }
});
