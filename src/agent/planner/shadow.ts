/**
 * Shadow strategies (`Autonomic.ShadowStrategies`): each loop, the other configured strategies
 * plan on the same inputs as the chosen one, and the record keeps what each would have done.
 * Only the chosen strategy acts. Pure.
 *
 * A shadow never disturbs the chosen strategy: it draws from its own seeded random source
 * (seeded from `seed`, e.g. the decision's sequence number, so a replay draws the same) and a
 * shadow `target` keeps its own recommendation log.
 *
 * @module
 */

import { seededPrng } from "../../domain/random.ts";
import { plan } from "./plan.ts";
import type { TrackContext } from "./target_tracking.ts";
import type { Decision, PlannerInput, PolicyName } from "./types.ts";

/** What one shadow strategy would have done. */
export interface ShadowRecord {
  strategy: string;
  /** The policy it would have chosen. */
  policy: PolicyName;
  targets: string[];
  weight: number;
  /** For `target`: the cluster-wide step and desired count of the chosen service. */
  step?: number;
  desired?: number;
  /** The draw of a random strategy. */
  draw?: number;
  /** Whether it agrees with the chosen strategy (same policy and targets). */
  agrees: boolean;
  why: string;
}

/** Options of {@link runShadows}. */
export interface ShadowOptions {
  /** The chosen strategy's decision. */
  chosen: Decision;
  /** The shadow strategies (the chosen one, if listed, is skipped). */
  strategies: readonly string[];
  /** Seed of the shadows' random source. */
  seed: number;
  /** Target tracking's context for a shadow `target` (its own log). */
  track?: TrackContext | undefined;
}

/**
 * Runs every shadow strategy on `input`.
 *
 * @returns One record per shadow strategy, in the order given (duplicates dropped).
 */
export function runShadows(input: PlannerInput, options: ShadowOptions): ShadowRecord[] {
  const main = options.chosen;
  const out: ShadowRecord[] = [];
  const seen = new Set<string>([main.strategy]);
  for (const strategy of options.strategies) {
    if (seen.has(strategy)) continue;
    seen.add(strategy);
    const prng = seededPrng((options.seed * 31 + out.length) >>> 0);
    const d = plan(input, { strategy, prng, track: options.track });
    const c = d.chosen;
    const agrees = c.name === main.chosen.name &&
      c.targets.join("\u0000") === main.chosen.targets.join("\u0000");
    out.push({
      strategy,
      policy: c.name,
      targets: [...c.targets],
      weight: Math.round(c.weight * 1e4) / 1e4,
      ...(c.track ? { step: c.track.step, desired: c.track.desired } : {}),
      ...(d.draw !== undefined ? { draw: d.draw } : {}),
      agrees,
      why: c.track?.why ?? c.reasons.join("; "),
    });
  }
  return out;
}
