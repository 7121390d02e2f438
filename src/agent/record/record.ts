/**
 * The record phase: one {@link DecisionRecord} per tick, saying what the loop saw, weighed,
 * chose and did, and why; then the record goes to the decision log (API, `show decisions`),
 * self-metrics, the metric sink and the log.
 *
 * @module
 */

import { getLogger } from "@logtape/logtape";
import { clamp01 } from "../../domain/math.ts";
import type { NodeCapacity, ServiceDescriptor } from "../../domain/model.ts";
import type { MetricSink } from "../../ports/metric_sink.ts";
import type { LoopPhase, Telemetry } from "../../ports/telemetry.ts";
import type { AnalyzedService } from "../analyzer/analysis.ts";
import type { Execution } from "../executor/execute.ts";
import { clusterSummary, type MergedView } from "../gossip/merge.ts";
import type { Candidate, Decision } from "../planner/types.ts";
import type {
  CandidateRecord,
  DecisionLog,
  DecisionRecord,
  InstanceFigures,
  ServiceInputs,
} from "./decisions.ts";
import { measurements } from "./measurements.ts";
import type { ServiceHistory } from "./history.ts";

const log = getLogger(["gru", "agent", "loop"]);

/** Everything one tick produced, phase by phase. */
export interface TickResult {
  time: number;
  node: string;
  snapshot: {
    usageSource: string;
    eventsConnected: boolean;
    /** The instances as the monitor saw them (for the last tick's per-instance figures). */
    instances?: readonly InstanceSeen[];
  };
  capacity: NodeCapacity;
  analysis: Readonly<Record<string, AnalyzedService>>;
  merged: MergedView;
  decision: Decision;
  execution: Execution;
  phasesMs: DecisionRecord["phasesMs"];
  shadows?: DecisionRecord["shadows"];
  schedules?: DecisionRecord["schedules"];
  trigger?: DecisionRecord["trigger"];
  fastPathHeld?: DecisionRecord["fastPathHeld"];
}

/** What the per-instance figures read of a monitor snapshot's instance. */
export interface InstanceSeen {
  id: string;
  service: string;
  phase: "pending" | "running" | "stopped" | "paused";
  cpuCores: number | undefined;
  memoryBytes: number | undefined;
  /** Its memory limit in bytes (0: none). */
  memory: number;
}

/**
 * Each instance's figures, as `analyzeService` computes a service's from them: cores used ÷ the
 * cores the service gives it (at least 1), memory in use ÷ its limit (else the node's memory),
 * both clamped to [0, 1]; unknown for an instance that is not running or has no data.
 */
export function instanceFigures(
  instances: readonly InstanceSeen[],
  services: ReadonlyMap<string, ServiceDescriptor>,
  node: NodeCapacity,
): Record<string, InstanceFigures> {
  const out: Record<string, InstanceFigures> = {};
  for (const i of instances) {
    const running = i.phase === "running";
    const cores = Math.max(1, services.get(i.service)?.configuration.cpuNumber ?? 1);
    const limit = i.memory > 0 ? i.memory : node.totalMemory;
    const cpu = running && i.cpuCores !== undefined && Number.isFinite(i.cpuCores)
      ? clamp01(Math.max(0, i.cpuCores) / cores)
      : undefined;
    const mem = running && i.memoryBytes !== undefined && limit > 0
      ? clamp01(i.memoryBytes / limit)
      : undefined;
    out[i.id] = { service: i.service, cpu_avg: cpu, memory_avg: mem };
  }
  return out;
}

function candidateRecord(c: Candidate): CandidateRecord {
  return {
    policy: c.name,
    targets: [...c.targets],
    weight: Math.round(c.weight * 1e4) / 1e4,
    reasons: [...c.reasons],
    ...(c.track ? { track: { ...c.track } } : {}),
  };
}

/** The outcome's summary, with what a metric source's failure rule held (`fallback.ts`). */
function withHeld(why: string, candidates: readonly Candidate[]): string {
  const idle = candidates.find((c) => c.name === "noaction");
  const held = (idle?.reasons ?? []).filter((r) => r.startsWith("source rule "));
  return held.length === 0 ? why : `${why}; ${held.join("; ")}`;
}

/** The decision record of one tick. */
export function buildRecord(seq: number, t: TickResult): DecisionRecord {
  const { chosen, candidates } = t.decision;
  const services: Record<string, ServiceInputs> = {};
  for (const [name, a] of Object.entries(t.analysis)) {
    const c = t.merged.cluster[name];
    services[name] = c ? { ...a, cluster: clusterSummary(c) } : { ...a };
    const sources = t.merged.planner[name]?.sources;
    if (sources) services[name].sources = sources;
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
    why: withHeld(
      others.length && outcome !== "none" ? `${why}; not chosen: ${notChosen.join(", ")}` : why,
      candidates,
    ),
    actions: t.execution.actions,
    phasesMs: t.phasesMs,
    ...(t.shadows?.length ? { shadows: t.shadows } : {}),
    ...(t.schedules && Object.keys(t.schedules).length ? { schedules: t.schedules } : {}),
    ...(t.trigger ? { trigger: t.trigger } : {}),
    ...(t.fastPathHeld?.length ? { fastPathHeld: t.fastPathHeld } : {}),
  };
}

/** Where records go. */
export interface RecorderOptions {
  decisions: DecisionLog;
  telemetry: Telemetry;
  sink?: MetricSink | undefined;
  /** The node's uuid (tag of the `node` measurement). */
  uuid: string;
  /** The bounded history the console's charts read (`GET /gru/v1/history`). */
  history?: ServiceHistory | undefined;
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
    this.#options.decisions.keepLast({
      time: record.time,
      services: record.inputs.services,
      node: record.inputs.node,
      instances: instanceFigures(t.snapshot.instances ?? [], settings.services, t.capacity),
    });
    const tel = this.#options.telemetry;
    let total = 0;
    for (const [phase, ms] of Object.entries(record.phasesMs)) {
      tel.loopPhase(phase as LoopPhase, ms);
      total += ms;
    }
    tel.loopPhase("total", total);
    tel.decision(record.chosen.policy, record.outcome);
    for (const s of record.shadows ?? []) tel.shadowDecision?.(s.strategy, s.policy, s.agrees);
    for (const act of record.actions) tel.action(act.action, act.ok ? "ok" : "failed");
    this.#options.sink?.write(
      measurements(record, { uuid: this.#options.uuid, services: settings.services }),
    );
    const sink = this.#options.sink;
    this.#options.history?.add(record, sink && { kind: sink.kind, ...sink.stats() });
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
