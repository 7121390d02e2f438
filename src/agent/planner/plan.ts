/**
 * One planner run, as in the original: generate candidates, append noaction, let a strategy
 * pick (see docs/compat.md#keep-planner).
 * Pure: all randomness comes from the injected {@link Prng}.
 *
 * @module
 */

import type { Prng } from "../../domain/random.ts";
import { noAction, scaleIn, scaleOut, swap } from "./policies.ts";
import { strategyFor } from "./strategies.ts";
import { applySourceRules } from "./fallback.ts";
import { RecommendationLog } from "./anti_flap.ts";
import { type TrackContext, trackingCandidates } from "./target_tracking.ts";
import type { Candidate, Decision, PlannerInput } from "./types.ts";

/** How to choose among candidates. */
export interface PlanOptions {
  /**
   * A strategy name (`probdelta`, `probcumulative`, `dummy`, `threshold`, or `target`: target
   * tracking, whose candidates come from target_tracking.ts instead of the policies).
   */
  strategy: string;
  /** The random source the strategy draws from. */
  prng: Prng;
  /**
   * For the `target` strategy: the time, the recommendation log kept between loops and the
   * anti-flapping defaults (without: no stabilization history, no cooldown defaults).
   */
  track?: TrackContext | undefined;
}

/** Target tracking (target_tracking.ts), then the metric-source rules; draws nothing. */
function planTarget(input: PlannerInput, options: PlanOptions): Decision {
  const ctx = options.track ?? {
    now: 0,
    log: new RecommendationLog(),
    defaults: { scaleOutCooldown: 0, scaleInCooldown: 0, scaleInStabilization: 0 },
  };
  const tracked = trackingCandidates(input, ctx).candidates;
  const idle = tracked.pop()!;
  const ruled = applySourceRules(input, tracked);
  idle.reasons.push(...ruled.held);
  let chosen: Candidate | undefined;
  for (const c of ruled.candidates) {
    if (c.weight > 0 && (!chosen || c.weight > chosen.weight)) chosen = c;
  }
  idle.weight = chosen ? 0 : 1;
  return {
    chosen: chosen ?? idle,
    candidates: [...ruled.candidates, idle],
    strategy: options.strategy,
    draw: undefined,
  };
}

/**
 * Plans one autonomic step: candidates of the enabled policies in the fixed order scaleout,
 * scalein, swap, then noaction (weight 1 − max of the others, 1 if none), and the strategy's
 * choice among them. With no service, the only candidate is noaction with weight 1.
 *
 * @param input What the node and the cluster know.
 * @param options The strategy name and the random source.
 * @returns The decision, with every candidate and the strategy's draw.
 * @throws {RangeError} When the strategy name is unknown.
 */
export function plan(input: PlannerInput, options: PlanOptions): Decision {
  if (options.strategy === "target") return planTarget(input, options);
  const strategy = strategyFor(options.strategy);
  const candidates: Candidate[] = [];
  if (input.policy.scaleout.enable) candidates.push(...scaleOut(input));
  if (input.policy.scalein.enable) candidates.push(...scaleIn(input));
  if (input.policy.swap.enable) candidates.push(...swap(input));
  const ruled = applySourceRules(input, candidates);
  const idle = noAction(ruled.candidates);
  idle.reasons.push(...ruled.held);
  candidates.splice(0, candidates.length, ...ruled.candidates, idle);
  const { chosen, draw } = strategy(candidates, options.prng);
  return { chosen, candidates, strategy: options.strategy, draw };
}
