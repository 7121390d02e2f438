/**
 * The fast path (Knative's panic mode): between two ticks the loop takes a usage sample and
 * looks at a short window (`Autonomic.FastPath.Window`, every `CheckInterval` seconds) and, when
 * a scale-out signal is
 * over its threshold by `Margin`, runs a tick at once instead of waiting for the next one. That
 * tick plans on the short window and may only scale out; the cooldowns and coordination hold as
 * on any tick, and the fast path is disarmed until the next regular tick, so it adds at most one
 * tick per interval and never a scale-in. Pure.
 *
 * The thresholds: with the `target` strategy, a service's `Scaling.Target` metric over
 * `Value × (1 + ScaleOut tolerance) + Margin`; otherwise the scale-out policy's metrics and
 * analytics over its `Threshold + Margin`.
 *
 * The fast path acts only on a surge that comes out of calm (`Calm` seconds in which no look saw
 * the service over its level): a short window is noisy, and under a bursty load that sits below
 * the threshold it crosses the level again and again, which would start instances the regular
 * window never asks for and stop them again (measured in BENCHMARKS.md section 1). A crossing
 * held by that rule is named in the next regular tick's record; the regular tick decides.
 *
 * @module
 */

import type {
  AgentConfig,
  FastPathSettings,
  PolicyConfig,
  ServiceDescriptor,
} from "../domain/model.ts";
import type { AnalyzedService } from "./analyzer/analysis.ts";
import { antiFlapBlock } from "./planner/anti_flap.ts";

/** The fast path's settings with their defaults (off; margin 0.1; window 1 s; check 0.25 s; calm 20 s). */
export function fastPathSettings(autonomic: AgentConfig["autonomic"]): FastPathSettings {
  return {
    enable: false,
    margin: 0.1,
    window: 1,
    checkInterval: 0.25,
    calm: 20,
    ...autonomic.fastPath,
  };
}

/** Why a fast tick runs. */
export interface FastTrigger {
  service: string;
  metric: string;
  value: number;
  /** The level it crossed: threshold (or target band) + margin. */
  level: number;
}

function valueOf(a: AnalyzedService, metric: string): number | undefined {
  const v = metric === "cpu_avg" || metric === "memory_avg" ? a[metric] : a.analytics[metric];
  return typeof v === "number" && Number.isFinite(v) ? v : undefined;
}

/** What a look at the short window reads. */
export interface FastLook {
  analysis: Readonly<Record<string, AnalyzedService>>;
  services: ReadonlyMap<string, ServiceDescriptor>;
  policy: PolicyConfig;
  autonomic: AgentConfig["autonomic"];
}

/**
 * The first service (by name) whose short-window signal crosses its fast-path level.
 *
 * @returns The trigger, or undefined when none crosses.
 */
export function fastTrigger(input: FastLook): FastTrigger | undefined {
  return fastCrossings(input)[0];
}

/**
 * Every service (by name) whose short-window signal crosses its fast-path level, each with the
 * first of its signals that crosses.
 *
 * @returns The crossings, possibly none.
 */
export function fastCrossings(input: FastLook): FastTrigger[] {
  const { autonomic, policy } = input;
  const margin = fastPathSettings(autonomic).margin;
  const out: FastTrigger[] = [];
  for (const name of Object.keys(input.analysis).sort()) {
    const a = input.analysis[name]!;
    const svc = input.services.get(name);
    if (!svc || a.running === 0) continue;
    const checks: { metric: string; level: number }[] = [];
    if (autonomic.plannerStrategy === "target") {
      const goal = svc.scaling?.target;
      if (!goal) continue;
      const tolerance = antiFlapBlock(svc, autonomic).out.tolerance;
      checks.push({ metric: goal.metric, level: goal.value * (1 + tolerance) + margin });
    } else if (policy.scaleout.enable) {
      for (const metric of [...policy.scaleout.metrics, ...policy.scaleout.analytics]) {
        checks.push({ metric, level: policy.scaleout.threshold + margin });
      }
    }
    for (const c of checks) {
      const value = valueOf(a, c.metric);
      if (value !== undefined && value > c.level) {
        out.push({ service: name, ...c, value });
        break;
      }
    }
  }
  return out;
}

/** A crossing the calm rule held, and how long before it the service had crossed. */
export interface HeldCrossing {
  crossing: FastTrigger;
  /** Ms since the service's previous crossing. */
  sinceMs: number;
}

/**
 * The calm rule: a crossing triggers only when its service was not over its level at any look in
 * the last `calmMs` (a service never seen over it is calm). Every crossing, acted on or held,
 * restarts its service's calm. Pure: the caller gives the monotonic time.
 */
export class CalmGate {
  #last = new Map<string, number>();

  /**
   * Feeds one look's crossings.
   *
   * @param crossings The look's crossings (fastCrossings).
   * @param now Monotonic ms.
   * @param calmMs The calm a crossing must come out of.
   * @returns The first crossing out of calm (the fast tick's trigger), and the held ones.
   */
  observe(
    crossings: readonly FastTrigger[],
    now: number,
    calmMs: number,
  ): { trigger?: FastTrigger; held: HeldCrossing[] } {
    let trigger: FastTrigger | undefined;
    const held: HeldCrossing[] = [];
    for (const c of crossings) {
      const last = this.#last.get(c.service);
      this.#last.set(c.service, now);
      if (last === undefined || now - last >= calmMs) trigger ??= c;
      else held.push({ crossing: c, sinceMs: now - last });
    }
    if (this.#last.size > 1000) this.#last.clear();
    return trigger ? { trigger, held } : { held };
  }
}

/** The record's line for a held crossing. */
export function heldText(h: HeldCrossing, windowS: number, calmS: number): string {
  return `${triggerText(h.crossing, windowS)}, held: it crossed ${
    (Math.round(h.sinceMs / 100) / 10).toFixed(1)
  } s before, not out of ${calmS} s of calm`;
}

/** The record's line for a trigger. */
export function triggerText(t: FastTrigger, windowS: number): string {
  const r = (v: number) => String(Math.round(v * 1000) / 1000);
  return `${t.service} ${t.metric} ${r(t.value)} over ${r(t.level)} in the last ${r(windowS)} s`;
}
