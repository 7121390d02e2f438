/**
 * Planner strategies (the original's `dummy`, `probcumulative` and `probdelta`, plus
 * `threshold`): pick one candidate plan. Randomness comes only from the
 * injected {@link Prng}.
 *
 * Prng consumption of the random strategies (`probcumulative`, `probdelta`), in order:
 * 1. shuffle: for i = 0 … n−1, one draw `u` gives j = ⌊u·(i+1)⌋ and items i and j swap
 *    (n draws; a draw close to 1 gives j = i, i.e. no swap);
 * 2. one more draw: r, returned as `draw`.
 * The candidate list passed in is never mutated. `dummy` and `threshold` draw nothing.
 *
 * @module
 */

import type { Prng } from "../../domain/random.ts";
import { STRATEGY_NAMES, type StrategyName } from "../../domain/model.ts";
import type { Candidate } from "./types.ts";

/** Picks one of `candidates` (which must not be empty); `draw` is the r it used, if any. */
export type Strategy = (
  candidates: Candidate[],
  prng: Prng,
) => { chosen: Candidate; draw?: number };

/** Weight a non-noaction candidate needs for the `threshold` strategy to choose it. */
export const THRESHOLD_WEIGHT = 0.5;

function nonEmpty(candidates: readonly Candidate[], strategy: string): Candidate {
  const first = candidates[0];
  if (first === undefined) throw new RangeError(`Strategy ${strategy}: no candidate to choose`);
  return first;
}

function highest(candidates: readonly Candidate[], first: Candidate): Candidate {
  let best = first;
  for (const candidate of candidates) if (candidate.weight > best.weight) best = candidate;
  return best;
}

/**
 * A shuffled copy of `items`: for i = 0 … n−1, swap i with j = ⌊prng()·(i+1)⌋ (one draw each).
 *
 * @param items The items (not mutated).
 * @param prng The random source.
 * @returns The shuffled copy.
 */
export function shuffle<T>(items: readonly T[], prng: Prng): T[] {
  const out = [...items];
  for (let i = 0; i < out.length; i++) {
    const j = Math.min(i, Math.floor(prng() * (i + 1)));
    const a = out[i] as T;
    out[i] = out[j] as T;
    out[j] = a;
  }
  return out;
}

/**
 * `dummy`: the candidate with the highest weight, the first one on ties (the original's intent;
 * it returned the last candidate, docs/compat.md#d10). Draws nothing.
 */
export function dummy(candidates: Candidate[]): { chosen: Candidate } {
  return { chosen: highest(candidates, nonEmpty(candidates, "dummy")) };
}

/**
 * `probcumulative` (roulette wheel): shuffle, then return the first candidate whose cumulative
 * normalised weight exceeds r. Never returns nothing: on floating-point shortfall it returns
 * the last candidate with a positive weight (docs/compat.md#d6); when every weight is 0 it
 * returns the highest-weight candidate as `dummy` would.
 */
export function probcumulative(
  candidates: Candidate[],
  prng: Prng,
): { chosen: Candidate; draw: number } {
  const first = nonEmpty(candidates, "probcumulative");
  const shuffled = shuffle(candidates, prng);
  const r = prng();
  const total = shuffled.reduce((sum, c) => sum + Math.max(0, c.weight), 0);
  if (!(total > 0)) return { chosen: highest(candidates, first), draw: r };
  let cumulative = 0;
  let lastPositive: Candidate | undefined;
  for (const candidate of shuffled) {
    const weight = Math.max(0, candidate.weight);
    if (weight > 0) lastPositive = candidate;
    cumulative += weight / total;
    if (cumulative > r) return { chosen: candidate, draw: r };
  }
  return { chosen: lastPositive ?? first, draw: r };
}

/**
 * `probdelta` (as in the original): shuffle; return the first candidate whose normalised weight w/W
 * exceeds r; otherwise the one with the smallest r − w/W (strictly smaller replaces, initial
 * bound 1), i.e. the largest normalised weight, first in shuffled order on ties. When every
 * weight is 0 it returns the highest-weight candidate as `dummy` would.
 */
export function probdelta(
  candidates: Candidate[],
  prng: Prng,
): { chosen: Candidate; draw: number } {
  const first = nonEmpty(candidates, "probdelta");
  const shuffled = shuffle(candidates, prng);
  const r = prng();
  const total = shuffled.reduce((sum, c) => sum + Math.max(0, c.weight), 0);
  if (!(total > 0)) return { chosen: highest(candidates, first), draw: r };
  let bound = 1;
  let closest: Candidate | undefined;
  for (const candidate of shuffled) {
    const normalised = Math.max(0, candidate.weight) / total;
    if (normalised > r) return { chosen: candidate, draw: r };
    if (r - normalised < bound) {
      bound = r - normalised;
      closest = candidate;
    }
  }
  return { chosen: closest ?? highest(candidates, first), draw: r };
}

/**
 * `threshold` (deterministic, new): the highest-weight non-noaction candidate (first on ties)
 * when its weight is at least {@link THRESHOLD_WEIGHT}; otherwise the noaction candidate (or,
 * without one, the highest-weight candidate). Draws nothing.
 */
export function threshold(candidates: Candidate[]): { chosen: Candidate } {
  const first = nonEmpty(candidates, "threshold");
  const actions = candidates.filter((c) => c.name !== "noaction");
  const best = actions[0] === undefined ? undefined : highest(actions, actions[0]);
  if (best !== undefined && best.weight >= THRESHOLD_WEIGHT) return { chosen: best };
  const idle = candidates.find((c) => c.name === "noaction");
  return { chosen: idle ?? highest(candidates, first) };
}

/**
 * A fresh registry of the known strategies, by name (one per entry of `STRATEGY_NAMES`).
 *
 * @returns A new map; callers may add their own strategies to it.
 */
export function createStrategyRegistry(): Map<string, Strategy> {
  // `target`: plan() builds its candidates (target_tracking.ts); the choice among them is the
  // largest weight, dummy's rule.
  const all: Record<StrategyName, Strategy> = {
    probdelta,
    probcumulative,
    dummy,
    threshold,
    target: dummy,
  };
  return new Map(STRATEGY_NAMES.map((name) => [name, all[name]]));
}

/**
 * The strategy called `name`.
 *
 * @param name A strategy name.
 * @param registry Where to look it up (default: {@link createStrategyRegistry}).
 * @returns The strategy.
 * @throws {RangeError} When `name` is unknown; the message lists the known names.
 */
export function strategyFor(
  name: string,
  registry: ReadonlyMap<string, Strategy> = createStrategyRegistry(),
): Strategy {
  const strategy = registry.get(name);
  if (strategy === undefined) {
    throw new RangeError(
      `Unknown planner strategy "${name}": known strategies are ${[...registry.keys()].join(", ")}`,
    );
  }
  return strategy;
}
