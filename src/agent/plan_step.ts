/**
 * The plan phase of one tick, around the pure planner: the schedules in force narrow the
 * services' bounds (planner/schedules.ts), the configured strategy plans (target tracking keeps
 * its recommendation log here, between ticks), the shadow strategies plan on the same inputs
 * (planner/shadow.ts), and a fast-path tick keeps only a scale-out.
 *
 * On a fast-path tick the choice is deterministic: the short window crossed the threshold by the
 * margin, which is the signal a random strategy (`probdelta`, `probcumulative`) would only act
 * on with some probability, leaving the cluster to wait a whole loop when its draw says no.
 * Knative's panic mode does not roll dice either. The cluster coordination (its cooldown and its
 * one-in-m gate) still holds the node back when peers could act, so N nodes do not all add one.
 *
 * @module
 */

import type { AgentConfig, PolicyConfig, ServiceDescriptor } from "../domain/model.ts";
import type { Prng } from "../domain/random.ts";
import type { MergedView } from "./gossip/merge.ts";
import { RecommendationLog } from "./planner/anti_flap.ts";
import { plan } from "./planner/plan.ts";
import { applySchedules, type ScheduledServices } from "./planner/schedules.ts";
import { runShadows, type ShadowRecord } from "./planner/shadow.ts";
import type { Candidate, Decision, NodeState } from "./planner/types.ts";

/** The documents in force that planning reads (the loop's state). */
export interface PlanState {
  config: AgentConfig;
  policy: PolicyConfig;
  services: ReadonlyMap<string, ServiceDescriptor>;
}

/** What one plan phase needs. */
export interface PlanStepInput {
  state: PlanState;
  merged: MergedView;
  node: NodeState;
  prng: Prng;
  /** Wall-clock ms (schedules are about the calendar). */
  now: number;
  /** Monotonic ms (stabilization windows). */
  monotonic: number;
  /** A fast-path tick: only a scale-out may be chosen. */
  fast?: boolean;
}

/** What the plan phase hands on. */
export interface PlanStepResult {
  decision: Decision;
  shadows: ShadowRecord[];
  /** Services with a schedule in force. */
  schedules: ScheduledServices["inForce"];
  /** The descriptors with the bounds in force (coordination and reconciliation follow them). */
  services: ReadonlyMap<string, ServiceDescriptor>;
}

/** The plan phase; it keeps target tracking's recommendations between ticks. */
export class PlanStep {
  #main = new RecommendationLog();
  #shadow = new RecommendationLog();
  #ticks = 0;

  /** Plans one tick. */
  run(input: PlanStepInput): PlanStepResult {
    const { state, merged } = input;
    const auto = state.config.autonomic;
    const scheduled = applySchedules(state.services, input.now);
    const services: MergedView["planner"] = {};
    for (const [name, s] of Object.entries(merged.planner)) {
      const descriptor = scheduled.services.get(name) ?? s.descriptor;
      services[name] = { ...s, descriptor };
    }
    const policy = input.fast
      ? {
        ...state.policy,
        scalein: { ...state.policy.scalein, enable: false },
        swap: { ...state.policy.swap, enable: false },
      }
      : state.policy;
    const plannerInput = { services, node: input.node, policy };
    const track = (log: RecommendationLog) => ({
      now: input.monotonic,
      log,
      defaults: auto,
    });
    let decision = plan(plannerInput, {
      strategy: auto.plannerStrategy,
      prng: input.prng,
      track: track(this.#main),
    });
    if (input.fast) decision = fastChoice(decision);
    this.#ticks++;
    const listed = auto.shadowStrategies ?? [];
    const shadows = listed.length === 0 ? [] : runShadows(plannerInput, {
      chosen: decision,
      strategies: listed,
      seed: this.#ticks,
      track: track(this.#shadow),
    });
    return { decision, shadows, schedules: scheduled.inForce, services: scheduled.services };
  }
}

/**
 * A fast-path tick's choice: the highest-weight scale-out (first on ties) when one has a
 * positive weight, whatever the strategy drew; otherwise no action. Never a scale-in or swap.
 */
export function fastChoice(decision: Decision): Decision {
  const outs = decision.candidates.filter((c) => c.name === "scaleout" && c.weight > 0);
  let best: Candidate | undefined;
  for (const c of outs) if (!best || c.weight > best.weight) best = c;
  if (best) {
    if (best === decision.chosen) return decision;
    const note =
      `fast path: the margin was crossed, so the scale-out is taken without ${decision.strategy}'s draw`;
    return { ...decision, chosen: { ...best, reasons: [...best.reasons, note] } };
  }
  const idle = decision.candidates.find((c) => c.name === "noaction") ?? decision.chosen;
  return idle === decision.chosen ? decision : { ...decision, chosen: idle };
}
