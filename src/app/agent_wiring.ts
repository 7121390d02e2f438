/**
 * Builds an agent from its parts: the one place that decides which instance manager, monitor,
 * loop phases, gossip and registration an agent gets. `agent_process.ts` picks the adapters
 * (Docker, etcd, usage reader, sinks) and hands them here; tests hand in-memory ones.
 *
 * @module
 */

import { Agent, type AgentIdentity } from "../agent/agent.ts";
import { AgentDocuments } from "../agent/documents.ts";
import { Discovery } from "../agent/discovery.ts";
import { actuator } from "../agent/executor/actuator.ts";
import { Executor } from "../agent/executor/execute.ts";
import { InstanceManager } from "../agent/executor/instances.ts";
import { type ClusterContext, soloCluster } from "../agent/gossip/cluster_context.ts";
import { Gossiper, type GossipTransport } from "../agent/gossip/gossiper.ts";
import type { ShareSigner } from "../agent/gossip/signing.ts";
import type { NodeShare } from "../agent/gossip/types.ts";
import { idleShare } from "../agent/gossip/merge.ts";
import { AutonomicLoop, type LoopState } from "../agent/loop.ts";
import { Membership } from "../agent/membership.ts";
import { Monitor } from "../agent/monitor/monitor.ts";
import { DecisionLog } from "../agent/record/decisions.ts";
import { ServiceHistory } from "../agent/record/history.ts";
import { Recorder } from "../agent/record/record.ts";
import { NodeRegistration } from "../agent/registration.ts";
import { NodeState, type NodeStateCacheFile } from "../agent/node_state.ts";
import type { ClusterStore } from "../cluster/cluster_store.ts";
import type { Clock } from "../domain/clock.ts";
import type { Prng } from "../domain/random.ts";
import type { ContainerRuntime } from "../ports/container_runtime.ts";
import type { MetricSink } from "../ports/metric_sink.ts";
import type { MetricQuerier } from "../ports/metric_query.ts";
import { ExternalMetrics } from "../agent/monitor/external_metrics.ts";
import { noTelemetry, type Telemetry } from "../ports/telemetry.ts";
import type { UsageReader } from "../ports/usage_reader.ts";

/** What an agent is built from. */
export interface AgentOptions {
  identity: AgentIdentity;
  store: ClusterStore;
  runtime: ContainerRuntime;
  clock: Clock;
  /** Node lease TTL in seconds. */
  ttl: number;
  /** Plan and record, execute nothing (autonomic actions only; manual commands still run). */
  dryRun: boolean;
  /** Injected into containers as `ETCD_ADDR`. */
  etcdAddr: string;
  env: (name: string) => string | undefined;
  /** Extra labels on every container this agent creates. */
  labels?: Record<string, string> | undefined;
  /** Reads container CPU and memory. */
  usage: UsageReader;
  /** Randomness of the planner's strategies and the gossip. @default Math.random */
  prng?: Prng;
  /** Start the autonomic loop at once (as if `start agent` had been received). */
  activate?: boolean;
  /**
   * The local cache of the node's desired state (beside the identity file), for a start with
   * etcd down; none when absent.
   */
  nodeStateCache?: NodeStateCacheFile | undefined;
  /** Sampling period of the monitor, ms. @default 1000 */
  sampleMs?: number;
  /** How to reach peers for gossip; without it the agent plans as a cluster of one. */
  gossip?: GossipTransport | undefined;
  /**
   * Signs this node's gossip shares; its public key must be `identity.publicKey` (published
   * in the node record). Required with `gossip`.
   */
  signer?: ShareSigner | undefined;
  /** Where measurements go (InfluxDB); none when absent. */
  sink?: MetricSink | undefined;
  /** Self-metrics for /metrics. */
  telemetry?: Telemetry | undefined;
  /** Runs the services' PromQL metric sources; without it no source is read (unknown). */
  querier?: MetricQuerier | undefined;
}

/** Builds an agent (not started). */
export function wireAgent(o: AgentOptions): Agent {
  const { identity: id, clock } = o;
  const prng = o.prng ?? Math.random;
  const telemetry = o.telemetry ?? noTelemetry;
  const documents = new AgentDocuments(o.store, id.cluster);
  const discovery = new Discovery(o.store.kv, id.hostIp);
  const instances = new InstanceManager({
    runtime: o.runtime,
    clock,
    cluster: id.cluster,
    node: id.name,
    spec: { hostIp: id.hostIp, etcdAddr: o.etcdAddr, env: o.env, labels: o.labels },
    bounds: {
      isBase: (service) => documents.constraints.baseServices.includes(service),
      // The live peers' last shares (a node gone from etcd no longer counts).
      elsewhere: (service): number => {
        const shares: NodeShare[] = gossiper?.view.entries() ?? [];
        return shares
          .filter((e) => e.origin !== id.name && membership.nodes.has(e.origin))
          .reduce((n, e) =>
            n + (e.services[service]?.running ?? 0) +
            (e.services[service]?.pending ?? 0), 0);
      },
    },
    // Discovery.DrainDelay: the key goes first, the container after the delay (docs/lb.md).
    beforeStop: async (instance) => {
      const delay = documents.config.discovery.drainDelay ?? 0;
      if (delay > 0 && await discovery.withdraw(instance.id)) await clock.sleep(delay * 1000);
    },
  });
  const monitor = new Monitor({
    runtime: o.runtime,
    usage: o.usage,
    instances,
    clock,
    cluster: id.cluster,
    node: id.name,
    sampleMs: o.sampleMs,
    settings: () => ({
      windowMs: documents.config.autonomic.window * 1000,
      warmupMs: documents.config.autonomic.warmup * 1000,
      logReading: documents.config.autonomic.enableLogReading,
      services: new Set(documents.services.keys()),
    }),
    onChange: () => agent.syncDiscovery(),
  });
  const membership = new Membership({
    store: o.store,
    cluster: id.cluster,
    clock,
    onError: () => telemetry.dependencyError("etcd"),
  });
  const registration = new NodeRegistration({
    store: o.store,
    cluster: id.cluster,
    ttl: o.ttl,
    clock,
    record: () => agent.record(),
    onError: () => telemetry.dependencyError("etcd"),
  });
  if (o.gossip && !o.signer) throw new Error("wireAgent: gossip needs a signer");
  const gossiper = o.gossip && o.signer
    ? new Gossiper({
      self: id.name,
      cluster: id.cluster,
      clock,
      prng,
      membership,
      transport: o.gossip,
      signer: o.signer,
      settings: () => ({
        intervalMs: documents.config.communication.loopTimeInterval * 1000,
        maxFriends: documents.config.communication.maxFriends,
        maxSkewMs: documents.config.communication.maxClockSkew * 1000,
      }),
      registered: () => registration.registered,
      fallbackShare: () =>
        idleShare({
          active: agent.active,
          services: documents.services,
          instances: instances.list(),
          capacity: instances.ledger.capacity(),
          now: clock.now(),
          warmupMs: documents.config.autonomic.warmup * 1000,
          baseServices: documents.constraints.baseServices,
        }),
      telemetry,
    })
    : undefined;
  const cluster = gossiper ?? soloCluster(id.name, clock);
  const decisions = new DecisionLog(100);
  const history = new ServiceHistory();
  const loop = wireLoop({
    state: () => ({
      node: id.name,
      config: documents.config,
      policy: documents.policy,
      services: documents.services,
      analytics: documents.analytics,
      constraints: documents.constraints,
      dryRun: o.dryRun,
    }),
    monitor,
    instances,
    cluster,
    decisions,
    history,
    telemetry,
    sink: o.sink,
    querier: o.querier,
    uuid: id.uuid,
    clock,
    prng,
  });
  const agent: Agent = new Agent({
    identity: id,
    clock,
    documents,
    instances,
    monitor,
    loop,
    decisions,
    history,
    registration,
    membership,
    discovery,
    gossiper,
    activate: o.activate ?? false,
    nodeState: new NodeState({
      store: o.store,
      cluster: id.cluster,
      node: id.name,
      cache: o.nodeStateCache,
    }),
  });
  return agent;
}

/** What the loop is built from. */
export interface LoopParts {
  state: () => LoopState;
  monitor: Monitor;
  instances: InstanceManager;
  cluster: ClusterContext;
  decisions: DecisionLog;
  /** The bounded history the console's charts read (absent: none kept). */
  history?: ServiceHistory | undefined;
  telemetry: Telemetry;
  sink?: MetricSink | undefined;
  uuid: string;
  clock: Clock;
  prng: Prng;
  /** Runs the services' PromQL metric sources (absent: none is read). */
  querier?: MetricQuerier | undefined;
}

/** Builds the autonomic loop with its phases (not started). */
export function wireLoop(p: LoopParts): AutonomicLoop {
  return new AutonomicLoop({
    state: p.state,
    monitor: p.monitor,
    capacity: () => p.instances.ledger.capacity(),
    usedCores: () => p.instances.ledger.usedCores(),
    cluster: p.cluster,
    executor: new Executor({
      instances: p.instances,
      act: actuator(p.instances, () => p.monitor.refresh()),
      cluster: p.cluster,
      clock: p.clock,
      prng: p.prng,
    }),
    recorder: new Recorder({
      decisions: p.decisions,
      telemetry: p.telemetry,
      sink: p.sink,
      uuid: p.uuid,
      history: p.history,
    }),
    telemetry: p.telemetry,
    clock: p.clock,
    prng: p.prng,
    sources: p.querier ? new ExternalMetrics(p.querier, p.clock) : undefined,
  });
}
