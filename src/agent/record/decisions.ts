/**
 * Decision records: every loop iteration's inputs (with their age), each candidate's weight and
 * reasons, the strategy's draw, the chosen action, what was executed, and why anything was not.
 * The last N are kept for the API (`GET /gru/v1/decisions`) and `show decisions`, and the last
 * tick's figures ({@link LastTick}) for the original's read routes (`GET /gru/v1/stats`,
 * `/analytics`, `/shared`).
 *
 * @module
 */

import type { NodeCapacity } from "../../domain/model.ts";
import type { AnalyzedService } from "../analyzer/analysis.ts";
import type { ClusterSummary } from "../gossip/merge.ts";
import type { SourceStatus } from "../planner/fallback.ts";
import type { ScheduleInForce } from "../planner/schedules.ts";
import type { ShadowRecord } from "../planner/shadow.ts";
import type { Tracking } from "../planner/types.ts";

/** What the planner saw of one service: this node's analysis, and the cluster's picture. */
export interface ServiceInputs extends AnalyzedService {
  /** The service across the cluster (gossiped view, this node included). */
  cluster?: ClusterSummary | undefined;
  /**
   * Its metric sources this loop (value, age, which node queried, why unknown); absent without
   * any. A source that is not fresh puts the service under its `OnSourceFailure` rule.
   */
  sources?: SourceStatus[] | undefined;
}

/** One container action taken (or attempted) in a loop. */
export interface ActionRecord {
  service: string;
  action: "start" | "stop";
  ok: boolean;
  /** Container name. */
  instance?: string | undefined;
  error?: string | undefined;
  /** Why: the chosen policy, or `base service`. */
  why: string;
}

/** One candidate as recorded. */
export interface CandidateRecord {
  policy: string;
  targets: string[];
  weight: number;
  reasons: string[];
  /** Target tracking: desired, current, value, target and the knob that held it. */
  track?: Tracking | undefined;
}

/** How the chosen action ended. */
export type DecisionOutcome = "executed" | "dry-run" | "blocked" | "failed" | "none";

/** One loop iteration. */
export interface DecisionRecord {
  seq: number;
  /** Milliseconds since the epoch. */
  time: number;
  node: string;
  strategy: string;
  /** The strategy's uniform draw (undefined for deterministic strategies). */
  draw: number | undefined;
  inputs: {
    services: Record<string, ServiceInputs>;
    node: NodeCapacity;
    usageSource: string;
    eventsConnected: boolean;
  };
  candidates: CandidateRecord[];
  chosen: CandidateRecord;
  outcome: DecisionOutcome;
  /** Human summary of why the outcome is what it is. */
  why: string;
  actions: ActionRecord[];
  /** Duration of each phase, ms. */
  phasesMs: { monitor: number; analyze: number; plan: number; execute: number };
  /** What each shadow strategy would have done on the same inputs (none acted). */
  shadows?: ShadowRecord[] | undefined;
  /** Services with a schedule in force: its names and the bounds in force. */
  schedules?: Record<string, ScheduleInForce & { min: number; max: number }> | undefined;
  /**
   * Why the loop ran: `fast-path` when the short window crossed a scale-out threshold by the
   * margin between two ticks (then only scale-out is planned), with what crossed.
   */
  trigger?: { kind: "fast-path"; why: string } | undefined;
  /**
   * Fast-path crossings since the previous record that did not run a fast tick because the
   * service had crossed too recently (not out of `FastPath.Calm`): the regular tick decided.
   */
  fastPathHeld?: string[] | undefined;
}

/** One instance's figures at a tick; unknown stays undefined. */
export interface InstanceFigures {
  service: string;
  /** CPU use over the window, in [0, 1] of the cores it is given (as a service's `cpu_avg`). */
  cpu_avg: number | undefined;
  /** Memory in use over its limit (or the node's memory), in [0, 1]. */
  memory_avg: number | undefined;
}

/** What the last tick measured and analyzed (shared with its record, never copied). */
export interface LastTick {
  /** Milliseconds since the epoch. */
  time: number;
  /** This node's analysis of every service in force (the record's inputs). */
  services: Record<string, ServiceInputs>;
  node: NodeCapacity;
  /** Every instance this node tracked, by container id. */
  instances: Record<string, InstanceFigures>;
}

/** A bounded list of the latest decisions, and the last tick's figures. */
export class DecisionLog {
  #items: DecisionRecord[] = [];
  #last: LastTick | undefined;
  #capacity: number;
  #seq = 0;

  constructor(capacity: number) {
    this.#capacity = Math.max(1, capacity);
  }

  /** Changes how many are kept. */
  resize(capacity: number): void {
    this.#capacity = Math.max(1, capacity);
    this.#items.splice(0, Math.max(0, this.#items.length - this.#capacity));
  }

  /** The next sequence number. */
  nextSeq(): number {
    return ++this.#seq;
  }

  /** Adds a record, dropping the oldest beyond capacity. */
  add(record: DecisionRecord): void {
    this.#items.push(record);
    this.#items.splice(0, Math.max(0, this.#items.length - this.#capacity));
  }

  /** Keeps the figures of the tick just recorded (replacing the previous ones). */
  keepLast(figures: LastTick): void {
    this.#last = figures;
  }

  /** The last tick's figures, or undefined before the first tick. */
  get last(): LastTick | undefined {
    return this.#last;
  }

  /** The newest `limit` records, newest last. */
  list(limit = this.#capacity): DecisionRecord[] {
    return this.#items.slice(-Math.max(1, limit));
  }

  /** How many records are kept. */
  get size(): number {
    return this.#items.length;
  }
}
