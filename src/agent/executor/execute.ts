/**
 * The execute phase: carries the planner's choice out on this node unless dry-run, a guard
 * (cooldowns, scale-in stabilization) or the cluster coordination holds it back; then keeps
 * base services and the cluster-wide bounds (upkeep.ts, reconcile.ts); then tells the cluster
 * what it did. One action at a time.
 *
 * @module
 */

import type { Clock } from "../../domain/clock.ts";
import type { AgentConfig, PolicyConfig, ServiceDescriptor } from "../../domain/model.ts";
import type { Prng } from "../../domain/random.ts";
import type { ClusterContext } from "../gossip/cluster_context.ts";
import type { MergedView } from "../gossip/merge.ts";
import type { Candidate, Decision } from "../planner/types.ts";
import type { ActionRecord, DecisionOutcome } from "../record/decisions.ts";
import type { Actuator } from "./actuator.ts";
import { coordinate } from "./coordination.ts";
import {
  checkGuards,
  newHistory,
  noteScaleInWishes,
  recordScaling,
  type ScalingHistory,
} from "./guards.ts";
import type { InstanceManager } from "./instances.ts";
import { keepBaseServices, keepClusterBounds } from "./upkeep.ts";

/** How the phase ended. */
export interface Execution {
  outcome: DecisionOutcome;
  /** Why the outcome is what it is. */
  why: string;
  actions: ActionRecord[];
}

/** What one execution reads of the documents in force. */
export interface ExecutionInput {
  decision: Decision;
  merged: MergedView;
  self: string;
  services: ReadonlyMap<string, ServiceDescriptor>;
  policy: PolicyConfig;
  autonomic: AgentConfig["autonomic"];
  baseServices: readonly string[];
  /** The agent's `--dry-run` flag. */
  dryRun: boolean;
}

/** Options of `Executor`. */
export interface ExecutorOptions {
  instances: Pick<InstanceManager, "list" | "ledger">;
  act: Actuator;
  cluster: ClusterContext;
  clock: Clock;
  prng: Prng;
}

/** The executor of one node; it remembers recent scaling for the guards. */
export class Executor {
  #options: ExecutorOptions;
  #history: ScalingHistory = newHistory();

  constructor(options: ExecutorOptions) {
    this.#options = options;
  }

  /** Runs the phase for one decision. */
  async execute(input: ExecutionInput): Promise<Execution> {
    const { chosen } = input.decision;
    const now = this.#options.clock.now();
    // The guards measure on the monotonic clock: an NTP step of the wall clock neither
    // stretches nor cuts a cooldown or a stabilization window.
    noteScaleInWishes(this.#history, input.decision.candidates, this.#options.clock.monotonic());
    const rule = chosen.name === "noaction" ? undefined : input.policy[chosen.name];
    const dry = input.dryRun || input.autonomic.dryRun || (rule?.dryRun ?? false);
    const result = chosen.name === "noaction"
      ? {
        outcome: "none" as const,
        why: `no action: the best other weight is ${(1 - chosen.weight).toFixed(2)}`,
        actions: [],
      }
      : await this.#carryOut(chosen, input, dry, now);
    if (!dry) {
      result.actions.push(...await this.#upkeep(input, result.actions));
    }
    for (const done of result.actions) {
      if (done.ok) {
        this.#options.cluster.recordAction(
          done.service,
          done.action,
          done.why,
          this.#options.clock.now(),
        );
      }
    }
    return result;
  }

  async #carryOut(
    chosen: Candidate,
    input: ExecutionInput,
    dry: boolean,
    now: number,
  ): Promise<Execution> {
    const autonomic = input.autonomic;
    const cooldowns = {
      scaleOutCooldownMs: autonomic.scaleOutCooldown * 1000,
      scaleInCooldownMs: autonomic.scaleInCooldown * 1000,
    };
    const guard = checkGuards(chosen, this.#history, this.#options.clock.monotonic(), {
      ...cooldowns,
      scaleInStabilizationMs: autonomic.scaleInStabilization * 1000,
    });
    if (!guard.ok) return { outcome: "blocked", why: guard.reason, actions: [] };
    const coord = coordinate({
      chosen,
      self: input.self,
      now,
      prng: this.#options.prng,
      cluster: input.merged.cluster,
      services: input.services,
      ...cooldowns,
      partitioned: input.merged.partitioned,
      unknownPeers: input.merged.unknownPeers,
    });
    if (!coord.ok) return { outcome: "blocked", why: coord.reason, actions: [] };
    const what = `${chosen.name} ${chosen.targets.join(" → ")}`;
    if (dry) return { outcome: "dry-run", why: `dry-run: would ${what}`, actions: [] };
    const out: Execution = {
      outcome: "executed",
      why: `${what} (weight ${chosen.weight.toFixed(2)})`,
      actions: [],
    };
    for (const target of chosen.targets) {
      const svc = input.services.get(target);
      const acts = chosen.actions[target] ?? [];
      const act = acts.includes("start") ? "start" : acts.includes("stop") ? "stop" : undefined;
      if (!svc || !act) continue;
      const r = await this.#options.act(svc, act, chosen.name);
      out.actions.push(r);
      if (!r.ok) {
        out.outcome = "failed";
        out.why = `${chosen.name} of ${target} failed: ${r.error}`;
        break;
      }
    }
    recordScaling(this.#history, chosen, this.#options.clock.monotonic());
    return out;
  }

  async #upkeep(input: ExecutionInput, done: readonly ActionRecord[]): Promise<ActionRecord[]> {
    const { instances, act } = this.#options;
    const out = await keepBaseServices(input.baseServices, input.services, instances, act);
    // Level-triggered: the cluster-wide count against [Min, Max], this node doing its share of
    // the gap; nothing while cut off or while the view lacks a live member (reconcile.ts).
    out.push(
      ...await keepClusterBounds({
        self: input.self,
        services: input.services,
        cluster: input.merged.cluster,
        baseServices: input.baseServices,
        done: [...done, ...out],
        partitioned: input.merged.partitioned,
        unknownPeers: input.merged.unknownPeers,
        scaleOutCooldownMs: input.autonomic.scaleOutCooldown * 1000,
        scaleInCooldownMs: input.autonomic.scaleInCooldown * 1000,
        canHost: (svc) => instances.ledger.canHost(svc).ok,
      }, act),
    );
    return out;
  }
}
