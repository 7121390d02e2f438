/**
 * Coordination without a leader (docs/compat.md#d38): before a node carries out a scaling action it
 * checks the gossiped cluster view, so that when load calls for k more instances the cluster
 * starts about k, not k per node. Pure.
 *
 * The rule (documented in docs/gossip.md):
 *
 * 1. **Cluster limits.** Scale-out stops at the service's `MaxInstances` counted over the whole
 *    cluster view; scale-in stops at `MinInstances` counted the same way.
 * 2. **Cluster cooldown.** The view carries every node's recent actions (its ledger), each with
 *    its age on this node's clock (peers' clock offsets cancel out). A node does not start an
 *    instance of a service another node started within `ScaleOutCooldown`, nor stop one when
 *    another node stopped or started one within `ScaleInCooldown`.
 * 3. **Probabilistic gate** (as in DEPAS). Of the `m` nodes that could take the action — nodes
 *    with room for one more instance for a scale-out, nodes running the service for a
 *    scale-in, plus live nodes whose share has not arrived yet — each acts with probability
 *    `1/m`. In expectation one node acts per loop; the
 *    cluster cooldown then holds the others back while the new instance's effect shows.
 * 4. **Partition safety.** A node that cannot see etcd or most of its peers never scales in;
 *    it keeps its local guarantees (base services).
 *
 * 5. **Outside the bounds, the reconciliation acts alone.** While the cluster-wide count is
 *    below `MinInstances` no decision starts an instance, and while it is above `MaxInstances`
 *    none stops one: the level-triggered reconciliation (reconcile.ts) deals exactly the gap
 *    out, and a decision acting beside it would count the same gap twice.
 *
 * @module
 */

import type { Prng } from "../../domain/random.ts";
import type { ServiceDescriptor } from "../../domain/model.ts";
import type { Candidate } from "../planner/types.ts";

/** What coordination needs to know of a service cluster-wide. */
export interface ClusterServiceView {
  /** Nodes with running or pending instances. */
  nodes: string[];
  running: number;
  pending: number;
  /** Nodes with room for one more instance. */
  canHost: string[];
  /**
   * Every node's recent actions on this service, youngest first; `age` is how long ago, in ms
   * on this node's clock (gossip carries ages, not times: see aggregate.ts).
   */
  recentActions: { origin: string; action: "start" | "stop"; age: number; reason: string }[];
}

/** Inputs of `coordinate`. */
export interface CoordinationInput {
  chosen: Candidate;
  self: string;
  now: number;
  prng: Prng;
  cluster: Readonly<Record<string, ClusterServiceView>>;
  services: ReadonlyMap<string, ServiceDescriptor>;
  scaleOutCooldownMs: number;
  scaleInCooldownMs: number;
  /** Why this node considers itself partitioned, if it does. */
  partitioned?: string | undefined;
  /**
   * Live nodes (from etcd) whose share has not reached this node yet: they might act too, so
   * the gate counts them.
   */
  unknownPeers?: readonly string[] | undefined;
}

/** The verdict, with the draw when the gate was used. */
export type Coordination =
  | { ok: true; p?: number; draw?: number }
  | { ok: false; reason: string; p?: number; draw?: number };

/** Why a decision leaves a service outside its bounds to the reconciliation. */
function reconciling(total: number, svc: ServiceDescriptor): string {
  return `has ${total} instances in the cluster for [${svc.minInstances}, ${
    svc.maxInstances > 0 ? svc.maxInstances : "∞"
  }]: the bounds reconciliation`;
}

function ago(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s ago`;
}

function gate(
  prng: Prng,
  nodes: readonly string[],
  self: string,
  what: string,
): Coordination {
  const m = new Set([...nodes, self]).size;
  if (m <= 1) return { ok: true, p: 1 };
  const p = 1 / m;
  const draw = prng();
  if (draw < p) return { ok: true, p, draw };
  return {
    ok: false,
    p,
    draw,
    reason: `yielding to peers: ${m} nodes could ${what}, p=${p.toFixed(2)}, draw ${
      draw.toFixed(2)
    }`,
  };
}

/** Checks a scale-out of `service` against the cluster view. */
export function coordinateStart(
  service: string,
  input: Omit<CoordinationInput, "chosen">,
): Coordination {
  const view = input.cluster[service];
  const svc = input.services.get(service);
  if (!view || !svc) return { ok: true, p: 1 };
  const total = view.running + view.pending;
  if (svc.minInstances > 0 && total < svc.minInstances) {
    return { ok: false, reason: `${service} ${reconciling(total, svc)} fills the deficit` };
  }
  if (svc.maxInstances > 0 && total >= svc.maxInstances) {
    return {
      ok: false,
      reason: `cluster max of ${service} reached: ${total} of ${svc.maxInstances} instances`,
    };
  }
  const recent = view.recentActions.find((a) =>
    a.origin !== input.self && a.action === "start" && a.age < input.scaleOutCooldownMs
  );
  if (recent) {
    return {
      ok: false,
      reason: `cluster cooldown: ${recent.origin} started ${service} ${ago(recent.age)}`,
    };
  }
  return gate(
    input.prng,
    [...view.canHost, ...input.unknownPeers ?? []],
    input.self,
    `start ${service}`,
  );
}

/** Checks a scale-in of `service` against the cluster view. */
export function coordinateStop(
  service: string,
  input: Omit<CoordinationInput, "chosen">,
): Coordination {
  if (input.partitioned) return { ok: false, reason: `no scale-in: ${input.partitioned}` };
  const view = input.cluster[service];
  const svc = input.services.get(service);
  if (!view || !svc) return { ok: true, p: 1 };
  if (svc.maxInstances > 0 && view.running + view.pending > svc.maxInstances) {
    return {
      ok: false,
      reason: `${service} ${reconciling(view.running + view.pending, svc)} stops the excess`,
    };
  }
  if (view.running + view.pending <= Math.max(svc.minInstances, 0) && svc.minInstances > 0) {
    return {
      ok: false,
      reason: `cluster min of ${service}: ${
        view.running + view.pending
      } of min ${svc.minInstances}`,
    };
  }
  const recent = view.recentActions.find((a) =>
    a.origin !== input.self && a.age < input.scaleInCooldownMs
  );
  if (recent) {
    return {
      ok: false,
      reason: `cluster cooldown: ${recent.origin} ${
        recent.action === "start" ? "started" : "stopped"
      } ${service} ${ago(recent.age)}`,
    };
  }
  return gate(
    input.prng,
    [...view.nodes, ...input.unknownPeers ?? []],
    input.self,
    `stop ${service}`,
  );
}

/** Checks the chosen candidate (scale-out, scale-in or swap) against the cluster view. */
export function coordinate(input: CoordinationInput): Coordination {
  const c = input.chosen;
  if (c.name === "scaleout") return coordinateStart(c.targets[0]!, input);
  if (c.name === "scalein") return coordinateStop(c.targets[0]!, input);
  if (c.name === "swap") {
    const stop = coordinateStop(c.targets[0]!, { ...input, prng: () => 0 });
    if (!stop.ok) return stop;
    return coordinateStart(c.targets[1]!, input);
  }
  return { ok: true };
}
