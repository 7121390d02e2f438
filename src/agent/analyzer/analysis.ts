/**
 * The analyze phase: from the monitor's snapshot, one {@link AnalyzedService} per service in
 * force. That one record feeds the planner, the gossip share and the decision record, so the
 * three never disagree. Pure; the compiled analytics come from {@link AnalyticsCache}.
 *
 * @module
 */

import type { Analytic, NodeCapacity, ServiceDescriptor } from "../../domain/model.ts";
import { analyzeService } from "./analyze.ts";
import { compileAnalytics, type CompiledAnalytics } from "./expressions.ts";

/** One instance as the monitor last saw it (the fields the analysis reads). */
export interface InstanceSample {
  id: string;
  service: string;
  /** `pending` during warm-up: it never counts in the figures. */
  phase: "pending" | "running" | "stopped" | "paused";
  /** Cores used over the window; undefined when unknown. */
  cpuCores: number | undefined;
  /** Bytes in use over the window; undefined when unknown. */
  memoryBytes: number | undefined;
  /** The instance's memory limit in bytes (0: none). */
  memory: number;
  /** Age of the newest usage sample, ms. */
  sampleAgeMs: number | undefined;
}

/** What the analyze phase reads. */
export interface AnalysisInput {
  services: ReadonlyMap<string, ServiceDescriptor>;
  instances: readonly InstanceSample[];
  /** Service → metric → window mean (undefined when no value in the window). */
  userMetrics: Readonly<Record<string, Readonly<Record<string, number | undefined>>>>;
  compiled: CompiledAnalytics;
  node: NodeCapacity;
}

/** What this node knows of one service after the analyze phase. Unknown stays undefined. */
export interface AnalyzedService {
  running: number;
  pending: number;
  stopped: number;
  paused: number;
  /** Mean CPU use of the running instances with data, in [0, 1]. */
  cpu_avg: number | undefined;
  /** Mean memory use of the running instances with data, in [0, 1]. */
  memory_avg: number | undefined;
  /** Cores used by running instances. */
  cpu_cores: number | undefined;
  /** Analytics by name. */
  analytics: Record<string, number | undefined>;
  /** User metrics (window means) by name. */
  metrics: Record<string, number | undefined>;
  /** Age of the oldest instance sample behind the figures, ms. */
  dataAgeMs: number | undefined;
  /** Why a figure is unknown. */
  notes: string[];
}

/** Analyzes every service in force, in the order of the services map. */
export function analyzeServices(input: AnalysisInput): Record<string, AnalyzedService> {
  const out: Record<string, AnalyzedService> = {};
  const byService = new Map<string, InstanceSample[]>();
  for (const i of input.instances) {
    const list = byService.get(i.service);
    if (list) list.push(i);
    else byService.set(i.service, [i]);
  }
  for (const [name, descriptor] of input.services) {
    const mine = byService.get(name) ?? [];
    const count = (phase: InstanceSample["phase"]) => mine.filter((i) => i.phase === phase).length;
    const figures = analyzeService({
      service: descriptor,
      instances: mine.map((i) => ({
        id: i.id,
        status: i.phase,
        cpuCores: i.cpuCores,
        memoryBytes: i.memoryBytes,
        memoryLimit: i.memory,
      })),
      userMetrics: input.userMetrics[name] ?? {},
      compiled: input.compiled,
      totalCpus: input.node.totalCpus,
      totalMemory: input.node.totalMemory,
    });
    const ages = mine.filter((i) => i.phase === "running")
      .map((i) => i.sampleAgeMs)
      .filter((x): x is number => x !== undefined);
    out[name] = {
      running: count("running"),
      pending: count("pending"),
      stopped: count("stopped"),
      paused: count("paused"),
      cpu_avg: figures.base.cpu_avg,
      memory_avg: figures.base.memory_avg,
      cpu_cores: figures.base.cpu_cores,
      analytics: figures.user,
      metrics: figures.metrics,
      dataAgeMs: ages.length ? Math.max(...ages) : undefined,
      notes: figures.reasons,
    };
  }
  return out;
}

/** The analytics some service uses, compiled once per change of the documents in force. */
export class AnalyticsCache {
  #source: ReadonlyMap<string, Analytic> | undefined;
  #services: ReadonlyMap<string, ServiceDescriptor> | undefined;
  #value: CompiledAnalytics | undefined;

  /** The compiled analytics for these documents (the same object while neither map changes). */
  async get(
    analytics: ReadonlyMap<string, Analytic>,
    services: ReadonlyMap<string, ServiceDescriptor>,
  ): Promise<CompiledAnalytics> {
    if (this.#value && this.#source === analytics && this.#services === services) {
      return this.#value;
    }
    const used = new Set([...services.values()].flatMap((s) => s.analytics));
    this.#value = await compileAnalytics([...analytics.values()].filter((a) => used.has(a.name)));
    this.#source = analytics;
    this.#services = services;
    return this.#value;
  }
}
