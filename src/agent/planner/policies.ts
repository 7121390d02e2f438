/**
 * The planner's policy creators (the original's scale-out, scale-in, swap and noaction, see
 * docs/compat.md#keep-planner): each turns a {@link PlannerInput} into
 * weighted candidate plans. Pure functions: no I/O, no clock, no randomness.
 *
 * Weight formulas are the original's, with threshold `T` of the policy:
 * - scaleout: mean of `(max(v, T) − T) / (1 − T)` over the values present;
 * - scalein: mean of `1 − min(v, T) / T`;
 * - swap (R running → C inactive): `max(0, mean of min(1, (v_C − v_R) / T))`.
 *
 * Metric names are looked up in the service's cluster base data, analytic names in its user
 * data; absent names are skipped and no value at all gives weight 0. Differences from the
 * original, each recorded in the candidate's `reasons`:
 * - an `undefined` (unknown) or non-finite value is skipped, and scale-in never happens while
 *   any of its values is unknown (docs/compat.md#d15);
 * - `minInstances` blocks scale-in (and swapping the service out) at or below the floor,
 *   counted cluster-wide when the merged view has the service (`cluster.instances`), else on
 *   this node;
 * - `maxInstances` (0 = unlimited) blocks scale-out (and swapping in) when this node's
 *   running + pending instances reach it;
 * - a threshold outside (0, 1) gives weight 0 instead of dividing by zero;
 * - final weights are clamped to [0, 1] (values outside [0, 1] could otherwise escape it).
 *
 * @module
 */

import { tryParseCpuset } from "../../domain/cpuset.ts";
import { clamp01, mean } from "../../domain/math.ts";
import type { PolicyRule, ServiceDescriptor } from "../../domain/model.ts";
import { memoryLimitBytes } from "../../domain/size.ts";
import type { Candidate, NodeState, PlannerInput, ServiceState } from "./types.ts";

/** Target name of the noaction candidate (the original's). */
export const NO_SERVICE = "noservice";

/** A value found for a policy metric or analytic. */
interface Sample {
  name: string;
  value: number;
}

/** The values of a rule's metrics and analytics for one service. */
interface Samples {
  present: Sample[];
  /** Names that exist but whose value is unknown. */
  unknown: string[];
}

function isKnown(value: number | undefined): value is number {
  return typeof value === "number" && Number.isFinite(value);
}

function collect(rule: PolicyRule, state: ServiceState): Samples {
  const present: Sample[] = [];
  const unknown: string[] = [];
  const visit = (names: string[], source: Record<string, number | undefined>) => {
    for (const name of names) {
      if (!Object.hasOwn(source, name)) continue;
      const value = source[name];
      if (isKnown(value)) present.push({ name, value });
      else unknown.push(name);
    }
  };
  visit(rule.metrics, state.cluster.base);
  visit(rule.analytics, state.cluster.user);
  return { present, unknown };
}

function num(value: number): string {
  return String(Math.round(value * 1000) / 1000);
}

function sortedServices(input: PlannerInput): [string, ServiceState][] {
  return Object.entries(input.services).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

function thresholdProblem(threshold: number): string | undefined {
  return Number.isFinite(threshold) && threshold > 0 && threshold < 1
    ? undefined
    : `invalid threshold ${threshold}: must be in (0, 1)`;
}

/**
 * Why the node cannot host one more instance of `descriptor` (free/total cores and memory,
 * the original's check), or `undefined` when it can.
 */
function hostingProblem(descriptor: ServiceDescriptor, node: NodeState): string | undefined {
  const cores = descriptor.configuration.cpuNumber;
  let memory: number;
  try {
    memory = memoryLimitBytes(descriptor.configuration.memory);
  } catch {
    return `unparsable memory "${descriptor.configuration.memory}"`;
  }
  if (node.totalCpus < cores) return `node has ${node.totalCpus} cores, ${cores} needed`;
  if (node.freeCpus < cores) return `no free core: ${node.freeCpus} free, ${cores} needed`;
  if (node.totalMemory < memory) {
    return `node has ${node.totalMemory} bytes of memory, ${memory} needed`;
  }
  if (node.freeMemory < memory) {
    return `not enough free memory: ${node.freeMemory} bytes free, ${memory} needed`;
  }
  return undefined;
}

/** Why a fixed cpuset cannot be used (one of its cores is taken or missing), or `undefined`. */
function cpusetProblem(descriptor: ServiceDescriptor, node: NodeState): string | undefined {
  const cpuset = descriptor.configuration.cpusetCpus.trim();
  if (cpuset === "" || node.usedCores === undefined) return undefined;
  const cores = tryParseCpuset(cpuset);
  if (cores === undefined) return `invalid cpuset "${cpuset}"`;
  const taken = cores.filter((core) => core >= node.totalCpus || node.usedCores?.includes(core));
  return taken.length === 0
    ? undefined
    : `cpuset "${cpuset}": core ${taken.join(",")} taken or absent`;
}

function instances(state: ServiceState): number {
  return state.local.running + state.local.pending;
}

function maxInstancesProblem(state: ServiceState): string | undefined {
  const max = state.descriptor.maxInstances;
  return max > 0 && instances(state) >= max
    ? `max instances reached: ${instances(state)} of ${max}`
    : undefined;
}

function minInstancesProblem(state: ServiceState): string | undefined {
  const min = state.descriptor.minInstances;
  const cluster = state.cluster.instances;
  const n = cluster ?? instances(state);
  const where = cluster === undefined ? "" : " in the cluster";
  return min > 0 && n <= min ? `min instances reached: ${n} of ${min}${where}` : undefined;
}

/**
 * Why this node cannot start one more instance of the service (cores, memory, fixed cpuset,
 * `maxInstances`), or `undefined` when it can: the scale-out candidate's own checks.
 */
export function startProblem(state: ServiceState, node: NodeState): string | undefined {
  return hostingProblem(state.descriptor, node) ?? cpusetProblem(state.descriptor, node) ??
    maxInstancesProblem(state);
}

/**
 * One scale-out candidate per service (actions `{svc: ["start"]}`), as in the original.
 *
 * @param input The planner input; `input.policy.scaleout` gives threshold, metrics, analytics.
 * @returns Candidates in service-name order.
 */
export function scaleOut(input: PlannerInput): Candidate[] {
  const rule = input.policy.scaleout;
  return sortedServices(input).map(([name, state]) => {
    const reasons: string[] = [];
    const candidate = (weight: number): Candidate => ({
      name: "scaleout",
      weight: clamp01(weight),
      targets: [name],
      actions: { [name]: ["start"] },
      reasons,
    });
    const blocked = thresholdProblem(rule.threshold) ??
      hostingProblem(state.descriptor, input.node) ??
      cpusetProblem(state.descriptor, input.node) ?? maxInstancesProblem(state);
    if (blocked !== undefined) {
      reasons.push(blocked);
      return candidate(0);
    }
    const T = rule.threshold;
    const { present, unknown } = collect(rule, state);
    for (const missing of unknown) reasons.push(`${missing} unknown: skipped`);
    if (present.length === 0) {
      reasons.push("no metric or analytic value");
      return candidate(0);
    }
    const weights = present.map(({ name: metric, value }) => {
      reasons.push(
        `${metric} ${num(value)} ${value > T ? "over" : "not over"} threshold ${num(T)}`,
      );
      return (Math.max(value, T) - T) / (1 - T);
    });
    // `weights` has one entry per present value, and there is at least one.
    return candidate(mean(weights) ?? 0);
  });
}

/**
 * One scale-in candidate per service (actions `{svc: ["stop", "remove"]}`), as in the original.
 * Weight 0 without a running instance, for the last instance of a base service, at or below
 * `minInstances`, or when any value is unknown.
 *
 * @param input The planner input; `input.policy.scalein` gives threshold, metrics, analytics.
 * @returns Candidates in service-name order.
 */
export function scaleIn(input: PlannerInput): Candidate[] {
  const rule = input.policy.scalein;
  return sortedServices(input).map(([name, state]) => {
    const reasons: string[] = [];
    const candidate = (weight: number): Candidate => ({
      name: "scalein",
      weight: clamp01(weight),
      targets: [name],
      actions: { [name]: ["stop", "remove"] },
      reasons,
    });
    const { present, unknown } = collect(rule, state);
    const blocked = thresholdProblem(rule.threshold) ??
      (state.local.running === 0 ? "no running instance" : undefined) ??
      (instances(state) <= 1 && input.node.baseServices.includes(name)
        ? "base service: last instance"
        : undefined) ??
      minInstancesProblem(state) ??
      (unknown.length > 0 ? `unknown data: ${unknown.join(", ")}` : undefined) ??
      (present.length === 0 ? "no metric or analytic value" : undefined);
    if (blocked !== undefined) {
      reasons.push(blocked);
      return candidate(0);
    }
    const T = rule.threshold;
    const weights = present.map(({ name: metric, value }) => {
      reasons.push(
        `${metric} ${num(value)} ${value < T ? "under" : "not under"} threshold ${num(T)}`,
      );
      return 1 - Math.min(value, T) / T;
    });
    // Blocked above when no value is present: `weights` is not empty.
    return candidate(mean(weights) ?? 0);
  });
}

/**
 * One swap candidate per (running service R, inactive service C) pair (targets `[R, C]`,
 * actions `{R: ["stop", "remove"], C: ["start"]}`), as in the original. A service is running with
 * at least one running instance on this node and inactive with none (pending-only counts as
 * inactive).
 *
 * @param input The planner input; `input.policy.swap` gives threshold, metrics, analytics.
 * @returns Candidates with R in name order, then C in name order.
 */
export function swap(input: PlannerInput): Candidate[] {
  const rule = input.policy.swap;
  const services = sortedServices(input);
  const running = services.filter(([, state]) => state.local.running > 0);
  const inactive = services.filter(([, state]) => state.local.running === 0);
  const result: Candidate[] = [];
  for (const [r, rs] of running) {
    for (const [c, cs] of inactive) {
      const reasons: string[] = [];
      const candidate = (weight: number): Candidate => ({
        name: "swap",
        weight: clamp01(weight),
        targets: [r, c],
        actions: { [r]: ["stop", "remove"], [c]: ["start"] },
        reasons,
      });
      const blocked = thresholdProblem(rule.threshold) ??
        (input.node.baseServices.includes(r) && rs.local.running < 2
          ? `base service: last instance of ${r}`
          : undefined) ??
        minInstancesProblem(rs) ??
        (hostingProblem(cs.descriptor, input.node) === undefined
          ? `${c} can start without swapping`
          : undefined) ??
        (rs.descriptor.configuration.cpuNumber !== cs.descriptor.configuration.cpuNumber
          ? `core mismatch: ${r} uses ${rs.descriptor.configuration.cpuNumber}, ${c} needs ${cs.descriptor.configuration.cpuNumber}`
          : undefined) ??
        maxInstancesProblem(cs);
      if (blocked !== undefined) {
        reasons.push(blocked);
        result.push(candidate(0));
        continue;
      }
      const T = rule.threshold;
      const fromR = collect(rule, rs);
      const fromC = collect(rule, cs);
      for (const missing of new Set([...fromR.unknown, ...fromC.unknown])) {
        reasons.push(`${missing} unknown: skipped`);
      }
      const weights: number[] = [];
      for (const { name: metric, value: vr } of fromR.present) {
        const vc = fromC.present.find((sample) => sample.name === metric)?.value;
        if (vc === undefined) continue;
        reasons.push(`${metric} ${num(vr)} on ${r} vs ${num(vc)} on ${c}`);
        weights.push(Math.min(1, (vc - vr) / T));
      }
      if (weights.length === 0) {
        reasons.push("no metric or analytic value for both services");
        result.push(candidate(0));
        continue;
      }
      result.push(candidate(Math.max(0, mean(weights) ?? 0)));
    }
  }
  return result;
}

/**
 * The noaction candidate (as in the original): weight `1 − max(other weights)` (1 when there are
 * none), target `"noservice"`, no action.
 *
 * @param others The other candidates.
 * @returns The noaction candidate.
 */
export function noAction(others: readonly Candidate[]): Candidate {
  const max = others.reduce((m, candidate) => Math.max(m, candidate.weight), 0);
  return {
    name: "noaction",
    weight: clamp01(1 - max),
    targets: [NO_SERVICE],
    actions: { [NO_SERVICE]: [] },
    reasons: [
      others.length === 0
        ? "no other candidate"
        : `1 − highest weight ${num(max)} of ${others.length} candidates`,
    ],
  };
}
