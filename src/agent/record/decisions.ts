/**
 * Decision records: every loop iteration's inputs (with their age), each candidate's weight and
 * reasons, the strategy's draw, the chosen action, what was executed, and why anything was not.
 * The last N are kept for the API (`GET /gru/v1/decisions`) and `show decisions`.
 *
 * @module
 */

import type { NodeCapacity } from "../../domain/model.ts";
import type { AnalyzedService } from "../analyzer/analysis.ts";
import type { ClusterSummary } from "../gossip/merge.ts";

/** What the planner saw of one service: this node's analysis, and the cluster's picture. */
export interface ServiceInputs extends AnalyzedService {
  /** The service across the cluster (gossiped view, this node included). */
  cluster?: ClusterSummary | undefined;
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
}

/** A bounded list of the latest decisions. */
export class DecisionLog {
  #items: DecisionRecord[] = [];
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

  /** The newest `limit` records, newest last. */
  list(limit = this.#capacity): DecisionRecord[] {
    return this.#items.slice(-Math.max(1, limit));
  }

  /** How many records are kept. */
  get size(): number {
    return this.#items.length;
  }
}
