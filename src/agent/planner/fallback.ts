/**
 * What a service does while one of its metric sources fails or is stale (`OnSourceFailure` of
 * its descriptor). Pure: it rewrites the candidates of one planner run.
 *
 * - `hold` (default): no load-driven action on the service: its scale-out, scale-in and swap
 *   candidates get weight 0;
 * - `scale-out-only`: scale-in and swaps that stop the service get weight 0; scale-out on the
 *   metrics that are still known goes on;
 * - a whole number N (KEDA's fallback): once the source has been unknown for
 *   {@link FALLBACK_AFTER_LOOPS} loops in a row, below N instances in the cluster the service
 *   scales out (a scale-out candidate of weight 1, subject to this node's room and
 *   `MaxInstances`); at or above N, or before that, it holds.
 *
 * A source without any reading yet (`missing`: the node just started) holds, whatever the rule.
 * Whatever the rule, a failing or stale source never causes a scale-in. Every candidate the rule
 * changes says so in its reasons, naming the rule, the source and why it is unknown, and the
 * planner adds a summary to the noaction candidate, so the decision record says which rule held
 * the action.
 *
 * @module
 */

import type { SourceFailureRule } from "../../domain/model.ts";
import { startProblem } from "./policies.ts";
import type { Candidate, PlannerInput, ServiceState, SourceStatus } from "./types.ts";

export type { SourceState, SourceStatus } from "./types.ts";

/**
 * Loops in a row a source must be unknown before a fixed fallback count acts (KEDA's default
 * `failureThreshold`): a single failed query holds, it does not start instances.
 */
export const FALLBACK_AFTER_LOOPS = 3;

/** The candidates after the rules, and one line per service a rule held. */
export interface RuledCandidates {
  candidates: Candidate[];
  held: string[];
}

/** The service's sources that are not fresh. */
export function unknownSources(state: ServiceState): SourceStatus[] {
  return (state.sources ?? []).filter((s) => s.state !== "fresh");
}

/** The rule's name as the record shows it. */
export function ruleName(rule: SourceFailureRule): string {
  return typeof rule === "number" ? `fallback ${rule}` : rule;
}

function why(sources: readonly SourceStatus[]): string {
  return sources.map((s) => `${s.metric} ${s.state}${s.reason ? `: ${s.reason}` : ""}`)
    .join("; ");
}

function stops(c: Candidate, service: string): boolean {
  return (c.actions[service] ?? []).includes("stop");
}

function starts(c: Candidate, service: string): boolean {
  return (c.actions[service] ?? []).includes("start");
}

function instances(state: ServiceState): number {
  return state.cluster.instances ?? state.local.running + state.local.pending;
}

/**
 * Applies each service's `onSourceFailure` rule to the candidates (policy order kept; a
 * fallback scale-out candidate replaces the service's scale-out candidate, or is added after
 * the others when the scale-out policy is off).
 *
 * @param input The planner input (services with their source statuses).
 * @param candidates The policies' candidates (not mutated).
 * @returns The candidates to choose among, and what each rule held.
 */
export function applySourceRules(
  input: PlannerInput,
  candidates: readonly Candidate[],
): RuledCandidates {
  let out = candidates.map((c) => ({ ...c, reasons: [...c.reasons] }));
  const held: string[] = [];
  for (const name of Object.keys(input.services).sort()) {
    const state = input.services[name]!;
    const down = unknownSources(state);
    if (down.length === 0) continue;
    // No reading yet (a node just started, the value not gossiped yet) is no failure: hold
    // until the first reading arrives, whatever the rule.
    const failed = down.some((s) => s.state !== "missing");
    const rule = failed ? state.descriptor.onSourceFailure ?? "hold" : "hold";
    const label = `source rule "${ruleName(rule)}" for ${name} (${why(down)})`;
    const zero = (c: Candidate, what: string) => {
      if (c.weight > 0) held.push(`${label} held ${what} (weight ${c.weight})`);
      c.weight = 0;
      c.reasons.push(`${label}: no ${what}`);
    };
    for (const c of out) {
      if (stops(c, name)) zero(c, c.name === "swap" ? "swap" : "scale-in");
      else if (rule === "hold" && starts(c, name)) zero(c, c.name);
    }
    if (typeof rule !== "number") {
      if (!held.some((h) => h.startsWith(label))) held.push(`${label} in force`);
      continue;
    }
    const n = instances(state);
    const loops = Math.max(...down.map((s) => s.unknownLoops ?? FALLBACK_AFTER_LOOPS));
    const blocked = loops < FALLBACK_AFTER_LOOPS
      ? `unknown for ${loops} of ${FALLBACK_AFTER_LOOPS} loops before the fallback: hold`
      : n >= rule
      ? `${n} of ${rule} instances in the cluster: hold`
      : startProblem(state, input.node);
    const fallback: Candidate = {
      name: "scaleout",
      weight: blocked === undefined ? 1 : 0,
      targets: [name],
      actions: { [name]: ["start"] },
      reasons: [
        `${label}: ${
          blocked ?? `${n} of ${rule} instances in the cluster: scale out towards ${rule}`
        }`,
      ],
    };
    for (const c of out) if (c.name !== "scaleout" && starts(c, name)) zero(c, c.name);
    const at = out.findIndex((c) => c.name === "scaleout" && c.targets[0] === name);
    if (at >= 0) out[at] = fallback;
    else out = [...out, fallback];
    held.push(fallback.reasons[0]!);
  }
  return { candidates: out, held };
}
