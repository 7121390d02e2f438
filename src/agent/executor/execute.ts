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
import { baseFloor, keepBaseServices, keepClusterBounds } from "./upkeep.ts";
import { antiFlapBlock } from "../planner/anti_flap.ts";
import { trackShare } from "./track.ts";

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
  /** The descriptors with the bounds in force (a schedule may narrow them). */
  services: ReadonlyMap<string, ServiceDescriptor>;
  /**
   * The descriptors as written, for the base-service floors a node keeps (default `services`):
   * a schedule's bounds are cluster-wide, never a per-node floor.
   */
  documents?: ReadonlyMap<string, ServiceDescriptor> | undefined;
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
  /** When the previous execution ran (monotonic ms): a peer's action since is this round. */
  #lastRun: number | undefined;

  constructor(options: ExecutorOptions) {
    this.#options = options;
  }

  /** Runs the phase for one decision. */
  async execute(input: ExecutionInput): Promise<Execution> {
    const { chosen } = input.decision;
    const now = this.#options.clock.now();
    // The guards measure on the monotonic clock: an NTP step of the wall clock neither
    // stretches nor cuts a cooldown or a stabilization window.
    const mono = this.#options.clock.monotonic();
    noteScaleInWishes(this.#history, input.decision.candidates, mono);
    const roundMs = this.#lastRun === undefined ? 0 : mono - this.#lastRun;
    this.#lastRun = mono;
    const rule = chosen.name === "noaction" ? undefined : input.policy[chosen.name];
    const dry = input.dryRun || input.autonomic.dryRun || (rule?.dryRun ?? false);
    const result = chosen.name === "noaction"
      ? {
        outcome: "none" as const,
        // Target tracking says per service why nothing moves (the knob that held it).
        why: input.decision.strategy === "target"
          ? `no action: ${chosen.reasons.join("; ")}`
          : `no action: the best other weight is ${(1 - chosen.weight).toFixed(2)}`,
        actions: [],
      }
      : chosen.track
      ? await this.#carryOutTrack(chosen, input, dry, roundMs)
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
    const settings = (service: string) => {
      const block = antiFlapBlock(input.services.get(service), input.autonomic);
      return {
        scaleOutCooldownMs: block.out.cooldownMs,
        scaleInCooldownMs: block.in.cooldownMs,
        scaleInStabilizationMs: block.in.stabilizationMs,
      };
    };
    const { scaleInStabilizationMs: _, ...cooldowns } = settings(chosen.targets[0] ?? "");
    const guard = checkGuards(chosen, this.#history, this.#options.clock.monotonic(), settings);
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

  /** Carries out this node's share of a target-tracking step (track.ts). */
  async #carryOutTrack(
    chosen: Candidate,
    input: ExecutionInput,
    dry: boolean,
    roundMs: number,
  ): Promise<Execution> {
    const track = chosen.track!;
    const svc = input.services.get(track.service);
    if (!svc) return { outcome: "blocked", why: `${track.service}: no descriptor`, actions: [] };
    const block = antiFlapBlock(svc, input.autonomic);
    const ledger = this.#options.instances.ledger;
    const share = trackShare({
      track,
      self: input.self,
      view: input.merged.cluster[track.service],
      cooldownMs: (track.step > 0 ? block.out : block.in).cooldownMs,
      roundMs,
      canHost: ledger.canHost(svc).ok,
      keep: baseFloor(input.documents?.get(svc.name) ?? svc, input.baseServices),
      partitioned: input.merged.partitioned,
    });
    const head = `${track.service}: desired ${track.desired}`;
    if (!share.ok) return { outcome: "blocked", why: `${head}; ${share.why}`, actions: [] };
    const act = track.step > 0 ? "start" : "stop";
    if (dry) {
      return {
        outcome: "dry-run",
        why: `dry-run: would ${act} ${share.count} of ${head}; ${share.why}`,
        actions: [],
      };
    }
    const out: Execution = { outcome: "executed", why: `${head}; ${share.why}`, actions: [] };
    for (let i = 0; i < share.count; i++) {
      if (act === "start" && i > 0 && !ledger.canHost(svc).ok) {
        out.why += `; no room for more after ${i}`;
        break;
      }
      const r = await this.#options.act(svc, act, `target: ${head}`);
      out.actions.push(r);
      if (!r.ok) {
        out.outcome = "failed";
        out.why = `${act} of ${track.service} failed: ${r.error}`;
        break;
      }
    }
    recordScaling(this.#history, chosen, this.#options.clock.monotonic());
    return out;
  }

  async #upkeep(input: ExecutionInput, done: readonly ActionRecord[]): Promise<ActionRecord[]> {
    const { instances, act } = this.#options;
    const documents = input.documents ?? input.services;
    const out = await keepBaseServices(input.baseServices, documents, instances, act);
    // Level-triggered: the cluster-wide count against [Min, Max], this node doing its share of
    // the gap; nothing while cut off or while the view lacks a live member (reconcile.ts).
    out.push(
      ...await keepClusterBounds({
        self: input.self,
        services: input.services,
        documents,
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
