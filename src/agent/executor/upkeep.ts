/**
 * Upkeep after each decision: every base service keeps `max(1, MinInstances)` instances on this
 * node (a dead one is replaced), whatever the cluster, even cut off; then every service is
 * brought back within its cluster-wide `[MinInstances, MaxInstances]` by the level-triggered
 * reconciliation of reconcile.ts (this node does its share of the gap, if any).
 *
 * @module
 */

import type { ServiceDescriptor } from "../../domain/model.ts";
import type { ClusterService } from "../gossip/aggregate.ts";
import type { ActionRecord } from "../record/decisions.ts";
import type { Actuator } from "./actuator.ts";
import type { InstanceManager } from "./instances.ts";
import { type BoundsContext, type BoundsVerdict, reconcileBounds } from "./reconcile.ts";

/** Starts instances of base services that have fewer here than they should keep. */
export async function keepBaseServices(
  baseServices: readonly string[],
  services: ReadonlyMap<string, ServiceDescriptor>,
  instances: Pick<InstanceManager, "list">,
  act: Actuator,
): Promise<ActionRecord[]> {
  const out: ActionRecord[] = [];
  for (const name of baseServices) {
    const svc = services.get(name);
    if (!svc) continue;
    const have = instances.list(name).filter((i) => i.status !== "stopped").length;
    const want = Math.max(1, svc.minInstances);
    for (let i = have; i < want; i++) {
      const r = await act(svc, "start", `base service: ${have} of ${want} running`);
      out.push(r);
      if (!r.ok) break;
    }
  }
  return out;
}

/** What `keepClusterBounds` needs. */
export interface ClusterBoundsInput extends BoundsContext {
  services: ReadonlyMap<string, ServiceDescriptor>;
  /** The descriptors as written, for base-service floors (default `services`). */
  documents?: ReadonlyMap<string, ServiceDescriptor> | undefined;
  cluster: Readonly<Record<string, ClusterService>>;
  baseServices: readonly string[];
  /** Actions already taken in this loop (not in the view yet). */
  done: readonly ActionRecord[];
  canHost: (service: ServiceDescriptor) => boolean;
}

/** The instances a node keeps of `svc` whatever the cluster: its base-service floor. */
export function baseFloor(svc: ServiceDescriptor, baseServices: readonly string[]): number {
  return baseServices.includes(svc.name) ? Math.max(1, svc.minInstances) : 0;
}

/** This node's verdict for every service it configures (see reconcile.ts). */
export function boundsVerdicts(input: ClusterBoundsInput): Map<string, BoundsVerdict> {
  const out = new Map<string, BoundsVerdict>();
  for (const [name, svc] of input.services) {
    const seen = input.cluster[name];
    if (!seen || (svc.minInstances <= 0 && svc.maxInstances <= 0)) continue;
    const done = input.done.filter((d) => d.ok && d.service === name)
      .reduce((n, d) => n + (d.action === "start" ? 1 : -1), 0);
    out.set(
      name,
      reconcileBounds(
        {
          name,
          min: Math.max(0, svc.minInstances),
          max: Math.max(0, svc.maxInstances),
          perNode: seen.perNode,
          canHost: seen.canHost,
          recent: seen.recentActions,
        },
        input,
        {
          done,
          canHost: input.canHost(svc),
          keep: baseFloor(input.documents?.get(name) ?? svc, input.baseServices),
        },
      ),
    );
  }
  return out;
}

/**
 * Brings every service back within its cluster-wide `[MinInstances, MaxInstances]`, doing this
 * node's part of the gap (reconcile.ts): starts one, or stops what it was dealt.
 */
export async function keepClusterBounds(
  input: ClusterBoundsInput,
  act: Actuator,
): Promise<ActionRecord[]> {
  const out: ActionRecord[] = [];
  for (const [name, verdict] of boundsVerdicts(input)) {
    if (verdict.action === "none") continue;
    const svc = input.services.get(name)!;
    for (let i = 0; i < verdict.count; i++) {
      const r = await act(svc, verdict.action, verdict.why);
      out.push(r);
      if (!r.ok) break;
    }
  }
  return out;
}
