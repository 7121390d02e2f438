/**
 * The `target` strategy: target tracking with the HPA's formula, cluster-wide. Pure: time comes
 * in (`now`, monotonic ms) and the recommendation log is the caller's.
 *
 * For each service with `Scaling.Target` (`Metric`, `Value`), from the gossiped view:
 * 1. `value` = the metric's cluster-wide value (a base metric, else an analytic); unknown holds
 *    (never scales in on an unknown value).
 * 2. `ratio = value / target`; within the direction's tolerance (`|ratio − 1| ≤ Tolerance`)
 *    the count stays.
 * 3. The formula: `desired = ⌈current × value / target⌉` with `current` the running instances
 *    (the ones the value is measured on). Pending instances count as 0 % of the target on the
 *    way up (HPA's not-ready rule: a new instance already started is not asked for again) and as
 *    100 % on the way down (a warming-up instance is never the reason to scale in).
 * 4. The stabilization window, then the maximum step (anti_flap.ts), then the service's bounds
 *    (`MinInstances`, `MaxInstances`, narrowed by a schedule in force) bound the result.
 * 5. `step = desired − (running + pending)`: the cluster-wide gap. Every node computes the same
 *    gap from the same view; the executor deals it out among the nodes (executor/track.ts), so
 *    N nodes together add what the formula asks, not N times.
 *
 * Each service gets one candidate (`scaleout` or `scalein` with weight min(1, |step| / total),
 * else a `noaction` line in the reasons); the chosen one is the largest relative step (first
 * by name on ties). The candidate's `track` holds the whole arithmetic and the knob that held it.
 *
 * @module
 */

import {
  type AntiFlapBlock,
  antiFlapBlock,
  type AntiFlapDefaults,
  type RecommendationLog,
  stepLimit,
  stepText,
} from "./anti_flap.ts";
import type { Candidate, PlannerInput, ServiceState, Tracking } from "./types.ts";

/** What target tracking needs beyond the planner input. */
export interface TrackContext {
  /** Monotonic ms (stabilization windows). */
  now: number;
  /** The recommendations of earlier loops (kept by the caller between loops). */
  log: RecommendationLog;
  /** Agent-wide anti-flapping defaults. */
  defaults: AntiFlapDefaults;
}

function num(v: number): string {
  return String(Math.round(v * 1000) / 1000);
}

function valueOf(state: ServiceState, metric: string): number | undefined {
  const v = Object.hasOwn(state.cluster.base, metric)
    ? state.cluster.base[metric]
    : state.cluster.user[metric];
  return typeof v === "number" && Number.isFinite(v) ? v : undefined;
}

/** The formula with the pending rule and the tolerance (steps 1 to 3). */
function formula(
  t: { value: number; target: number; running: number; pending: number },
  block: AntiFlapBlock,
): { desired: number; heldBy?: "tolerance" | "pending"; why: string } {
  const total = t.running + t.pending;
  const ratio = t.value / t.target;
  const dir = ratio >= 1 ? block.out : block.in;
  const shown = `⌈${t.running} × ${num(t.value)} / ${num(t.target)}⌉`;
  if (Math.abs(ratio - 1) <= dir.tolerance) {
    return {
      desired: total,
      heldBy: "tolerance",
      why: `ratio ${num(ratio)} within tolerance ${num(dir.tolerance)}`,
    };
  }
  const raw = Math.ceil(t.running * ratio - 1e-9);
  if (ratio > 1) {
    if (raw <= total && t.pending > 0) {
      return {
        desired: total,
        heldBy: "pending",
        why: `${shown} = ${raw}: the ${t.pending} pending cover it`,
      };
    }
    return { desired: Math.max(raw, total), why: `${shown} = ${raw}` };
  }
  const down = raw + t.pending;
  return {
    desired: Math.min(down, total),
    why: t.pending > 0 ? `${shown} = ${raw}, + ${t.pending} pending` : `${shown} = ${raw}`,
  };
}

/**
 * Target tracking of one service.
 *
 * @returns The tracking, or undefined when the service has no `Scaling.Target`.
 */
export function trackService(
  name: string,
  state: ServiceState,
  ctx: TrackContext,
): Tracking | undefined {
  const goal = state.descriptor.scaling?.target;
  if (!goal) return undefined;
  const running = state.cluster.running ?? state.local.running;
  const pending = state.cluster.pending ?? state.local.pending;
  const total = running + pending;
  const value = valueOf(state, goal.metric);
  const base = { service: name, metric: goal.metric, value, target: goal.value };
  const hold = (why: string): Tracking => ({
    ...base,
    current: running,
    pending,
    formula: total,
    desired: total,
    step: 0,
    heldBy: "unknown",
    why,
  });
  if (value === undefined) return hold(`${goal.metric} unknown: holding ${total}`);
  if (running === 0) return hold(`no running instance to measure ${goal.metric} on`);
  const block = antiFlapBlock(state.descriptor, ctx.defaults);
  const f = formula({ value, target: goal.value, running, pending }, block);
  const reasons = [`${goal.metric} ${num(value)} for target ${num(goal.value)}: ${f.why}`];
  let heldBy: Tracking["heldBy"] = f.heldBy;
  let desired = ctx.log.stabilize(name, ctx.now, { desired: f.desired, current: total, block });
  if (desired !== f.desired) {
    heldBy = "stabilization";
    const dir = f.desired > total ? block.out : block.in;
    reasons.push(
      `stabilization window ${num(dir.stabilizationMs / 1000)} s keeps ${desired}`,
    );
  }
  const dir = desired > total ? block.out : block.in;
  const limit = stepLimit(total, dir.maxStep);
  if (Math.abs(desired - total) > limit) {
    desired = desired > total ? total + limit : total - limit;
    heldBy = "maxStep";
    reasons.push(`max step ${stepText(dir.maxStep!)} per action: ${desired}`);
  }
  const min = Math.max(0, state.descriptor.minInstances);
  const max = state.descriptor.maxInstances > 0 ? state.descriptor.maxInstances : Infinity;
  if (total < min || total > max) {
    heldBy = "bounds";
    desired = total;
    reasons.push(
      `${total} outside [${min}, ${max === Infinity ? "∞" : max}]: the bounds ` +
        `reconciliation acts`,
    );
  } else if (desired < min || desired > max) {
    desired = Math.min(max, Math.max(min, desired));
    heldBy = "bounds";
    reasons.push(`bounds [${min}, ${max === Infinity ? "∞" : max}]: ${desired}`);
  }
  const step = desired - total;
  reasons.push(
    step === 0
      ? `desired ${desired} = ${total} in the cluster: no change`
      : `desired ${desired}, ${total} in the cluster: ${step > 0 ? "+" : ""}${step}`,
  );
  return {
    ...base,
    current: running,
    pending,
    formula: f.desired,
    desired,
    step,
    ...(heldBy ? { heldBy } : {}),
    why: reasons.join("; "),
  };
}

/**
 * The candidates of the `target` strategy: one per service with a non-zero step (in name
 * order), the noaction candidate last (its reasons list every other service's tracking).
 *
 * @returns The candidates and the chosen one (largest relative step; noaction when none).
 */
export function trackingCandidates(
  input: PlannerInput,
  ctx: TrackContext,
): { candidates: Candidate[]; chosen: Candidate } {
  const names = Object.keys(input.services).sort();
  ctx.log.prune(new Set(names));
  const candidates: Candidate[] = [];
  const still: string[] = [];
  for (const name of names) {
    const track = trackService(name, input.services[name]!, ctx);
    if (!track) continue;
    if (track.step === 0) {
      still.push(`${name}: ${track.why}`);
      continue;
    }
    const total = track.current + track.pending;
    candidates.push({
      name: track.step > 0 ? "scaleout" : "scalein",
      weight: Math.min(1, Math.abs(track.step) / Math.max(1, total)),
      targets: [name],
      actions: { [name]: [track.step > 0 ? "start" : "stop"] },
      reasons: [track.why],
      track,
    });
  }
  let chosen: Candidate | undefined;
  for (const c of candidates) if (!chosen || c.weight > chosen.weight) chosen = c;
  const idle: Candidate = {
    name: "noaction",
    weight: chosen ? 0 : 1,
    targets: ["noservice"],
    actions: {},
    reasons: still.length > 0 ? still : ["no service with Scaling.Target"],
  };
  candidates.push(idle);
  return { candidates, chosen: chosen ?? idle };
}
