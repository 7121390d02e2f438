/**
 * Per-service analysis of one loop: base metrics (`cpu_avg`, `memory_avg`, `cpu_cores`) from the
 * instances' window rates and means, and user analytics from the service's user metrics and
 * constraints. Pure: no I/O, no clock. Its output fills the planner's
 * `ServiceState.cluster.base` / `user` (after merging with the cluster).
 *
 * Fixes of the original (docs/compat.md#d12, #d13, #d15, #d16):
 * - an instance's CPU is the cores it used over the whole window (idle time counts) divided by
 *   the cores it is given (`cpuNumber`, at least 1), so an instance pinned to 2 cores using both
 *   fully reads 1.0, not "saturated at 1 core";
 * - memory is measured (used bytes over the limit, or over the node's memory without a limit);
 * - an instance without data is left out of the means instead of counting as 0, and a service
 *   whose running instances have no data reads `undefined` (unknown), as does an analytic
 *   reading a metric without samples in the window;
 * - an analytic that fails to evaluate reads `undefined` with a reason, never 0.
 *
 * @module
 */

import { clamp01, mean } from "../../domain/math.ts";
import type { InstanceStatus, ServiceDescriptor } from "../../domain/model.ts";
import type { CompiledAnalytics, Scope } from "./expressions.ts";

/** What the monitor measured of one instance over the window. */
export interface InstanceMetrics {
  id: string;
  status: InstanceStatus;
  /** Cores used over the window (CPU-time counter rate in ns/s ÷ 1e9), `undefined` if unknown. */
  cpuCores: number | undefined;
  /** Mean memory in use over the window, in bytes, `undefined` if unknown. */
  memoryBytes: number | undefined;
  /** The instance's memory limit in bytes (0 = none: the node's memory is the limit). */
  memoryLimit: number;
}

/** Input of {@link analyzeService}. */
export interface AnalyzeInput {
  service: ServiceDescriptor;
  /** The service's instances on this node. Only running ones count. */
  instances: readonly InstanceMetrics[];
  /** The service's user metrics: window means by name, `undefined` when no sample. */
  userMetrics: Scope;
  /** The cluster's analytics, compiled. */
  compiled: CompiledAnalytics;
  /** Cores of the node; an instance's core rate is capped at it when it is > 0. */
  totalCpus: number;
  /** Memory of the node in bytes: the limit of instances without one. */
  totalMemory: number;
}

/** Base metrics of a service; `undefined` is unknown. */
export interface BaseMetrics {
  /** Mean CPU utilisation of running instances with data, in [0, 1]. */
  cpu_avg: number | undefined;
  /** Mean memory utilisation of running instances with data, in [0, 1]. */
  memory_avg: number | undefined;
  /** Cores used by the running instances with data, summed. */
  cpu_cores: number | undefined;
}

/** Output of {@link analyzeService}. */
export interface ServiceAnalysis {
  base: BaseMetrics;
  /** Analytics by name (those listed by the service and defined), in [0, 1] or unknown. */
  user: Record<string, number | undefined>;
  /** The user metrics the analysis read (window means), for reports. */
  metrics: Record<string, number | undefined>;
  /** Why some values are unknown or partial, for the log. */
  reasons: string[];
}

function known(x: number | undefined): x is number {
  return x !== undefined && Number.isFinite(x);
}

/**
 * Analyses one service for one loop.
 *
 * - `cpu_avg` = mean over running instances with CPU data of clamp(cores / max(1, cpuNumber));
 * - `cpu_cores` = sum of those instances' cores;
 * - `memory_avg` = mean over running instances with memory data of
 *   clamp(bytes / (limit > 0 ? limit : totalMemory));
 * - each analytic the service lists is evaluated with the analytic's metrics taken from
 *   `userMetrics` and its constraints from `service.constraints` (a name declared as both reads
 *   the metric when it is known, the constraint otherwise); unknown analytic names are reported
 *   and skipped.
 *
 * @param input The service, its instances' measurements and its user metrics.
 * @returns Base metrics, analytics and the reasons for unknown values.
 */
export function analyzeService(input: AnalyzeInput): ServiceAnalysis {
  const { service, compiled } = input;
  const reasons: string[] = [];
  const running = input.instances.filter((i) => i.status === "running");
  const cores = Math.max(1, service.configuration.cpuNumber);

  const cpuUtil: number[] = [];
  let cpuCores = 0;
  let cpuMissing = 0;
  const memUtil: number[] = [];
  let memMissing = 0;
  for (const instance of running) {
    if (known(instance.cpuCores)) {
      let used = Math.max(0, instance.cpuCores);
      if (input.totalCpus > 0) used = Math.min(used, input.totalCpus);
      cpuUtil.push(clamp01(used / cores));
      cpuCores += used;
    } else {
      cpuMissing++;
    }
    const limit = instance.memoryLimit > 0 ? instance.memoryLimit : input.totalMemory;
    if (known(instance.memoryBytes) && limit > 0) {
      memUtil.push(clamp01(instance.memoryBytes / limit));
    } else {
      memMissing++;
    }
  }
  if (running.length === 0) {
    reasons.push("no running instance: cpu_avg and memory_avg unknown");
  } else {
    if (cpuMissing > 0) {
      reasons.push(
        cpuUtil.length === 0
          ? "no CPU data for any running instance: cpu_avg unknown"
          : `${cpuMissing} of ${running.length} running instances without CPU data`,
      );
    }
    if (memMissing > 0) {
      reasons.push(
        memUtil.length === 0
          ? "no memory data for any running instance: memory_avg unknown"
          : `${memMissing} of ${running.length} running instances without memory data`,
      );
    }
  }
  const base: BaseMetrics = {
    cpu_avg: mean(cpuUtil),
    memory_avg: mean(memUtil),
    cpu_cores: cpuUtil.length === 0 ? undefined : cpuCores,
  };

  const metrics: Record<string, number | undefined> = {};
  for (const [name, value] of Object.entries(input.userMetrics)) metrics[name] = value;

  const user: Record<string, number | undefined> = {};
  for (const name of service.analytics) {
    const analytic = compiled.analytic(name);
    if (analytic === undefined) {
      reasons.push(`unknown analytic ${name}: skipped`);
      continue;
    }
    const scope: Record<string, number | undefined> = {};
    for (const c of analytic.constraints) {
      if (Object.hasOwn(service.constraints, c)) scope[c] = service.constraints[c];
    }
    for (const m of analytic.metrics) {
      const value = Object.hasOwn(input.userMetrics, m) ? input.userMetrics[m] : undefined;
      if (value !== undefined) scope[m] = value;
    }
    const result = compiled.evaluate(name, scope);
    user[name] = result.value;
    if (result.reason !== undefined) reasons.push(`analytic ${name}: ${result.reason}`);
  }

  return { base, user, metrics, reasons };
}
