/**
 * Data shapes of the planner: its input (a snapshot of what the node and the cluster know),
 * the candidate plans it weighs and the decision it returns. Plain data, no I/O.
 *
 * @module
 */

import type { PolicyConfig, ServiceDescriptor } from "../../domain/model.ts";

/**
 * A shared value: a number, or `undefined` when it is unknown (no sample yet). Unknown values
 * are skipped by every policy, and they block scale-in (the original read them as 0, which
 * looks idle: docs/compat.md#d15).
 */
export type SharedValue = number | undefined;

/** How a metric source stands this loop. */
export type SourceState = "fresh" | "failing" | "stale" | "missing";

/** One metric source of a service, as this node sees it this loop (the record shows it). */
export interface SourceStatus {
  metric: string;
  state: SourceState;
  /** The value, when fresh. */
  value?: number;
  /** Age of the reading used, ms. */
  ageMs?: number;
  /** The node whose query gave the reading. */
  origin?: string;
  /** Why the metric is unknown (failing, stale or missing). */
  reason?: string;
  /** Whether this node queried it this loop. */
  queried: boolean;
  /** Loops in a row, this one included, in which it was not fresh on this node (absent: fresh). */
  unknownLoops?: number;
}

/** What the planner knows about one service. */
export interface ServiceState {
  /** The service descriptor (cores, memory, cpuset, min/max instances). */
  descriptor: ServiceDescriptor;
  /** Instances of the service on this node. */
  local: { running: number; pending: number };
  /** The service's cluster-wide shared data (merged by the analyzer and gossip). */
  cluster: {
    /** Base metrics (`cpu_avg`, `memory_avg`) by name. */
    base: Record<string, SharedValue>;
    /** Analytics by name. */
    user: Record<string, SharedValue>;
    /** Whether the service runs somewhere in the cluster. */
    active: boolean;
    /**
     * Instances (running + pending) cluster-wide, when the merged view has the service; the
     * scale-in floor (`minInstances`) is checked against it rather than this node's count.
     */
    instances?: number | undefined;
    /** Running instances cluster-wide (the ones the figures are measured on), when known. */
    running?: number | undefined;
    /** Pending (warming-up) instances cluster-wide, when known. */
    pending?: number | undefined;
  };
  /**
   * The service's metric sources this loop (absent without any): a source that is not fresh
   * puts the service under its `onSourceFailure` rule (`fallback.ts`).
   */
  sources?: SourceStatus[] | undefined;
}

/** What the planner knows about this node. */
export interface NodeState {
  totalCpus: number;
  freeCpus: number;
  /** Bytes. */
  totalMemory: number;
  /** Bytes. */
  freeMemory: number;
  /** Services this node keeps at least one instance of. */
  baseServices: string[];
  /**
   * Cores already taken on this node. When given, a service with a fixed `cpusetCpus` cannot
   * scale out if one of its cores is taken (as in the original); when absent that check is
   * skipped.
   */
  usedCores?: readonly number[] | undefined;
}

/** Everything one planner run needs. */
export interface PlannerInput {
  /** Services by name. Candidates are generated in code-unit order of the names. */
  services: Record<string, ServiceState>;
  node: NodeState;
  policy: PolicyConfig;
}

/** Policy names a candidate can carry. */
export type PolicyName = "scaleout" | "scalein" | "swap" | "noaction";

/** An action the executor can perform on a target. */
export type PlanAction = "start" | "stop" | "remove";

/** A candidate plan. */
export interface Candidate {
  name: PolicyName;
  /** In [0, 1]. */
  weight: number;
  /** Service names in execution order (`["noservice"]` for noaction). */
  targets: string[];
  /** Actions per target (empty list for noaction). */
  actions: Record<string, PlanAction[]>;
  /** Why the weight is what it is, e.g. `"cpu_avg 0.9 over threshold 0.75"`, `"no free core"`. */
  reasons: string[];
  /** Target tracking's arithmetic, on candidates of the `target` strategy. */
  track?: Tracking | undefined;
}

/** The knob that held a target-tracking step back (or moved it), if any. */
export type TrackKnob =
  | "tolerance"
  | "stabilization"
  | "maxStep"
  | "bounds"
  | "pending"
  | "unknown";

/** One service's target tracking in one loop: desired = ⌈current × value / target⌉. */
export interface Tracking {
  service: string;
  metric: string;
  /** The metric's cluster-wide value; undefined when unknown. */
  value: number | undefined;
  target: number;
  /** Running instances cluster-wide (the value is measured on them). */
  current: number;
  /** Pending instances cluster-wide (0 % of the target on the way up, 100 % on the way down). */
  pending: number;
  /** What the formula asks, before the knobs. */
  formula: number;
  /** What the knobs and bounds leave. */
  desired: number;
  /** desired − (current + pending): instances to add (> 0) or remove (< 0) cluster-wide. */
  step: number;
  /** The knob that changed the formula's answer, if any. */
  heldBy?: TrackKnob | undefined;
  /** The whole explanation. */
  why: string;
}

/** The outcome of one planner run. */
export interface Decision {
  chosen: Candidate;
  /** Every candidate, in generation order (scaleout, scalein, swap, noaction). */
  candidates: Candidate[];
  /** The strategy used. */
  strategy: string;
  /** The uniform draw the strategy compared against, `undefined` for deterministic ones. */
  draw: number | undefined;
}
