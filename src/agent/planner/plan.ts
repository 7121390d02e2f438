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
import type { Candidate, Decision, PlannerInput } from "./types.ts";

/** How to choose among candidates. */
export interface PlanOptions {
  /** A strategy name (`probdelta`, `probcumulative`, `dummy`, `threshold`). */
  strategy: string;
  /** The random source the strategy draws from. */
  prng: Prng;
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
  const strategy = strategyFor(options.strategy);
  const candidates: Candidate[] = [];
  if (input.policy.scaleout.enable) candidates.push(...scaleOut(input));
  if (input.policy.scalein.enable) candidates.push(...scaleIn(input));
  if (input.policy.swap.enable) candidates.push(...swap(input));
  candidates.push(noAction(candidates));
  const { chosen, draw } = strategy(candidates, options.prng);
  return { chosen, candidates, strategy: options.strategy, draw };
}
