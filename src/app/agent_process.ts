/**
 * Runs one agent process: wires the store, the Docker engine, the agent and its HTTP API, and
 * shuts down gracefully on SIGINT/SIGTERM (lease revoked, containers left running).
 *
 * @module
 */

import { getLogger } from "@logtape/logtape";
import type { AgentRunOptions } from "../ports/cli_deps.ts";
import type { TlsPaths } from "../ports/tls.ts";
import { openStore } from "./store.ts";
import type { Agent } from "../agent/agent.ts";
import type { AgentDocuments } from "../agent/documents.ts";
import { wireAgent } from "./agent_wiring.ts";
import { nodeStateFile } from "./node_state_file.ts";
import { DocumentsCache, documentsCachePath } from "./documents_cache.ts";
import { createApi } from "../api/app.ts";
import { DockerRuntime } from "../adapters/docker/docker_runtime.ts";
import { resolveDockerUrl } from "../adapters/docker/docker_url.ts";
import { chooseUsageReader } from "./usage_source.ts";
import type { UsageReader } from "../ports/usage_reader.ts";
import type { GossipTransport } from "../agent/gossip/gossiper.ts";
import { parseGossipMessage } from "../agent/gossip/types.ts";
import { generateSigningKey, ShareSigner } from "../agent/gossip/signing.ts";
import { AgentClient, agentHttpClient } from "../api/client.ts";
import { isLoopback, peerName, serveApi, type ServerTls } from "./https_server.ts";
import { TokenKeeper } from "../api/token_keeper.ts";
import { PromqlQuerier } from "../adapters/prometheus/promql_source.ts";
import { PrometheusTelemetry } from "../adapters/prometheus/prometheus_telemetry.ts";
import { ReloadingSink } from "./reloading_sink.ts";
import { agentGauges } from "./agent_gauges.ts";
import { systemClock } from "../domain/clock.ts";
import { RuntimeHolder, UsageHolder } from "./runtime_holder.ts";
import { Backoff } from "../domain/backoff.ts";
import { errorMessage, NotFoundError, ValidationError } from "../domain/errors.ts";
import type { AgentConfig } from "../domain/model.ts";
import { defaultAgentConfig } from "../config/documents.ts";
import type { ClusterStore } from "../cluster/cluster_store.ts";

const log = getLogger(["gru", "agent", "process"]);

/** How long a shutdown (lease revoked, streams closed) may take after SIGINT/SIGTERM. */
const SHUTDOWN_DEADLINE_MS = 20_000;

async function readPem(path: string | undefined): Promise<string | undefined> {
  return path ? await Deno.readTextFile(path) : undefined;
}

/** Reads the agent API's TLS files; a missing or unreadable one is fatal, naming the flag. */
async function readServerTls(paths: TlsPaths | undefined): Promise<ServerTls | undefined> {
  if (!paths?.cert && !paths?.key && !paths?.ca) return undefined;
  if (!paths.cert || !paths.key) {
    throw new ValidationError(
      "TLS of the agent API needs both --tls-cert and --tls-key (GRU_TLS_CERT, GRU_TLS_KEY)",
    );
  }
  const read = async (path: string, flag: string) => {
    try {
      return await Deno.readTextFile(path);
    } catch (err) {
      throw new ValidationError(`Cannot read ${flag} ${path}: ${errorMessage(err)}`, {
        cause: err,
      });
    }
  };
  return {
    cert: await read(paths.cert, "--tls-cert"),
    key: await read(paths.key, "--tls-key"),
    ca: paths.ca ? await read(paths.ca, "--tls-ca") : undefined,
  };
}

/** The gossip's HTTP client; PEM text it cannot use is fatal, naming the flags. */
function peerClient(tls: ServerTls): Deno.HttpClient {
  try {
    return agentHttpClient(tls);
  } catch (err) {
    throw new ValidationError(
      `Cannot use the TLS files (--tls-cert, --tls-key, --tls-ca): ${errorMessage(err)}`,
      { cause: err },
    );
  }
}

/**
 * Waits for the cluster and its config, retrying with backoff while etcd fails: a missing
 * cluster is fatal; only a config that is invalid (it will not get better by waiting) starts
 * the agent on the defaults, loudly, and `/health` reports the refused document.
 */
export async function awaitCluster(
  store: ClusterStore,
  cluster: string,
  signal: AbortSignal,
  cached?: () => Promise<AgentConfig | undefined>,
): Promise<AgentConfig> {
  const backoff = new Backoff(systemClock, { minMs: 250, maxMs: 5000 });
  while (true) {
    try {
      await store.requireCluster(cluster);
      return await store.getConfig(cluster);
    } catch (err) {
      if (err instanceof NotFoundError) throw err;
      if (err instanceof ValidationError) {
        log.error("Cluster config is invalid; STARTING ON THE DEFAULTS until fixed: {error}", {
          error: errorMessage(err),
        });
        return defaultAgentConfig();
      }
      const last = await cached?.().catch(() => undefined);
      if (last) {
        log.warn("Cannot read the cluster config ({error}); starting on the cached one", {
          error: errorMessage(err),
        });
        return last;
      }
      log.warn("Cannot read the cluster config ({error}); retrying in {ms} ms", {
        error: errorMessage(err),
        ms: backoff.peek(),
      });
      await backoff.wait(signal);
    }
  }
}

/**
 * Reads every document before the agent starts, retrying with backoff while the store fails, so
 * a transient error never starts the agent on default documents. Refused documents do not
 * count as failures: they are reported and the rest loads.
 */
export async function awaitDocuments(
  documents: AgentDocuments,
  signal: AbortSignal,
  cached?: () => Promise<boolean>,
) {
  const backoff = new Backoff(systemClock, { minMs: 250, maxMs: 5000 });
  while (!await documents.tryLoad()) {
    if (await cached?.().catch(() => false)) return;
    log.warn("Cannot read the cluster documents ({error}); retrying in {ms} ms", {
      error: documents.error,
      ms: backoff.peek(),
    });
    await backoff.wait(signal);
  }
}

/** What the Docker engine client is built from; a change rebuilds it. */
function engineSettings(config: AgentConfig, override: string | undefined): string {
  const d = config.docker;
  return JSON.stringify([override ?? d.daemonUrl, d.daemonTimeout, d.tls ?? null]);
}

/** The Docker engine client and the usage reader that goes with it. */
async function buildEngine(
  config: AgentConfig,
  override: string | undefined,
  nodeIp: string,
): Promise<{ runtime: DockerRuntime; usage: UsageReader }> {
  const url = override ?? config.docker.daemonUrl;
  const tls = config.docker.tls;
  const runtime = new DockerRuntime({
    endpoint: resolveDockerUrl(url, { nodeIp, tls: tls !== undefined }),
    timeoutMs: Math.max(1, config.docker.daemonTimeout) * 1000,
    tls: tls
      ? { ca: await readPem(tls.ca), cert: await readPem(tls.cert), key: await readPem(tls.key) }
      : undefined,
  });
  // Cgroup files when the agent runs beside the engine; else the streamed stats API.
  const usage = await chooseUsageReader(runtime, url, (n) => Deno.env.get(n));
  return { runtime, usage };
}

/**
 * Runs the agent until a signal; resolves with the exit code. `opened`: a store of
 * `options.store` already open (join's), used and closed instead of opening another.
 */
export async function runAgent(options: AgentRunOptions, opened?: ClusterStore): Promise<number> {
  const id = options.identity;
  let serverTls: ServerTls | undefined;
  let peers: Deno.HttpClient | undefined;
  try {
    // TLS files first: a wrong path fails at once, before anything registers.
    serverTls = await readServerTls(options.tls);
    // Gossip verifies peers against the CA and presents this node's certificate to them.
    peers = serverTls ? peerClient(serverTls) : undefined;
  } catch (err) {
    await opened?.kv.close();
    throw err;
  }
  const scheme = serverTls ? "https" : "http";
  const stop = new AbortController();
  // A shutdown that hangs (a bug) must not keep the process: systemd would SIGKILL it after
  // TimeoutStopSec (30 s) without the lease revoked either way; a second signal exits at once.
  let watchdog: ReturnType<typeof setTimeout> | undefined;
  const onSignal = () => {
    if (stop.signal.aborted) {
      log.warn("Second signal: exiting without finishing the shutdown");
      Deno.exit(1);
    }
    stop.abort(new Error("signal"));
    const timer = setTimeout(() => {
      log.error("Shutdown still running after {s} s: exiting now (please report)", {
        s: SHUTDOWN_DEADLINE_MS / 1000,
      });
      Deno.exit(1);
    }, SHUTDOWN_DEADLINE_MS);
    Deno.unrefTimer(timer);
    watchdog = timer;
  };
  // Last resort: a stray rejection is logged, never allowed to end the daemon.
  const onRejection = (e: PromiseRejectionEvent) => {
    e.preventDefault();
    log.error("Unhandled rejection (please report): {error}", { error: errorMessage(e.reason) });
  };
  globalThis.addEventListener("unhandledrejection", onRejection);
  Deno.addSignalListener("SIGINT", onSignal);
  Deno.addSignalListener("SIGTERM", onSignal);
  const store = opened ?? await openStore(options.store);
  // The documents of the last good read: what a start with etcd unreachable runs on.
  const cache = options.statePath
    ? new DocumentsCache(documentsCachePath(options.statePath), id.cluster)
    : undefined;
  let cached: Awaited<ReturnType<DocumentsCache["open"]>>;
  const openCache = async () => cached ??= await cache?.open();
  try {
    const config = await awaitCluster(
      store,
      id.cluster,
      stop.signal,
      async () => (await openCache())?.store.getConfig(id.cluster),
    );
    // The engine client lives in holders: `update agent` swaps it when its settings change.
    const engine = await buildEngine(config, options.docker, id.address);
    const runtime = new RuntimeHolder(engine.runtime);
    const usage = new UsageHolder(engine.usage);
    let engineKey = engineSettings(config, options.docker);
    // The gossip signing key; an identity without one (made by hand) gets a key for this run.
    const signer = await ShareSigner.create(
      id.cluster,
      id.signingKey ?? await generateSigningKey(),
    );
    // The cluster token in force: read now and every few seconds; without one, every
    // authenticated route and gossip answers 503 (fail closed) and the agent says why.
    const tokens = new TokenKeeper({
      cluster: id.cluster,
      read: () => store.readTokens(id.cluster),
      clock: systemClock,
    });
    await tokens.start();
    const gossip: GossipTransport = async (address, message, timeoutMs) => {
      const client = new AgentClient({
        token: tokens.current(),
        timeoutMs,
        httpClient: peers,
        requireTls: serverTls !== undefined,
      });
      return parseGossipMessage(await client.request(address, "POST", "/gossip", message));
    };
    const telemetry = new PrometheusTelemetry();
    const sink = new ReloadingSink(() => agent.config.metric);
    const agent: Agent = wireAgent({
      identity: {
        cluster: id.cluster,
        name: id.name,
        uuid: id.uuid,
        address: `${scheme}://${id.address}:${id.port}`,
        hostIp: id.address,
        publicKey: signer.publicKey,
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
      nodeStateCache: options.statePath ? nodeStateFile(options.statePath) : undefined,
      gossip,
      signer,
      telemetry,
      sink,
      querier: new PromqlQuerier(),
    });
    agent.parts.documents.onConfig = async (next) => {
      const key = engineSettings(next, options.docker);
      if (key === engineKey) return;
      const fresh = await buildEngine(next, options.docker, id.address);
      engineKey = key;
      await runtime.swap(fresh.runtime);
      await usage.swap(fresh.usage);
      log.info("Docker engine settings changed: engine client rebuilt");
      await agent.engineChanged();
    };
    agentGauges(telemetry, agent, sink);
    const app = createApi(agent, {
      peerName,
      token: tokens,
      metrics: () => telemetry.render(),
    });
    const server = await serveApi({
      hostname: options.listen,
      port: id.port,
      tls: serverTls,
      fetch: app.fetch,
      onListen: ({ hostname, port, scheme }) =>
        log.info("Agent {node} of cluster {cluster} listening on {url} ({tls})", {
          node: id.name,
          cluster: id.cluster,
          url: `${scheme}://${hostname}:${port}`,
          tls: serverTls?.ca
            ? "mutual TLS: client certificates required"
            : serverTls
            ? "TLS"
            : "plain HTTP",
        }),
    });
    if (!serverTls && !isLoopback(options.listen)) {
      log.warn(
        "PLAIN HTTP on {hostname}:{port}: the cluster token, commands and gossip cross the " +
          "network in clear text and anyone who reaches the port can read the API. Serve TLS " +
          "with --tls-cert, --tls-key and --tls-ca (gru tls; see docs/security.md#tls)",
        { hostname: options.listen, port: id.port },
      );
    } else if (serverTls && !server.mutualTls) {
      log.warn(
        "TLS without --tls-ca: clients are not asked for certificates (no mutual TLS) and " +
          "gossip verifies peers against the system's root certificates only",
      );
    }
    const documents = agent.parts.documents;
    if (cache) documents.onLoaded = () => cache.save(store, new Date());
    await awaitDocuments(documents, stop.signal, async () => {
      const c = await openCache();
      if (!c) return false;
      await documents.loadFrom(c.store);
      log.warn(
        "Cannot read the cluster documents ({error}): running on the cached ones of {savedAt} " +
          "until etcd answers",
        { error: documents.error, savedAt: c.savedAt },
      );
      return true;
    });
    await cached?.store.kv.close();
    await agent.start();
    await new Promise<void>((resolve) => {
      if (stop.signal.aborted) resolve();
      stop.signal.addEventListener("abort", () => resolve(), { once: true });
    });
    log.info("Shutting down: revoking the node lease, leaving containers running");
    await tokens.stop();
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
    clearTimeout(watchdog);
    Deno.removeSignalListener("SIGINT", onSignal);
    Deno.removeSignalListener("SIGTERM", onSignal);
    globalThis.removeEventListener("unhandledrejection", onRejection);
    peers?.close();
    await store.kv.close();
  }
}
