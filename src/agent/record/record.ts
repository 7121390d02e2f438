/**
 * The record phase: one {@link DecisionRecord} per tick, saying what the loop saw, weighed,
 * chose and did, and why; then the record goes to the decision log (API, `show decisions`),
 * self-metrics, the metric sink and the log.
 *
 * @module
 */

import { getLogger } from "@logtape/logtape";
import type { NodeCapacity, ServiceDescriptor } from "../../domain/model.ts";
import type { MetricSink } from "../../ports/metric_sink.ts";
import type { LoopPhase, Telemetry } from "../../ports/telemetry.ts";
import type { AnalyzedService } from "../analyzer/analysis.ts";
import type { Execution } from "../executor/execute.ts";
import { clusterSummary, type MergedView } from "../gossip/merge.ts";
import type { Candidate, Decision } from "../planner/types.ts";
import type { CandidateRecord, DecisionLog, DecisionRecord, ServiceInputs } from "./decisions.ts";
import { measurements } from "./measurements.ts";

const log = getLogger(["gru", "agent", "loop"]);

/** Everything one tick produced, phase by phase. */
export interface TickResult {
  time: number;
  node: string;
  snapshot: { usageSource: string; eventsConnected: boolean };
  capacity: NodeCapacity;
  analysis: Readonly<Record<string, AnalyzedService>>;
  merged: MergedView;
  decision: Decision;
  execution: Execution;
  phasesMs: DecisionRecord["phasesMs"];
}

function candidateRecord(c: Candidate): CandidateRecord {
  return {
    policy: c.name,
    targets: [...c.targets],
    weight: Math.round(c.weight * 1e4) / 1e4,
    reasons: [...c.reasons],
  };
}

/** The decision record of one tick. */
export function buildRecord(seq: number, t: TickResult): DecisionRecord {
  const { chosen, candidates } = t.decision;
  const services: Record<string, ServiceInputs> = {};
  for (const [name, a] of Object.entries(t.analysis)) {
    const c = t.merged.cluster[name];
    services[name] = c ? { ...a, cluster: clusterSummary(c) } : { ...a };
  }
  const others = candidates.filter((c) => c !== chosen && c.weight > 0);
  const { outcome, why } = t.execution;
  const notChosen = others.map((c) => `${c.name} ${c.targets.join("→")} ${c.weight.toFixed(2)}`);
  return {
    seq,
    time: t.time,
    node: t.node,
    strategy: t.decision.strategy,
    draw: t.decision.draw,
    inputs: {
      services,
      node: t.capacity,
      usageSource: t.snapshot.usageSource,
      eventsConnected: t.snapshot.eventsConnected,
    },
    candidates: candidates.map(candidateRecord),
    chosen: candidateRecord(chosen),
    outcome,
    why: others.length && outcome !== "none" ? `${why}; not chosen: ${notChosen.join(", ")}` : why,
    actions: t.execution.actions,
    phasesMs: t.phasesMs,
  };
}

/** Where records go. */
export interface RecorderOptions {
  decisions: DecisionLog;
  telemetry: Telemetry;
  sink?: MetricSink | undefined;
  /** The node's uuid (tag of the `node` measurement). */
  uuid: string;
}

/** Builds, keeps and reports the record of each tick. */
export class Recorder {
  #options: RecorderOptions;

  constructor(options: RecorderOptions) {
    this.#options = options;
  }

  /** Records one tick; `keep` is how many records the log keeps. */
  record(
    t: TickResult,
    settings: { keep: number; services: ReadonlyMap<string, ServiceDescriptor> },
  ): DecisionRecord {
    const record = buildRecord(this.#options.decisions.nextSeq(), t);
    this.#options.decisions.resize(settings.keep);
    this.#options.decisions.add(record);
    const tel = this.#options.telemetry;
    let total = 0;
    for (const [phase, ms] of Object.entries(record.phasesMs)) {
      tel.loopPhase(phase as LoopPhase, ms);
      total += ms;
    }
    tel.loopPhase("total", total);
    tel.decision(record.chosen.policy, record.outcome);
    for (const act of record.actions) tel.action(act.action, act.ok ? "ok" : "failed");
    this.#options.sink?.write(
      measurements(record, { uuid: this.#options.uuid, services: settings.services }),
    );
    const loud = record.outcome === "executed" || record.outcome === "failed" ||
      record.actions.length > 0;
    log[loud ? "info" : "debug"]("Decision {seq}: {policy} {targets} → {outcome}: {why}", {
      seq: record.seq,
      policy: record.chosen.policy,
      targets: record.chosen.targets.join(","),
      outcome: record.outcome,
      why: record.why,
      weight: t.decision.chosen.weight,
      draw: t.decision.draw,
      actions: record.actions,
    });
    return record;
  }
}
