/**
 * The cluster-wide picture of every service, computed from a gossip view's entries. Pure.
 *
 * For a service `s` and the nodes `i` whose share reports it (`r_i` running, `p_i` pending):
 *
 * - `nodes` = the origins with `r_i + p_i > 0`, in entry order;
 * - `running` = Σ r_i, `pending` = Σ p_i;
 * - `cpu_avg` = Σ r_i·cpu_i / Σ r_i over the nodes that report `cpu_avg` and run at least one
 *   instance (`r_i > 0`): the mean over all running instances, as if every instance were sampled
 *   alike. Absent when no such node exists (unknown stays unknown, never 0). Same for
 *   `memory_avg` and for each analytic, key by key;
 * - `canHost` = the **active** origins that report `s` and have `freeCpus ≥ c`, where `c` is the
 *   largest `cpuNumber` any node reports for `s` (the most demanding descriptor wins when
 *   configurations differ). Inactive agents do not act, so they are left out;
 * - `perNode` = each origin reporting `s`: its instances (`r_i + p_i`), the instances it must keep
 *   whatever the cluster (`keep`, its base-service floor) and whether it is active;
 * - `recentActions` = every node's ledger entries for `s`, youngest first (equal ages by origin
 *   name, then entry order). Each carries its `age` in ms **on this node's clock**: the age the
 *   origin stated when it published the share (`age`, measured on the origin's own monotonic
 *   clock) plus how long ago this node accepted that share (`now − receivedAt`). Peers' clock
 *   offsets cancel out; an entry relayed through other nodes looks younger than it is by the
 *   relay time (a cooldown lasts longer, never shorter). Without receipt times the age is the
 *   one stated at publication. A share from an agent that states no ages falls back on
 *   `time − action.time`, a difference of two readings of the origin's own clock.
 *
 * Services some node does not know are still aggregated (the view keeps them); a consumer looks
 * up only the services it configures.
 *
 * @module
 */

import type { NodeShare } from "./types.ts";

/** One service across the cluster. */
export interface ClusterService {
  /** Origins with running or pending instances. */
  nodes: string[];
  running: number;
  pending: number;
  /** Running-weighted mean; absent when no running node reports it. */
  cpu_avg?: number;
  /** Running-weighted mean; absent when no running node reports it. */
  memory_avg?: number;
  /** Running-weighted means by name; an analytic no running node reports is absent. */
  analytics: Record<string, number>;
  /** Active origins with free cores for one more instance. */
  canHost: string[];
  /** Each origin reporting the service: instances, floor it keeps, whether it acts. */
  perNode: Record<string, NodeInstances>;
  /** Every node's recent actions on this service, youngest first. */
  recentActions: ClusterAction[];
}

/** What one origin reports of a service's instances. */
export interface NodeInstances {
  /** Running + pending instances. */
  instances: number;
  /** Instances the origin keeps whatever the cluster (its base-service floor). */
  keep: number;
  /** Whether its agent runs the loop (and so acts). */
  active: boolean;
}

/** One ledger action as this node sees it. */
export interface ClusterAction {
  origin: string;
  action: "start" | "stop";
  /** The origin's clock, ms since the epoch (informative: clocks differ). */
  time: number;
  /** How long ago it happened, ms, on this node's clock (see the module doc). */
  age: number;
  reason: string;
}

/** Receipt times, to turn published ages into ages now. */
export interface AgeBasis {
  /** This node's clock, ms. */
  now: number;
  /** When this node accepted the share of `origin` (same clock), if known. */
  receivedAt: (origin: string) => number | undefined;
}

/** A running-weighted mean under construction. */
class WeightedMean {
  #sum = 0;
  #weight = 0;

  add(value: number | undefined, weight: number): void {
    if (value === undefined || !(weight > 0)) return;
    this.#sum += value * weight;
    this.#weight += weight;
  }

  get value(): number | undefined {
    return this.#weight > 0 ? this.#sum / this.#weight : undefined;
  }
}

interface Acc {
  nodes: string[];
  running: number;
  pending: number;
  cpu: WeightedMean;
  memory: WeightedMean;
  analytics: Map<string, WeightedMean>;
  cpuNumber: number;
  reporters: NodeShare[];
  perNode: Record<string, NodeInstances>;
}

/**
 * Aggregates the entries of a view, service by service.
 *
 * @param entries The shares to combine (usually `GossipView.entries()`, this node included).
 * @param basis This node's clock and the shares' receipt times, for the actions' ages.
 * @returns The cluster picture by service name.
 */
export function aggregateServices(
  entries: readonly NodeShare[],
  basis?: AgeBasis,
): Record<string, ClusterService> {
  const accs = new Map<string, Acc>();
  const ledger = new Map<string, ClusterAction[]>();
  for (const entry of entries) {
    const received = basis?.receivedAt(entry.origin);
    const held = basis === undefined || received === undefined
      ? 0
      : Math.max(0, basis.now - received);
    for (const a of entry.actions) {
      let list = ledger.get(a.service);
      if (list === undefined) ledger.set(a.service, list = []);
      const stated = a.age ?? Math.max(0, entry.time - a.time);
      list.push({
        origin: entry.origin,
        action: a.action,
        time: a.time,
        age: stated + held,
        reason: a.reason,
      });
    }
    for (const [name, svc] of Object.entries(entry.services)) {
      let acc = accs.get(name);
      if (acc === undefined) {
        acc = {
          nodes: [],
          running: 0,
          pending: 0,
          cpu: new WeightedMean(),
          memory: new WeightedMean(),
          analytics: new Map(),
          cpuNumber: 0,
          reporters: [],
          perNode: {},
        };
        accs.set(name, acc);
      }
      if (svc.running + svc.pending > 0) acc.nodes.push(entry.origin);
      acc.running += svc.running;
      acc.pending += svc.pending;
      acc.cpu.add(svc.cpu_avg, svc.running);
      acc.memory.add(svc.memory_avg, svc.running);
      for (const [key, value] of Object.entries(svc.analytics)) {
        let mean = acc.analytics.get(key);
        if (mean === undefined) {
          mean = new WeightedMean();
          acc.analytics.set(key, mean);
        }
        mean.add(value, svc.running);
      }
      acc.cpuNumber = Math.max(acc.cpuNumber, svc.cpuNumber);
      acc.reporters.push(entry);
      acc.perNode[entry.origin] = {
        instances: svc.running + svc.pending,
        keep: svc.keep ?? 0,
        active: entry.active,
      };
    }
  }

  const out: [string, ClusterService][] = [];
  for (const [name, acc] of accs) {
    const analytics: [string, number][] = [];
    for (const [key, mean] of acc.analytics) {
      if (mean.value !== undefined) analytics.push([key, mean.value]);
    }
    const service: ClusterService = {
      nodes: acc.nodes,
      running: acc.running,
      pending: acc.pending,
      analytics: Object.fromEntries(analytics),
      canHost: acc.reporters
        .filter((e) => e.active && e.resources.freeCpus >= acc.cpuNumber)
        .map((e) => e.origin),
      perNode: acc.perNode,
      recentActions: youngestFirst(ledger.get(name) ?? []),
    };
    if (acc.cpu.value !== undefined) service.cpu_avg = acc.cpu.value;
    if (acc.memory.value !== undefined) service.memory_avg = acc.memory.value;
    out.push([name, service]);
  }
  return Object.fromEntries(out);
}

/** Sorts by age, youngest first; equal ages by origin name, then entry order (stable sort). */
function youngestFirst(actions: ClusterAction[]): ClusterAction[] {
  return actions.sort((a, b) =>
    a.age - b.age || (a.origin < b.origin ? -1 : a.origin > b.origin ? 1 : 0)
  );
}
