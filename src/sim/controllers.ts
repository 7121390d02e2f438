/**
 * The scaling strategies `gru simulate` compares, each a {@link Controller} that looks at the
 * simulated cluster once per loop tick and starts or stops instances.
 *
 * - Every planner strategy of Gru's registry (`probdelta`, `probcumulative`, `dummy`,
 *   `threshold`, `target`, and any strategy registered later) runs **Gru's own code**: one
 *   agent per node, each tick the real planner (`plan`, with target tracking's recommendation
 *   log kept per node), then the real guards (`noteScaleInWishes`, `checkGuards`,
 *   `recordScaling`, with the service's anti-flapping block) and the real coordination
 *   (`coordinate`), or for a target-tracking step this node's share of it (`trackShare`), over
 *   the cluster view, in the order the executor (src/agent/executor/execute.ts) calls them; only
 *   the container actions themselves are simulated. The simulated service's `Scaling.Target`
 *   is `cpu_avg` at the run's target utilization.
 * - `hpa` is a plain Kubernetes-HPA baseline with no Gru logic: one controller for the cluster,
 *   every loop tick desired = ⌈current × utilization / target⌉ within [min, max], with
 *   `current` the running instances (the utilization is theirs; a pending instance counts as
 *   0 % busy, the HPA's not-ready rule), applied at once: the gap to running + pending is
 *   started or stopped (pending ones first). No tolerance, stabilization window or cooldown.
 *
 * Pure: time comes from the injected {@link FakeClock}, randomness from injected Prngs.
 *
 * @module
 */

import type { FakeClock } from "../domain/clock.ts";
import type { PolicyConfig, ServiceDescriptor } from "../domain/model.ts";
import type { Prng } from "../domain/random.ts";
import { type ClusterServiceView, coordinate } from "../agent/executor/coordination.ts";
import {
  checkGuards,
  newHistory,
  noteScaleInWishes,
  recordScaling,
} from "../agent/executor/guards.ts";
import { trackShare } from "../agent/executor/track.ts";
import { antiFlapBlock, RecommendationLog } from "../agent/planner/anti_flap.ts";
import { plan } from "../agent/planner/plan.ts";
import { createStrategyRegistry } from "../agent/planner/strategies.ts";
import type { PlannerInput } from "../agent/planner/types.ts";

/** An instance of the simulated service. */
export interface SimInstance {
  /** Index of its node. */
  node: number;
  /** Second from which it serves (pending before). */
  readyAt: number;
}

/** A container action a controller took. */
export interface SimAction {
  second: number;
  node: string;
  action: "start" | "stop";
  why: string;
}

/** What a controller sees and may change at a tick. */
export interface SimCluster {
  /** The current second. */
  second: number;
  clock: FakeClock;
  nodes: readonly string[];
  coresPerNode: number;
  descriptor: ServiceDescriptor;
  policy: PolicyConfig;
  /** The agent-wide Autonomic settings behind the guards (seconds). */
  autonomic: { scaleOutCooldown: number; scaleInCooldown: number; scaleInStabilization: number };
  /** HPA target utilization, in (0, 1]. */
  targetUtilization: number;
  /** Most instances the cluster can hold (MaxInstances and the cores). */
  maxTotal: number;
  instances: SimInstance[];
  /** The measured mean utilization over the agents' window, undefined without data. */
  cpuAvg: number | undefined;
  /** Every action so far, oldest first. */
  actions: SimAction[];
  /** Starts an instance on node `node`. */
  start(node: number, why: string): void;
  /** Stops an instance on node `node` (a pending one first, else the newest). */
  stop(node: number, why: string): void;
}

/** A strategy under simulation: called on the ticks of `node` (every node ticks in turn). */
export interface Controller {
  /** Which nodes run a loop: every node (Gru's agents) or only the first (one HPA). */
  perNode: boolean;
  tick(cluster: SimCluster, node: number): void;
}

/** Builds a fresh controller for one run; `prngs` holds one random stream per node. */
export type ControllerFactory = (prngs: readonly Prng[]) => Controller;

const SERVICE_MEMORY = 128 << 20;
const NODE_MEMORY = 64 * 1024 ** 3;

function counts(cluster: SimCluster, node?: number) {
  let running = 0;
  let pending = 0;
  for (const i of cluster.instances) {
    if (node !== undefined && i.node !== node) continue;
    if (i.readyAt <= cluster.second) running++;
    else pending++;
  }
  return { running, pending };
}

/** The gossiped view of the service (a perfect one: every node sees the same, at once). */
type View = NonNullable<Parameters<typeof trackShare>[0]["view"]> & ClusterServiceView;

function viewOf(cluster: SimCluster): View {
  const now = cluster.clock.monotonic();
  const wall = cluster.clock.now();
  const all = counts(cluster);
  const held = perNode(cluster);
  const nodes = cluster.nodes.filter((_, n) => held[n]! > 0);
  const canHost = cluster.nodes.filter((_, n) => held[n]! < cluster.coresPerNode);
  const recentActions = cluster.actions.slice(-50).reverse().map((a) => ({
    origin: a.node,
    action: a.action,
    age: now - a.second * 1000,
    time: wall - (now - a.second * 1000),
    reason: a.why,
  }));
  const perNodeView = Object.fromEntries(
    cluster.nodes.map((name, n) => [name, { instances: held[n]!, keep: 0, active: true }]),
  );
  return {
    nodes,
    running: all.running,
    pending: all.pending,
    ...(cluster.cpuAvg === undefined ? {} : { cpu_avg: cluster.cpuAvg }),
    analytics: {},
    canHost,
    perNode: perNodeView,
    recentActions,
  };
}

/** One of Gru's planner strategies, one agent per node, through the real code. */
export function gruController(strategy: string): ControllerFactory {
  return (prngs) => {
    const histories = prngs.map(() => newHistory());
    const recommendations = prngs.map(() => new RecommendationLog());
    const lastRun: (number | undefined)[] = prngs.map(() => undefined);
    return {
      perNode: true,
      tick(cluster, node) {
        const name = cluster.descriptor.name;
        const local = counts(cluster, node);
        const all = counts(cluster);
        const onNode = local.running + local.pending;
        const freeCpus = cluster.coresPerNode - onNode;
        const input: PlannerInput = {
          services: {
            [name]: {
              descriptor: cluster.descriptor,
              local,
              cluster: {
                base: { cpu_avg: cluster.cpuAvg },
                user: {},
                active: all.running + all.pending > 0,
                instances: all.running + all.pending,
                running: all.running,
                pending: all.pending,
              },
            },
          },
          node: {
            totalCpus: cluster.coresPerNode,
            freeCpus,
            totalMemory: NODE_MEMORY,
            freeMemory: NODE_MEMORY - onNode * SERVICE_MEMORY,
            baseServices: [],
          },
          policy: cluster.policy,
        };
        const prng = prngs[node]!;
        const history = histories[node]!;
        const mono = cluster.clock.monotonic();
        const decision = plan(input, {
          strategy,
          prng,
          track: { now: mono, log: recommendations[node]!, defaults: cluster.autonomic },
        });
        noteScaleInWishes(history, decision.candidates, mono);
        const previous = lastRun[node];
        lastRun[node] = mono;
        const chosen = decision.chosen;
        if (chosen.name === "noaction") return;
        const block = antiFlapBlock(cluster.descriptor, cluster.autonomic);
        const view = viewOf(cluster);
        if (chosen.track) {
          // Target tracking: this node's share of the cluster-wide step (executor/track.ts).
          const track = chosen.track;
          const share = trackShare({
            track,
            self: cluster.nodes[node]!,
            view,
            cooldownMs: (track.step > 0 ? block.out : block.in).cooldownMs,
            roundMs: previous === undefined ? 0 : mono - previous,
            canHost: freeCpus > 0,
            keep: 0,
          });
          if (!share.ok) return;
          const why = `target: desired ${track.desired}; ${share.why}`;
          for (let k = 0; k < share.count; k++) {
            if (track.step > 0) cluster.start(node, why);
            else cluster.stop(node, why);
          }
          recordScaling(history, chosen, mono);
          return;
        }
        const guards = {
          scaleOutCooldownMs: block.out.cooldownMs,
          scaleInCooldownMs: block.in.cooldownMs,
          scaleInStabilizationMs: block.in.stabilizationMs,
        };
        if (!checkGuards(chosen, history, mono, guards).ok) return;
        const coord = coordinate({
          chosen,
          self: cluster.nodes[node]!,
          now: cluster.clock.now(),
          prng,
          cluster: { [name]: view },
          services: new Map([[name, cluster.descriptor]]),
          scaleOutCooldownMs: guards.scaleOutCooldownMs,
          scaleInCooldownMs: guards.scaleInCooldownMs,
        });
        if (!coord.ok) return;
        const why = `${chosen.name} (weight ${chosen.weight.toFixed(2)}): ${
          chosen.reasons.join("; ")
        }`;
        if (chosen.name === "scaleout") cluster.start(node, why);
        else if (chosen.name === "scalein") cluster.stop(node, why);
        recordScaling(history, chosen, mono);
      },
    };
  };
}

/** The plain HPA formula, one controller for the whole cluster. */
export const hpaController: ControllerFactory = () => ({
  perNode: false,
  tick(cluster) {
    const cpu = cluster.cpuAvg;
    if (cpu === undefined) return;
    const { running, pending } = counts(cluster);
    // `current` is the running instances, the ones the utilization is measured on: a pending
    // one counts as 0 % busy, as the HPA counts a not-ready pod on the way up.
    const current = running;
    const min = Math.max(1, cluster.descriptor.minInstances);
    // The epsilon keeps 1 × 0.6 / 0.6 from rounding up to 2 through a floating-point tail.
    const wanted = Math.ceil(current * cpu / cluster.targetUtilization - 1e-9);
    const desired = Math.min(cluster.maxTotal, Math.max(min, wanted));
    const why = `hpa: ⌈${current} × ${cpu.toFixed(3)} / ${cluster.targetUtilization}⌉ = ${wanted}`;
    for (let k = running + pending; k < desired; k++) cluster.start(leastLoaded(cluster), why);
    for (let k = running + pending; k > desired; k--) cluster.stop(mostLoaded(cluster), why);
  },
});

function perNode(cluster: SimCluster): number[] {
  const n = cluster.nodes.map(() => 0);
  for (const i of cluster.instances) n[i.node]!++;
  return n;
}

function leastLoaded(cluster: SimCluster): number {
  const n = perNode(cluster);
  return n.indexOf(Math.min(...n));
}

function mostLoaded(cluster: SimCluster): number {
  const n = perNode(cluster);
  return n.indexOf(Math.max(...n));
}

/**
 * The strategies `gru simulate` knows, by name: `hpa` and every planner strategy of Gru's
 * registry (a strategy registered there is simulated through the real code with no change
 * here).
 */
export function simStrategies(): Map<string, ControllerFactory> {
  const out = new Map<string, ControllerFactory>();
  for (const name of createStrategyRegistry().keys()) out.set(name, gruController(name));
  out.set("hpa", hpaController);
  return out;
}
