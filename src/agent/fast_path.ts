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

/** The fast path's settings with their defaults (off; margin 0.1; window 1 s; check 0.25 s). */
export function fastPathSettings(autonomic: AgentConfig["autonomic"]): FastPathSettings {
  return { enable: false, margin: 0.1, window: 1, checkInterval: 0.25, ...autonomic.fastPath };
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

/**
 * The first service (by name) whose short-window signal crosses its fast-path level.
 *
 * @returns The trigger, or undefined when none crosses.
 */
export function fastTrigger(input: {
  analysis: Readonly<Record<string, AnalyzedService>>;
  services: ReadonlyMap<string, ServiceDescriptor>;
  policy: PolicyConfig;
  autonomic: AgentConfig["autonomic"];
}): FastTrigger | undefined {
  const { autonomic, policy } = input;
  const margin = fastPathSettings(autonomic).margin;
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
      if (value !== undefined && value > c.level) return { service: name, ...c, value };
    }
  }
  return undefined;
}

/** The record's line for a trigger. */
export function triggerText(t: FastTrigger, windowS: number): string {
  const r = (v: number) => String(Math.round(v * 1000) / 1000);
  return `${t.service} ${t.metric} ${r(t.value)} over ${r(t.level)} in the last ${r(windowS)} s`;
}
