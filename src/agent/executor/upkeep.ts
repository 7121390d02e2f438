/**
 * Upkeep after each decision: every base service keeps `max(1, MinInstances)` instances on this
 * node (a dead one is replaced), and a service below its `MinInstances` cluster-wide (say after
 * a node died) gets one more here when this node can host it and wins the coordination gate.
 *
 * @module
 */

import type { Prng } from "../../domain/random.ts";
import type { ServiceDescriptor } from "../../domain/model.ts";
import type { ClusterService } from "../gossip/aggregate.ts";
import type { ActionRecord } from "../record/decisions.ts";
import type { Actuator } from "./actuator.ts";
import { coordinateStart } from "./coordination.ts";
import type { InstanceManager } from "./instances.ts";

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

/** What `keepClusterMin` needs. */
export interface ClusterMinInput {
  self: string;
  now: number;
  prng: Prng;
  services: ReadonlyMap<string, ServiceDescriptor>;
  cluster: Readonly<Record<string, ClusterService>>;
  /** Actions already taken in this loop (not in the view yet). */
  done: readonly ActionRecord[];
  scaleOutCooldownMs: number;
  scaleInCooldownMs: number;
  canHost: (service: ServiceDescriptor) => boolean;
}

/** Starts one instance of each service below its cluster-wide minimum, when this node wins. */
export async function keepClusterMin(input: ClusterMinInput, act: Actuator) {
  const out: ActionRecord[] = [];
  for (const [name, svc] of input.services) {
    const seen = input.cluster[name];
    const delta = input.done.filter((done) => done.ok && done.service === name)
      .reduce((n, done) => n + (done.action === "start" ? 1 : -1), 0);
    if (!seen || svc.minInstances <= 0) continue;
    if (seen.running + seen.pending + delta >= svc.minInstances) continue;
    if (!input.canHost(svc)) continue;
    const gate = coordinateStart(name, {
      self: input.self,
      now: input.now,
      prng: input.prng,
      cluster: input.cluster,
      services: input.services,
      scaleOutCooldownMs: input.scaleOutCooldownMs,
      scaleInCooldownMs: input.scaleInCooldownMs,
    });
    if (!gate.ok) continue;
    const why = `cluster min: ${seen.running + seen.pending} of ${svc.minInstances} instances`;
    out.push(await act(svc, "start", why));
  }
  return out;
}
