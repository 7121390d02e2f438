/**
 * Anti-flapping guards between the planner and the executor (pure): separate scale-out and
 * scale-in cooldowns per service, and a stabilization window that scale-in must be wanted for
 * without a break before it is carried out (as in the Kubernetes HPA's downscale window).
 *
 * @module
 */

import type { Candidate } from "../planner/types.ts";

/**
 * Per-service times of the last scaling actions and of scale-in wishes, in ms on the node's
 * monotonic clock (`Clock.monotonic`), never wall time: an NTP step backwards would otherwise
 * stretch every cooldown by the size of the step. Every `now` passed below is on that clock.
 */
export interface ScalingHistory {
  lastScaleOut: Map<string, number>;
  lastAction: Map<string, number>;
  scaleInWantedSince: Map<string, number>;
}

/** Guard settings, in ms. */
export interface GuardSettings {
  scaleOutCooldownMs: number;
  scaleInCooldownMs: number;
  scaleInStabilizationMs: number;
}

/** A fresh history. */
export function newHistory(): ScalingHistory {
  return { lastScaleOut: new Map(), lastAction: new Map(), scaleInWantedSince: new Map() };
}

/**
 * Notes, for every service, whether scale-in is wanted now (its scale-in candidate has a
 * weight above 0); a service whose wish lapses starts its stabilization window again.
 */
export function noteScaleInWishes(
  history: ScalingHistory,
  candidates: readonly Candidate[],
  now: number,
): void {
  const wanted = new Set(
    candidates.filter((c) => c.name === "scalein" && c.weight > 0).map((c) => c.targets[0]!),
  );
  for (const s of [...history.scaleInWantedSince.keys()]) {
    if (!wanted.has(s)) history.scaleInWantedSince.delete(s);
  }
  for (const s of wanted) {
    if (!history.scaleInWantedSince.has(s)) history.scaleInWantedSince.set(s, now);
  }
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

/** Whether the chosen candidate may run now; when not, why. */
export function checkGuards(
  chosen: Candidate,
  history: ScalingHistory,
  now: number,
  given: GuardSettings | ((service: string) => GuardSettings),
): { ok: true } | { ok: false; reason: string } {
  // One anti-flapping block per service (planner/anti_flap.ts): settings may differ by service.
  const of = (s: string) => typeof given === "function" ? given(s) : given;
  const outs = chosen.name === "scaleout"
    ? chosen.targets
    : chosen.name === "swap"
    ? chosen.targets.slice(1)
    : [];
  const ins = chosen.name === "scalein"
    ? chosen.targets
    : chosen.name === "swap"
    ? chosen.targets.slice(0, 1)
    : [];
  for (const s of outs) {
    const settings = of(s);
    const last = history.lastScaleOut.get(s);
    if (last !== undefined && now - last < settings.scaleOutCooldownMs) {
      return {
        ok: false,
        reason: `scale-out cooldown of ${s}: ${
          seconds(settings.scaleOutCooldownMs - (now - last))
        } left`,
      };
    }
  }
  for (const s of ins) {
    const settings = of(s);
    const last = history.lastAction.get(s);
    if (last !== undefined && now - last < settings.scaleInCooldownMs) {
      return {
        ok: false,
        reason: `scale-in cooldown of ${s}: ${
          seconds(settings.scaleInCooldownMs - (now - last))
        } left`,
      };
    }
    const since = history.scaleInWantedSince.get(s);
    const stable = since === undefined ? 0 : now - since;
    if (stable < settings.scaleInStabilizationMs) {
      return {
        ok: false,
        reason: `scale-in of ${s} not stable yet: wanted for ${seconds(stable)} of ${
          seconds(settings.scaleInStabilizationMs)
        }`,
      };
    }
  }
  return { ok: true };
}

/** Records that `chosen` was carried out at `now`. */
export function recordScaling(history: ScalingHistory, chosen: Candidate, now: number): void {
  if (chosen.name === "scaleout") {
    for (const s of chosen.targets) {
      history.lastScaleOut.set(s, now);
    }
  }
  if (chosen.name === "swap" && chosen.targets[1]) history.lastScaleOut.set(chosen.targets[1], now);
  if (chosen.name !== "noaction") {
    for (const s of chosen.targets) {
      history.lastAction.set(s, now);
      history.scaleInWantedSince.delete(s);
    }
  }
}
