/**
 * Runs one agent process: wires the store, the Docker engine, the agent and its HTTP API, and
 * shuts down gracefully on SIGINT/SIGTERM (lease revoked, containers left running).
 *
 * @module
 */

import { getLogger } from "@logtape/logtape";
import type { AgentRunOptions } from "../ports/cli_deps.ts";
import { openStore } from "./store.ts";
import type { Agent } from "../agent/agent.ts";
import { wireAgent } from "./agent_wiring.ts";
import { createApi } from "../api/app.ts";
import { DockerRuntime } from "../adapters/docker/docker_runtime.ts";
import { resolveDockerUrl } from "../adapters/docker/docker_url.ts";
import { DockerStatsUsageReader } from "../adapters/docker/docker_stats_reader.ts";
import { CgroupUsageReader } from "../adapters/cgroup/cgroup_usage_reader.ts";
import type { UsageReader } from "../ports/usage_reader.ts";
import type { GossipTransport } from "../agent/gossip/gossiper.ts";
import { parseGossipMessage } from "../agent/gossip/types.ts";
import { AgentClient } from "../api/client.ts";
import { PrometheusTelemetry } from "../adapters/prometheus/prometheus_telemetry.ts";
import { ReloadingSink } from "./reloading_sink.ts";
import { systemClock } from "../domain/clock.ts";
import { Backoff } from "../domain/backoff.ts";
import { errorMessage, NotFoundError, UnavailableError } from "../domain/errors.ts";
import type { AgentConfig } from "../domain/model.ts";
import { defaultAgentConfig } from "../config/documents.ts";
import type { ClusterStore } from "../cluster/cluster_store.ts";

const log = getLogger(["gru", "agent", "process"]);

async function readPem(path: string | undefined): Promise<string | undefined> {
  return path ? await Deno.readTextFile(path) : undefined;
}

/** Waits for the cluster (and its config) while etcd is away; a missing cluster is fatal. */
async function awaitCluster(
  store: ClusterStore,
  cluster: string,
  signal: AbortSignal,
): Promise<AgentConfig> {
  const backoff = new Backoff(systemClock);
  while (true) {
    try {
      await store.requireCluster(cluster);
      return await store.getConfig(cluster).catch((err) => {
        log.error("Cluster config is invalid, using defaults until fixed: {error}", {
          error: errorMessage(err),
        });
        return defaultAgentConfig();
      });
    } catch (err) {
      if (err instanceof NotFoundError) throw err;
      if (!(err instanceof UnavailableError)) throw err;
      log.warn("etcd unavailable ({error}); retrying in {ms} ms", {
        error: errorMessage(err),
        ms: backoff.peek(),
      });
      await backoff.wait(signal);
    }
  }
}

/** Runs the agent until a signal; resolves with the exit code. */
export async function runAgent(options: AgentRunOptions): Promise<number> {
  const id = options.identity;
  const stop = new AbortController();
  const onSignal = () => stop.abort(new Error("signal"));
  // Last resort: a stray rejection is logged, never allowed to end the daemon.
  const onRejection = (e: PromiseRejectionEvent) => {
    e.preventDefault();
    log.error("Unhandled rejection (please report): {error}", { error: errorMessage(e.reason) });
  };
  globalThis.addEventListener("unhandledrejection", onRejection);
  Deno.addSignalListener("SIGINT", onSignal);
  Deno.addSignalListener("SIGTERM", onSignal);
  const store = await openStore(options.store);
  try {
    const config = await awaitCluster(store, id.cluster, stop.signal);
    const url = options.docker ?? config.docker.daemonUrl;
    const tls = config.docker.tls;
    const runtime = new DockerRuntime({
      endpoint: resolveDockerUrl(url, { nodeIp: id.address, tls: tls !== undefined }),
      timeoutMs: Math.max(1, config.docker.daemonTimeout) * 1000,
      tls: tls
        ? { ca: await readPem(tls.ca), cert: await readPem(tls.cert), key: await readPem(tls.key) }
        : undefined,
    });
    let token = await store.token(id.cluster).catch(() => undefined);
    const gossip: GossipTransport = async (address, message, timeoutMs) => {
      const client = new AgentClient({ token, timeoutMs });
      return parseGossipMessage(await client.request(address, "POST", "/gossip", message));
    };
    // Cgroup files when the agent runs beside the engine; else the streamed stats API.
    const local = runtime.endpointIsLocal
      ? await CgroupUsageReader.detect().catch(() => undefined)
      : undefined;
    const usage: UsageReader = local ?? new DockerStatsUsageReader(runtime.streamDocker);
    log.info("Container usage read from {source}", { source: usage.kind });
    const telemetry = new PrometheusTelemetry();
    const sink = new ReloadingSink(() => agent.config.metric);
    const agent: Agent = wireAgent({
      identity: {
        cluster: id.cluster,
        name: id.name,
        uuid: id.uuid,
        address: `http://${id.address}:${id.port}`,
        hostIp: id.address,
      },
      store,
      runtime,
      clock: systemClock,
      ttl: options.ttl,
      dryRun: options.dryRun,
      etcdAddr: options.store.etcd ?? "http://127.0.0.1:2379",
      env: (n) => Deno.env.get(n),
      labels: options.labels,
      usage,
      activate: options.activate,
      gossip,
      telemetry,
      sink,
    });
    telemetry.gauge("gru_metric_points_buffered", "Measurements waiting to be written.", () => [{
      value: sink.stats().buffered,
    }]);
    telemetry.gauge(
      "gru_metric_points_dropped_total",
      "Measurements dropped because the buffer was full.",
      () => [{ value: sink.stats().dropped }],
    );
    telemetry.gauge("gru_metric_points_written_total", "Measurements written.", () => [{
      value: sink.stats().written,
    }]);
    telemetry.gauge("gru_instances", "Instances on this node by service and status.", () => {
      const counts = new Map<string, number>();
      for (const i of agent.parts.instances.list()) {
        const k = `${i.service}\u0000${i.status}`;
        counts.set(k, (counts.get(k) ?? 0) + 1);
      }
      return [...counts].map(([k, value]) => {
        const [service, status] = k.split("\u0000");
        return { labels: { service: service!, status: status! }, value };
      });
    });
    telemetry.gauge("gru_active", "1 when the autonomic loop runs.", () => [{
      value: agent.active ? 1 : 0,
    }]);
    telemetry.gauge("gru_registered", "1 when the node is registered in etcd.", () => [{
      value: agent.registered ? 1 : 0,
    }]);
    const app = createApi(agent, { token: () => token, metrics: () => telemetry.render() });
    const server = Deno.serve({
      hostname: options.listen,
      port: id.port,
      onListen: ({ hostname, port }) =>
        log.info("Agent {node} of cluster {cluster} listening on {hostname}:{port}", {
          node: id.name,
          cluster: id.cluster,
          hostname,
          port,
        }),
    }, app.fetch);
    await agent.start();
    const refreshToken = setInterval(async () => {
      token = await store.token(id.cluster).catch(() => token) ?? token;
    }, 10_000);
    await new Promise<void>((resolve) => {
      if (stop.signal.aborted) resolve();
      stop.signal.addEventListener("abort", () => resolve(), { once: true });
    });
    log.info("Shutting down: revoking the node lease, leaving containers running");
    clearInterval(refreshToken);
    await server.shutdown();
    await agent.stop();
    await sink.close();
    await usage.close();
    await runtime.close();
    return 0;
  } catch (err) {
    if (stop.signal.aborted) return 0;
    log.fatal("Agent failed: {error}", { error: errorMessage(err) });
    throw err;
  } finally {
    Deno.removeSignalListener("SIGINT", onSignal);
    Deno.removeSignalListener("SIGTERM", onSignal);
    globalThis.removeEventListener("unhandledrejection", onRejection);
    await store.kv.close();
  }
}
