/**
 * The cluster-merge phase: publishes this node's analysis as its gossip share, reads back the
 * cluster's view, and builds what the planner plans on: this node's instance counts with the
 * cluster's figures (a figure no node knows stays this node's, possibly unknown).
 *
 * @module
 */

import type { Instance, NodeCapacity, ServiceDescriptor } from "../../domain/model.ts";
import type { AnalyzedService } from "../analyzer/analysis.ts";
import type { ServiceState } from "../planner/types.ts";
import type { ClusterService } from "./aggregate.ts";
import type { ClusterContext } from "./cluster_context.ts";
import type { LocalShare, ServiceShare } from "./types.ts";
import type { SourcesView } from "../monitor/external_metrics.ts";

/** What the merge phase hands to planning, execution and the record. */
export interface MergedView {
  /** Every service as the cluster sees it, this node included. */
  cluster: Record<string, ClusterService>;
  /** The planner's services: local counts, cluster-wide figures. */
  planner: Record<string, ServiceState>;
  /** Why this node considers itself cut off, or undefined. */
  partitioned: string | undefined;
  /** Live peers whose share has not arrived yet. */
  unknownPeers: string[];
}

/** What the decision record keeps of a service's cluster-wide picture. */
export interface ClusterSummary {
  nodes: number;
  running: number;
  pending: number;
  cpu_avg: number | undefined;
  memory_avg: number | undefined;
  analytics: Record<string, number>;
}

function knownOnly(values: Record<string, number | undefined>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(values)) if (v !== undefined) out[k] = v;
  return out;
}

/** The instances this node keeps of a base service whatever the cluster, as a share says it. */
function keepOf(descriptor: ServiceDescriptor, baseServices: readonly string[]): { keep?: number } {
  return baseServices.includes(descriptor.name)
    ? { keep: Math.max(1, descriptor.minInstances) }
    : {};
}

/** This node's gossip share of one service (unknown figures are left out). */
export function serviceShare(
  analyzed: AnalyzedService,
  descriptor: ServiceDescriptor,
  baseServices: readonly string[] = [],
): ServiceShare {
  return {
    running: analyzed.running,
    pending: analyzed.pending,
    ...(analyzed.cpu_avg !== undefined ? { cpu_avg: analyzed.cpu_avg } : {}),
    ...(analyzed.memory_avg !== undefined ? { memory_avg: analyzed.memory_avg } : {}),
    analytics: knownOnly(analyzed.analytics),
    cpuNumber: descriptor.configuration.cpuNumber,
    ...keepOf(descriptor, baseServices),
  };
}

/** The record's summary of a service across the cluster. */
export function clusterSummary(seen: ClusterService): ClusterSummary {
  return {
    nodes: seen.nodes.length,
    running: seen.running,
    pending: seen.pending,
    cpu_avg: seen.cpu_avg,
    memory_avg: seen.memory_avg,
    analytics: seen.analytics,
  };
}

/** Merges this node's analysis with the cluster's view. */
export function mergeCluster(input: {
  analysis: Readonly<Record<string, AnalyzedService>>;
  services: ReadonlyMap<string, ServiceDescriptor>;
  node: NodeCapacity;
  context: ClusterContext;
  now: number;
  /** This node's base services (their floor travels in its share). */
  baseServices?: readonly string[];
  /** The metric sources of this loop: readings to share, statuses for the planner. */
  sources?: SourcesView | undefined;
}): MergedView {
  const share: LocalShare = { active: true, services: {}, resources: input.node };
  const planner: Record<string, ServiceState> = {};
  for (const [name, analyzed] of Object.entries(input.analysis)) {
    const descriptor = input.services.get(name);
    if (!descriptor) continue;
    share.services[name] = serviceShare(analyzed, descriptor, input.baseServices);
    const readings = input.sources?.share[name];
    if (readings) share.services[name].sources = readings;
    planner[name] = {
      descriptor,
      local: { running: analyzed.running, pending: analyzed.pending },
      cluster: {
        base: { cpu_avg: analyzed.cpu_avg, memory_avg: analyzed.memory_avg },
        user: analyzed.analytics,
        active: analyzed.running + analyzed.pending > 0,
      },
      ...(input.sources?.statuses[name] ? { sources: input.sources.statuses[name] } : {}),
    };
  }
  const cluster = input.context.update(share, input.now);
  for (const [name, state] of Object.entries(planner)) {
    const seen = cluster[name];
    if (!seen) continue;
    state.cluster = {
      base: {
        cpu_avg: seen.cpu_avg ?? state.cluster.base.cpu_avg,
        memory_avg: seen.memory_avg ?? state.cluster.base.memory_avg,
      },
      user: { ...state.cluster.user, ...seen.analytics },
      active: seen.nodes.length > 0,
      instances: seen.running + seen.pending,
      running: seen.running,
      pending: seen.pending,
    };
  }
  return {
    cluster,
    planner,
    partitioned: input.context.partitioned(),
    unknownPeers: input.context.unknownPeers(),
  };
}

/**
 * This node's share from instance counts alone, gossiped while the loop is off: peers still see
 * its instances (an instance in warm-up counts as pending), with no figures.
 */
export function idleShare(input: {
  active: boolean;
  services: ReadonlyMap<string, ServiceDescriptor>;
  instances: readonly Instance[];
  capacity: NodeCapacity;
  now: number;
  warmupMs: number;
  baseServices?: readonly string[];
}): LocalShare {
  const services: LocalShare["services"] = {};
  for (const [name, svc] of input.services) {
    const up = input.instances.filter((i) => i.service === name && i.status === "running");
    const pending = up.filter((i) => input.now - i.startedAt < input.warmupMs).length;
    services[name] = {
      running: up.length - pending,
      pending,
      analytics: {},
      cpuNumber: svc.configuration.cpuNumber,
      ...keepOf(svc, input.baseServices ?? []),
    };
  }
  return { active: input.active, services, resources: input.capacity };
}
