/**
 * One anti-flapping block per service and direction (`Scaling.ScaleOut`, `Scaling.ScaleIn` of a
 * service descriptor; absent fields take the agent-wide `ScaleOutCooldown`, `ScaleInCooldown`
 * and `ScaleInStabilization`). Pure: times come in, in ms on the node's monotonic clock.
 *
 * The knobs, in the order target tracking applies them:
 * 1. **Tolerance**: a relative deviation `|value / target − 1|` at most this leaves the count
 *    as it is (HPA's tolerance, per direction).
 * 2. **Stabilization window**: of the recommendations of the last window (the current one
 *    included), scale-in takes the highest and scale-out the lowest (HPA's behavior).
 * 3. **Maximum step**: at most this many instances (or percent of the current count, at least
 *    one) per action.
 * 4. **Cooldown**: after a scale-out of the service anywhere in the cluster, no scale-out for
 *    `Cooldown` seconds; after any scaling, no scale-in for the scale-in `Cooldown`. The
 *    cooldown and the stabilization window apply to every strategy (guards.ts); tolerance and
 *    maximum step to target tracking, whose steps can exceed one instance.
 *
 * @module
 */

import type { MaxStep, ScalingDirection, ServiceDescriptor } from "../../domain/model.ts";

/** The agent-wide defaults of the block (seconds). */
export interface AntiFlapDefaults {
  scaleOutCooldown: number;
  scaleInCooldown: number;
  scaleInStabilization: number;
}

/** Default tolerance of target tracking in both directions (HPA's). */
export const DEFAULT_TOLERANCE = 0.1;

/** One direction's settings, resolved. */
export interface DirectionSettings {
  tolerance: number;
  stabilizationMs: number;
  cooldownMs: number;
  maxStep: MaxStep | undefined;
}

/** Both directions of a service. */
export interface AntiFlapBlock {
  out: DirectionSettings;
  in: DirectionSettings;
}

function resolve(
  given: ScalingDirection | undefined,
  fallback: { stabilization: number; cooldown: number },
): DirectionSettings {
  return {
    tolerance: given?.tolerance ?? DEFAULT_TOLERANCE,
    stabilizationMs: (given?.stabilizationWindow ?? fallback.stabilization) * 1000,
    cooldownMs: (given?.cooldown ?? fallback.cooldown) * 1000,
    maxStep: given?.maxStep,
  };
}

/**
 * The block of `service`: its `Scaling.ScaleOut`/`ScaleIn` over the agent-wide defaults
 * (scale-out: no stabilization, `ScaleOutCooldown`; scale-in: `ScaleInStabilization`,
 * `ScaleInCooldown`; tolerance 0.1; no maximum step).
 */
export function antiFlapBlock(
  service: Pick<ServiceDescriptor, "scaling"> | undefined,
  defaults: AntiFlapDefaults,
): AntiFlapBlock {
  return {
    out: resolve(service?.scaling?.scaleOut, {
      stabilization: 0,
      cooldown: defaults.scaleOutCooldown,
    }),
    in: resolve(service?.scaling?.scaleIn, {
      stabilization: defaults.scaleInStabilization,
      cooldown: defaults.scaleInCooldown,
    }),
  };
}

/** Formats a maximum step for messages. */
export function stepText(step: MaxStep): string {
  return "count" in step ? `${step.count}` : `${step.percent}%`;
}

/**
 * The most instances one action may add or remove from `current`.
 *
 * @returns Infinity without a maximum step; else the count, or ⌈current × percent / 100⌉ (at
 *   least 1).
 */
export function stepLimit(current: number, step: MaxStep | undefined): number {
  if (step === undefined) return Infinity;
  if ("count" in step) return step.count;
  return Math.max(1, Math.ceil(current * step.percent / 100));
}

/** Recommendations of the last windows per service, for the stabilization window. */
export class RecommendationLog {
  #byService = new Map<string, { at: number; desired: number }[]>();

  /**
   * Notes `desired` for `service` at `at` and returns the stabilized recommendation (HPA's
   * rule): the lowest of the scale-out window and the highest of the scale-in window bound a
   * move away from `current`.
   */
  stabilize(
    service: string,
    at: number,
    input: { desired: number; current: number; block: AntiFlapBlock },
  ): number {
    const keepMs = Math.max(input.block.out.stabilizationMs, input.block.in.stabilizationMs);
    const list = (this.#byService.get(service) ?? []).filter((r) => at - r.at <= keepMs);
    list.push({ at, desired: input.desired });
    this.#byService.set(service, list);
    let up = input.desired;
    let down = input.desired;
    for (const r of list) {
      if (at - r.at <= input.block.out.stabilizationMs) up = Math.min(up, r.desired);
      if (at - r.at <= input.block.in.stabilizationMs) down = Math.max(down, r.desired);
    }
    let out = input.current;
    if (out < up) out = up;
    if (out > down) out = down;
    return out;
  }

  /** Forgets services not in `keep`. */
  prune(keep: ReadonlySet<string>): void {
    for (const s of [...this.#byService.keys()]) if (!keep.has(s)) this.#byService.delete(s);
  }
}

/** A recent action in the cluster view (ages on this node's clock, ms). */
export interface RecentAction {
  origin: string;
  action: "start" | "stop";
  age: number;
}

/**
 * The action that keeps `service` in its cooldown for `direction`, if any: a start within the
 * scale-out cooldown blocks a scale-out; any action within the scale-in cooldown blocks a
 * scale-in. A peer's action in the same direction younger than `roundMs` (the time since
 * this node's previous loop) belongs to the round this node has not yet taken part in: its
 * instances are in the counts already, so this node still does its share.
 */
export function cooldownHolder(
  recent: readonly RecentAction[],
  input: { direction: "out" | "in"; cooldownMs: number; roundMs: number; self: string },
): RecentAction | undefined {
  return recent.find((a) =>
    a.age < input.cooldownMs && (input.direction === "in" || a.action === "start") &&
    !(a.origin !== input.self && a.age < input.roundMs &&
      a.action === (input.direction === "out" ? "start" : "stop"))
  );
}
