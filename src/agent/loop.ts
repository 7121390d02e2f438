/**
 * The autonomic loop: every `Autonomic.LoopTimeInterval` seconds while the agent is active it
 * runs one MAPE cycle (see docs/architecture.md):
 *
 * monitor → analyze → cluster merge → plan → execute → record
 *
 * Each phase is a module of its own; this file only sequences them and owns timing. Ticks never
 * overlap: a slow one delays the next instead of running beside it, and a failing one is logged.
 *
 * @module
 */

import { getLogger } from "@logtape/logtape";
import type { Clock } from "../domain/clock.ts";
import { errorMessage } from "../domain/errors.ts";
import type {
  AgentConfig,
  Analytic,
  NodeCapacity,
  NodeConstraints,
  PolicyConfig,
  ServiceDescriptor,
} from "../domain/model.ts";
import type { Prng } from "../domain/random.ts";
import type { Telemetry } from "../ports/telemetry.ts";
import { AnalyticsCache, analyzeServices } from "./analyzer/analysis.ts";
import type { Executor } from "./executor/execute.ts";
import type { ClusterContext } from "./gossip/cluster_context.ts";
import { mergeCluster } from "./gossip/merge.ts";
import type { MonitorSnapshot } from "./monitor/monitor.ts";
import { plan } from "./planner/plan.ts";
import type { DecisionRecord } from "./record/decisions.ts";
import type { Recorder } from "./record/record.ts";

const log = getLogger(["gru", "agent", "loop"]);

/** What the loop reads from the agent on every tick (so reloads apply at once). */
export interface LoopState {
  node: string;
  config: AgentConfig;
  policy: PolicyConfig;
  services: ReadonlyMap<string, ServiceDescriptor>;
  analytics: ReadonlyMap<string, Analytic>;
  constraints: NodeConstraints;
  /** The agent's `--dry-run` flag. */
  dryRun: boolean;
}

/** What the loop needs of the monitor. */
export interface LoopMonitor {
  /** Lists the containers again (in case an event was missed). */
  refresh(): Promise<void>;
  snapshot(): MonitorSnapshot;
}

/** Options of `AutonomicLoop`. */
export interface LoopOptions {
  state: () => LoopState;
  monitor: LoopMonitor;
  /** This node's cores and memory, and what is free of them. */
  capacity: () => NodeCapacity;
  /** Cores reserved on this node (for pinned services). */
  usedCores: () => number[];
  cluster: ClusterContext;
  executor: Executor;
  recorder: Recorder;
  telemetry: Telemetry;
  clock: Clock;
  prng: Prng;
}

/** The loop. */
export class AutonomicLoop {
  #options: LoopOptions;
  #analytics = new AnalyticsCache();
  #abort: AbortController | undefined;
  #task: Promise<void> | undefined;
  #died: string | undefined;

  constructor(options: LoopOptions) {
    this.#options = options;
  }

  /**
   * Whether the loop runs: started and not asked to stop since. A loop that is stopping (its
   * last tick still finishing) no longer counts as running, nor does one that died.
   */
  get running(): boolean {
    return this.#task !== undefined && this.#abort?.signal.aborted === false;
  }

  /** Why the loop ended without being asked to, or undefined (cleared by the next start). */
  get died(): string | undefined {
    return this.#died;
  }

  /**
   * Starts ticking (the first tick comes at once). Idempotent. Called while a stop is still
   * waiting for its last tick, the new run begins once that tick is over: ticks never overlap,
   * and the later call wins.
   */
  start(): void {
    if (this.running) return;
    const previous = this.#task;
    const abort = new AbortController();
    this.#abort = abort;
    this.#died = undefined;
    this.#task = (async () => {
      await previous?.catch(() => {});
      try {
        await this.#run(abort.signal);
        if (!abort.signal.aborted) this.#died = "the loop ended on its own";
      } catch (err) {
        this.#died = errorMessage(err);
        log.error("The autonomic loop died: {error}", { error: this.#died });
      } finally {
        if (this.#abort === abort) this.#task = undefined;
      }
    })();
  }

  /**
   * Stops ticking and waits for the current tick. Idempotent. A `start` made meanwhile wins:
   * its run is left alone.
   */
  async stop(): Promise<void> {
    const task = this.#task;
    this.#abort?.abort(new Error("stopped"));
    await task?.catch(() => {});
  }

  /** Runs one MAPE cycle and returns its record. */
  async tick(): Promise<DecisionRecord> {
    const { clock, prng } = this.#options;
    const state = this.#options.state();
    const marks = [clock.now()];
    const lap = () => (marks.push(clock.now()), marks.at(-1)! - marks.at(-2)!);

    const snapshot = await this.#monitor();
    const monitor = lap();

    const compiled = await this.#analytics.get(state.analytics, state.services);
    const capacity = this.#options.capacity();
    const analysis = analyzeServices({
      ...snapshot,
      services: state.services,
      compiled,
      node: capacity,
    });
    const merged = mergeCluster({
      analysis,
      services: state.services,
      node: capacity,
      context: this.#options.cluster,
      now: clock.now(),
      baseServices: state.constraints.baseServices,
    });
    const analyze = lap();

    const baseServices = state.constraints.baseServices;
    const usedCores = this.#options.usedCores();
    const decision = plan(
      {
        services: merged.planner,
        node: { ...capacity, baseServices, usedCores },
        policy: state.policy,
      },
      { strategy: state.config.autonomic.plannerStrategy, prng },
    );
    const planMs = lap();

    const execution = await this.#options.executor.execute({
      decision,
      merged,
      self: state.node,
      services: state.services,
      policy: state.policy,
      autonomic: state.config.autonomic,
      baseServices,
      dryRun: state.dryRun,
    });
    const execute = lap();

    return this.#options.recorder.record({
      time: marks[0]!,
      node: state.node,
      snapshot,
      capacity,
      analysis,
      merged,
      decision,
      execution,
      phasesMs: { monitor, analyze, plan: planMs, execute },
    }, { keep: state.config.autonomic.decisionHistory, services: state.services });
  }

  /** The monitor's snapshot after a fresh listing; a failed listing is counted, not fatal. */
  async #monitor(): Promise<MonitorSnapshot> {
    await this.#options.monitor.refresh().catch((err) => {
      this.#options.telemetry.dependencyError("docker");
      log.warn("Cannot list containers: {error}", { error: errorMessage(err) });
    });
    return this.#options.monitor.snapshot();
  }

  async #run(signal: AbortSignal): Promise<void> {
    const clock = this.#options.clock;
    while (!signal.aborted) {
      const started = clock.monotonic();
      let interval = 1000;
      try {
        await this.tick();
      } catch (err) {
        log.error("Loop iteration failed: {error}", { error: errorMessage(err) });
      }
      try {
        interval = this.#options.state().config.autonomic.loopTimeInterval * 1000;
      } catch (err) {
        log.error("Cannot read the loop interval: {error}", { error: errorMessage(err) });
      }
      const wait = Math.max(0, interval - (clock.monotonic() - started));
      try {
        await clock.sleep(wait, signal);
      } catch {
        if (signal.aborted) return;
      }
    }
  }
}
