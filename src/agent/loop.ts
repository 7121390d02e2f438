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
import {
  type ExternalMetrics,
  peerStates,
  type SourcesView,
  withSourceValues,
} from "./monitor/external_metrics.ts";
import {
  CalmGate,
  fastCrossings,
  fastPathSettings,
  type FastTrigger,
  heldText,
  triggerText,
} from "./fast_path.ts";
import { PlanStep } from "./plan_step.ts";
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
  /** Lists again only when the view may be stale (monitor.ts `resync`); optional. */
  resync?(): Promise<void>;
  /** The current view; `windowMs` replaces the usage window (fast path). */
  snapshot(options?: { windowMs?: number }): MonitorSnapshot;
  /** Takes a usage sample now (the fast path samples at its own pace); optional. */
  sample?(): Promise<void>;
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
  /** The services' metric sources (Prometheus-compatible servers); absent: none are read. */
  sources?: ExternalMetrics | undefined;
}

/** The loop. */
export class AutonomicLoop {
  #options: LoopOptions;
  #analytics = new AnalyticsCache();
  /** Schedules, the strategy and its shadows (keeps target tracking's history). */
  #plan = new PlanStep();
  /** The fast path's calm rule, and the crossings it held since the last record. */
  #calm = new CalmGate();
  #held: string[] = [];
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

  /**
   * Runs one MAPE cycle and returns its record. A fast-path tick (`fast`) plans on the short
   * window and may only scale out (fast_path.ts).
   */
  async tick(fast?: FastTrigger): Promise<DecisionRecord> {
    const { clock, prng } = this.#options;
    const state = this.#options.state();
    const marks = [clock.now()];
    const lap = () => (marks.push(clock.now()), marks.at(-1)! - marks.at(-2)!);

    const fastWindow = fastPathSettings(state.config.autonomic).window;
    const snapshot = await this.#monitor(fast ? fastWindow * 1000 : undefined);
    const sources = await this.#sources(state, snapshot, fast !== undefined);
    const monitor = lap();

    const compiled = await this.#analytics.get(state.analytics, state.services);
    const capacity = this.#options.capacity();
    const analysis = analyzeServices({
      ...snapshot,
      userMetrics: withSourceValues(snapshot.userMetrics, sources),
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
      sources,
    });
    const analyze = lap();

    const baseServices = state.constraints.baseServices;
    const usedCores = this.#options.usedCores();
    const step = this.#plan.run({
      state,
      merged,
      node: { ...capacity, baseServices, usedCores },
      prng,
      now: clock.now(),
      monotonic: clock.monotonic(),
      fast: fast !== undefined,
    });
    const decision = step.decision;
    const planMs = lap();

    const execution = await this.#options.executor.execute({
      decision,
      merged,
      self: state.node,
      services: step.services,
      documents: state.services,
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
      shadows: step.shadows,
      schedules: step.schedules,
      ...(fast ? { trigger: { kind: "fast-path", why: triggerText(fast, fastWindow) } } : {}),
      ...(this.#held.length > 0 ? { fastPathHeld: this.#held.splice(0) } : {}),
    }, { keep: state.config.autonomic.decisionHistory, services: state.services });
  }

  /** The monitor's snapshot after a fresh listing; a failed listing is counted, not fatal. */
  async #monitor(windowMs?: number): Promise<MonitorSnapshot> {
    const monitor = this.#options.monitor;
    await (monitor.resync ? monitor.resync() : monitor.refresh()).catch((err) => {
      this.#options.telemetry.dependencyError("docker");
      log.warn("Cannot list containers: {error}", { error: errorMessage(err) });
    });
    return this.#options.monitor.snapshot(windowMs === undefined ? {} : { windowMs });
  }

  /**
   * Reads the metric sources this node should read, and judges all of them. A fast-path tick
   * queries nothing: it uses the readings held (the servers see one query per loop).
   */
  async #sources(
    state: LoopState,
    snapshot: MonitorSnapshot,
    readOnly: boolean,
  ): Promise<SourcesView | undefined> {
    const sources = this.#options.sources;
    if (!sources) return undefined;
    const peers = this.#options.cluster.peerShares?.(this.#options.clock.now()) ?? [];
    return await sources.collect({
      self: state.node,
      services: state.services,
      peers: peerStates(peers),
      readOnly,
      members: this.#options.cluster.liveMembers?.(),
      instanceNames: (service) =>
        snapshot.instances.filter((i) => i.service === service && i.phase === "running")
          .map((i) => i.name),
    });
  }

  async #run(signal: AbortSignal): Promise<void> {
    const clock = this.#options.clock;
    let fast: FastTrigger | undefined;
    let regular = clock.monotonic();
    while (!signal.aborted) {
      if (!fast) regular = clock.monotonic();
      let interval = 1000;
      try {
        await this.tick(fast);
      } catch (err) {
        log.error("Loop iteration failed: {error}", { error: errorMessage(err) });
      }
      try {
        interval = this.#options.state().config.autonomic.loopTimeInterval * 1000;
      } catch (err) {
        log.error("Cannot read the loop interval: {error}", { error: errorMessage(err) });
      }
      // A fast tick leaves the regular ticks on their times, and disarms the fast path until
      // the next regular tick.
      const wait = Math.max(0, interval - (clock.monotonic() - regular));
      try {
        if (fast) {
          fast = undefined;
          await clock.sleep(wait, signal);
        } else {
          fast = await this.#watch(wait, signal);
        }
      } catch {
        if (signal.aborted) return;
      }
    }
  }

  /**
   * Sleeps `wait` ms; with the fast path on, looks at the short window every `CheckInterval`
   * meanwhile and returns early with the trigger when a signal crosses (fast_path.ts).
   */
  async #watch(wait: number, signal: AbortSignal): Promise<FastTrigger | undefined> {
    const clock = this.#options.clock;
    const end = clock.monotonic() + wait;
    for (;;) {
      const left = end - clock.monotonic();
      if (left <= 0) return undefined;
      const state = this.#options.state();
      const fp = fastPathSettings(state.config.autonomic);
      if (!fp.enable) {
        await clock.sleep(left, signal);
        return undefined;
      }
      await clock.sleep(Math.min(left, fp.checkInterval * 1000), signal);
      if (end - clock.monotonic() <= 0) return undefined;
      try {
        // A slow sample never holds the regular tick back: wait for it at most until then.
        const sampled = this.#options.monitor.sample?.().catch(() => {});
        if (sampled) {
          await Promise.race([sampled, clock.sleep(Math.max(0, end - clock.monotonic()), signal)]);
        }
        if (end - clock.monotonic() <= 0) return undefined;
        const snapshot = this.#options.monitor.snapshot({ windowMs: fp.window * 1000 });
        const compiled = await this.#analytics.get(state.analytics, state.services);
        const analysis = analyzeServices({
          ...snapshot,
          services: state.services,
          compiled,
          node: this.#options.capacity(),
        });
        const crossings = fastCrossings({
          analysis,
          services: state.services,
          policy: state.policy,
          autonomic: state.config.autonomic,
        });
        const { trigger, held } = this.#calm.observe(
          crossings,
          clock.monotonic(),
          (fp.calm) * 1000,
        );
        // The next record names each held service once (its first held look).
        for (const h of held) {
          if (this.#held.some((line) => line.startsWith(`${h.crossing.service} `))) continue;
          if (this.#held.length < 10) this.#held.push(heldText(h, fp.window, fp.calm));
        }
        if (trigger) return trigger;
      } catch (err) {
        log.debug("Fast-path check failed: {error}", { error: errorMessage(err) });
      }
    }
  }
}
