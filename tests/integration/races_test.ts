/**
 * Races and stops on real agent processes, real etcd and the real Docker engine:
 * - `stop agent` then `start agent` half a second later while a tick is stuck on a slow engine
 *   (a proxy in front of the engine holds every request): the loop runs afterwards, and
 *   `/health` and the node record say so;
 * - a container that ignores SIGTERM, with `StopTimeout` above `DaemonTimeout`: `stop service`
 *   finishes, and the container is gone.
 */

import assert from "node:assert/strict";
import { DockerRuntime } from "../../src/adapters/docker/docker_runtime.ts";
import { EtcdKvStore } from "../../src/adapters/etcd/etcd_kv_store.ts";
import { ClusterStore } from "../../src/cluster/cluster_store.ts";
import { UnavailableError } from "../../src/domain/errors.ts";
import { LABEL_SERVICE, LABEL_TEST_RUN } from "../../src/domain/model.ts";
import { waitFor } from "../helpers/agent.ts";
import { removeRunContainers, testRuntime } from "../helpers/docker.ts";
import { dockerSocket, etcdEndpoints, testRunId } from "../helpers/env.ts";
import { gru, type GruProcess, loopbackAgent } from "../helpers/gru_process.ts";
import { freePort } from "../helpers/net.ts";

const RUN = testRunId();

const REQUEST_LINE = /^(GET|POST|PUT|DELETE|HEAD) /;

/**
 * Asks the engine to close the connection after answering: each request then goes out on a
 * fresh connection, as after an idle pool. (Deno's node:http, tried here, applied the
 * per-request idle timeout only to a request on a new connection.)
 */
function connectionClose(chunk: Uint8Array): Uint8Array {
  const text = new TextDecoder().decode(chunk);
  if (!REQUEST_LINE.test(text)) return chunk;
  const end = text.indexOf("\r\n\r\n");
  if (end < 0) return chunk;
  const head = text.slice(0, end).split("\r\n").filter((l) => !/^connection:/i.test(l));
  return new TextEncoder().encode([...head, "Connection: close"].join("\r\n") + text.slice(end));
}

/** A TCP proxy to the engine's socket that can hold each request for a while. */
class SlowDockerProxy {
  readonly port: number;
  /** How long each chunk a client sends waits before it reaches the engine, ms. */
  delayMs = 0;
  /** Whether each connection serves one request only. */
  oneRequestPerConnection = false;
  #listener: Deno.TcpListener;
  #conns = new Set<Deno.Conn>();
  #accepting: Promise<void>;

  constructor() {
    this.#listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    this.port = (this.#listener.addr as Deno.NetAddr).port;
    this.#accepting = this.#accept();
  }

  async #accept(): Promise<void> {
    try {
      for await (const conn of this.#listener) this.#pipe(conn).catch(() => {});
    } catch {
      // closed
    }
  }

  async #pipe(conn: Deno.Conn): Promise<void> {
    const up = await Deno.connect({ transport: "unix", path: dockerSocket() });
    this.#conns.add(conn).add(up);
    up.readable.pipeTo(conn.writable).catch(() => {});
    const w = up.writable.getWriter();
    try {
      for await (const chunk of conn.readable) {
        if (this.delayMs > 0) await new Promise((r) => setTimeout(r, this.delayMs));
        await w.write(this.oneRequestPerConnection ? connectionClose(chunk) : chunk);
      }
    } finally {
      for (const c of [conn, up]) {
        this.#conns.delete(c);
        try {
          c.close();
        } catch {
          // closed already
        }
      }
    }
  }

  async close(): Promise<void> {
    this.#listener.close();
    for (const c of this.#conns) {
      try {
        c.close();
      } catch {
        // closed already
      }
    }
    await this.#accepting;
  }
}

/** A cluster in the real etcd with one agent process and its token. */
async function startCluster(name: string, config: unknown, services: Record<string, unknown>) {
  const cluster = `races-${name}-${RUN}`;
  const env = { ETCD_ADDR: etcdEndpoints().join(",") };
  const tmp = await Deno.makeTempDir({ prefix: "gru-races-" });
  const created = await gru(["create", cluster], { env });
  if (created.code !== 0) throw new Error(`gru create failed: ${created.stderr}`);
  await Deno.mkdir(`${tmp}/conf/services`, { recursive: true });
  await Deno.writeTextFile(`${tmp}/conf/config.json`, JSON.stringify(config));
  for (const [n, s] of Object.entries(services)) {
    await Deno.writeTextFile(`${tmp}/conf/services/${n}.json`, JSON.stringify(s));
  }
  const imp = await gru(["config", "import", cluster, `${tmp}/conf`], { env });
  if (imp.code !== 0) throw new Error(`gru config import failed: ${imp.stderr}`);
  const kv = await EtcdKvStore.connect({ endpoints: etcdEndpoints() });
  const store = new ClusterStore(kv);
  const token = await kv.get(`/gru/${cluster}/token`);
  const port = freePort();
  const agent: GruProcess = loopbackAgent({
    cluster,
    name: "r1",
    port,
    stateDir: tmp,
    run: RUN,
    ttl: 5,
    env,
  });
  const url = `http://127.0.0.1:${port}/gru/v1`;
  const headers = {
    "content-type": "application/json",
    ...(token ? { authorization: `Bearer ${token}` } : {}),
  };
  const close = async () => {
    await agent.stop("SIGKILL");
    await removeRunContainers(RUN);
    await kv.deletePrefix(`/gru/${cluster}/`).catch(() => {});
    await kv.close();
    await Deno.remove(tmp, { recursive: true });
  };
  const health = () => fetch(`${url}/health`).then((r) => r.json());
  try {
    await waitFor(
      () => health().then((h) => h.registered === true).catch(() => false),
      30_000,
      () => agent.log.slice(-1000),
    );
  } catch (err) {
    await close();
    throw err;
  }
  const command = async (body: Record<string, unknown>) => {
    const res = await fetch(`${url}/commands`, {
      method: "POST",
      headers,
      body: JSON.stringify(body),
    });
    return { status: res.status, body: await res.json() };
  };
  const lastDecisionTime = async (): Promise<number | undefined> => {
    const list = await fetch(`${url}/decisions?limit=1`, { headers }).then((r) => r.json());
    return Array.isArray(list) && list.length > 0 ? list.at(-1).time : undefined;
  };
  return { cluster, agent, store, health, command, lastDecisionTime, close };
}

Deno.test("stop agent, start agent 0.5 s later during a slow tick: the loop runs, health is true", async () => {
  const proxy = new SlowDockerProxy();
  const c = await startCluster("flap", {
    Docker: { DaemonUrl: `tcp://127.0.0.1:${proxy.port}`, DaemonTimeout: 30 },
    Autonomic: { LoopTimeInterval: 1 },
  }, {});
  try {
    assert.equal((await c.command({ name: "start", target: "agent" })).status, 200);
    await waitFor(async () => (await c.lastDecisionTime()) !== undefined, 20_000, () => "no tick");

    proxy.delayMs = 2500; // every engine request now takes 2.5 s: the next tick hangs
    await new Promise((r) => setTimeout(r, 1500));
    const stopping = c.command({ name: "stop", target: "agent" });
    await new Promise((r) => setTimeout(r, 500));
    const starting = c.command({ name: "start", target: "agent" });
    const [stopped, started] = await Promise.all([stopping, starting]);
    assert.equal(stopped.status, 200, JSON.stringify(stopped.body));
    assert.equal(started.status, 200, JSON.stringify(started.body));
    proxy.delayMs = 0;

    const h = await c.health();
    assert.equal(h.active, true, JSON.stringify(h));
    assert.equal(h.loop?.running, true, JSON.stringify(h));
    assert.equal((await c.store.getNode(c.cluster, "r1"))?.active, true, "node record");
    // The loop really runs: new decisions keep coming.
    const seen = await c.lastDecisionTime();
    await waitFor(
      async () => ((await c.lastDecisionTime()) ?? 0) > (seen ?? 0),
      20_000,
      () => `no new decision after the restart\n${c.agent.log.slice(-1500)}`,
    );
  } finally {
    await c.close();
    await proxy.close();
  }
});

// Over TCP (as the harness reaches its engines): there the per-request idle timeout cuts a
// stop that outlasts it. (Deno's node:http did not apply it on a unix socket when tried.)
Deno.test("a container that ignores SIGTERM, StopTimeout > DaemonTimeout: stop service finishes", async () => {
  const proxy = new SlowDockerProxy();
  proxy.oneRequestPerConnection = true;
  const c = await startCluster("stop", {
    Docker: { DaemonUrl: `tcp://127.0.0.1:${proxy.port}`, DaemonTimeout: 1 },
    Autonomic: { LoopTimeInterval: 5 },
  }, {
    stubborn: {
      Name: "stubborn",
      Image: "gru-test/busybox",
      Configuration: { Cmd: ["sh", "-c", 'trap "" TERM; sleep 3600'], StopTimeout: 3 },
    },
  });
  try {
    const started = await c.command({ name: "start", target: "service", object: "stubborn" });
    assert.equal(started.status, 200, JSON.stringify(started.body));
    const mine = () => testRuntime().list({ [LABEL_TEST_RUN]: RUN, [LABEL_SERVICE]: "stubborn" });
    assert.equal((await mine()).length, 1);
    const stopped = await c.command({ name: "stop", target: "service", object: "stubborn" });
    assert.equal(stopped.status, 200, JSON.stringify(stopped.body));
    assert.deepEqual(await mine(), [], "the container is removed");
  } finally {
    await c.close();
    await proxy.close();
  }
});

Deno.test("DockerRuntime.stop waits out a grace period longer than its request timeout", async () => {
  const proxy = new SlowDockerProxy();
  proxy.oneRequestPerConnection = true;
  const rt = new DockerRuntime({
    endpoint: { kind: "tcp", protocol: "http", host: "127.0.0.1", port: proxy.port },
    timeoutMs: 1000,
  });
  const id = await rt.create({
    name: `gru-races-${RUN}-stubborn`,
    image: "gru-test/busybox",
    cmd: ["sh", "-c", 'trap "" TERM; sleep 3600'],
    env: [],
    labels: { [LABEL_TEST_RUN]: RUN },
    cpusetCpus: "",
    memory: 0,
    portBindings: {},
  });
  try {
    await rt.start(id);
    await rt.stop(id, 3); // the engine kills it after 3 s; the request must outlive that
    assert.equal((await rt.inspect(id)).state, "exited");
  } finally {
    await rt.remove(id);
    await proxy.close();
  }
});

Deno.test("DockerRuntime.stop gives up after the grace period plus the request timeout", async () => {
  const proxy = new SlowDockerProxy();
  const rt = new DockerRuntime({
    endpoint: { kind: "tcp", protocol: "http", host: "127.0.0.1", port: proxy.port },
    timeoutMs: 1000,
  });
  const id = await testRuntime().create({
    name: `gru-races-${RUN}-late`,
    image: "gru-test/busybox",
    cmd: ["sleep", "3600"],
    env: [],
    labels: { [LABEL_TEST_RUN]: RUN },
    cpusetCpus: "",
    memory: 0,
    portBindings: {},
  });
  try {
    proxy.delayMs = 3000; // the engine hears of the stop only after the deadline
    await assert.rejects(
      () => rt.stop(id, 0),
      (e: unknown) =>
        e instanceof UnavailableError && /no answer within 1 s \(grace period 0 s/.test(e.message),
    );
  } finally {
    proxy.delayMs = 0;
    await testRuntime().remove(id);
    await proxy.close();
  }
});
