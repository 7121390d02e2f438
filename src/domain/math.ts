/**
 * Small numeric helpers shared by the analyzer and the planner.
 *
 * @module
 */

/**
 * `value` limited to [0, 1]; NaN stays NaN.
 *
 * @example
 * ```ts
 * import { clamp01 } from "./math.ts";
 * clamp01(1.5); // 1
 * clamp01(-2); // 0
 * clamp01(0.25); // 0.25
 * ```
 */
export function clamp01(value: number): number {
  return Math.min(1, Math.max(0, value));
}

/**
 * The arithmetic mean (summed in order), or `undefined` when there is no value.
 *
 * @example
 * ```ts
 * import { mean } from "./math.ts";
 * mean([1, 2, 6]); // 3
 * mean([]); // undefined
 * ```
 */
export function mean(values: readonly number[]): number | undefined {
  if (values.length === 0) return undefined;
  let sum = 0;
  for (const v of values) sum += v;
  return sum / values.length;
}
