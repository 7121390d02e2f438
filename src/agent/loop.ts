/**
 * The autonomic loop: every `Autonomic.LoopTimeInterval` seconds while the agent is active,
 *
 * 1. **monitor**: take the monitor's snapshot (instances, usage over the window, user metrics);
 * 2. **analyze**: compute each service's `cpu_avg`, `memory_avg` and analytics (unknown stays
 *    unknown);
 * 3. **plan**: weigh scale-out, scale-in, swap and no-action and let the strategy pick;
 * 4. **execute**: unless dry-run or a guard (cooldown, stabilization) holds it back, carry the
 *    chosen action out on this node, one action at a time; then make sure every base service
 *    keeps its instances;
 * 5. **record**: keep and log a decision record saying why.
 *
 * Ticks never overlap: a slow iteration delays the next one instead of running beside it.
 *
 * @module
 */

import { getLogger } from "@logtape/logtape";
import type { Clock } from "../domain/clock.ts";
import type { Prng } from "../domain/random.ts";
import { errorMessage } from "../domain/errors.ts";
import type {
  AgentConfig,
  Analytic,
  NodeConstraints,
  PolicyConfig,
  ServiceDescriptor,
} from "../domain/model.ts";
import type { InstanceManager } from "./instances.ts";
import type { Monitor } from "./monitor/monitor.ts";
import { analyzeService } from "./analyzer/analyze.ts";
import { compileAnalytics, type CompiledAnalytics } from "./analyzer/expressions.ts";
import { plan } from "./planner/plan.ts";
import type { Candidate, PlannerInput } from "./planner/types.ts";
import {
  checkGuards,
  newHistory,
  noteScaleInWishes,
  recordScaling,
  type ScalingHistory,
} from "./executor/guards.ts";
import { coordinate, coordinateStart } from "./executor/coordination.ts";
import type { MetricSink } from "../ports/metric_sink.ts";
import { type LoopPhase, noTelemetry, type Telemetry } from "../ports/telemetry.ts";
import { measurements } from "./measurements.ts";
import type { ClusterServiceView } from "./executor/coordination.ts";
import type {
  ActionRecord,
  CandidateRecord,
  DecisionLog,
  DecisionOutcome,
  DecisionRecord,
  ServiceInputs,
} from "./decisions.ts";

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

/** What this node shares of one service. */
export interface LocalServiceShare {
  running: number;
  pending: number;
  cpu_avg?: number;
  memory_avg?: number;
  analytics: Record<string, number>;
  cpuNumber: number;
}

/** What this node shares with the cluster on every loop. */
export interface LocalShare {
  active: boolean;
  services: Record<string, LocalServiceShare>;
  resources: { totalCpus: number; freeCpus: number; totalMemory: number; freeMemory: number };
}

/** A service as the whole cluster sees it (this node included). */
export interface ClusterService extends ClusterServiceView {
  cpu_avg?: number;
  memory_avg?: number;
  analytics: Record<string, number>;
}

/** The loop's window on the rest of the cluster (gossip); a lone node uses `soloCluster`. */
export interface ClusterContext {
  /** Publishes this node's share and returns the cluster's view of every service. */
  update(local: LocalShare, now: number): Record<string, ClusterService>;
  /** Records an action this node took, for the cluster-wide ledger. */
  recordAction(service: string, action: "start" | "stop", reason: string, time: number): void;
  /** Why this node considers itself cut off (no scale-in then), or undefined. */
  partitioned(): string | undefined;
  /** Live nodes (etcd) whose share is not in the view yet. */
  unknownPeers(): string[];
}

/** A cluster of one: the view is this node's own share. */
export function soloCluster(self: string): ClusterContext {
  let ledger: (ClusterServiceView["recentActions"][number] & { service: string })[] = [];
  return {
    update(local, now) {
      ledger = ledger.filter((a) => now - a.time < 120_000);
      const out: Record<string, ClusterService> = {};
      for (const [name, s] of Object.entries(local.services)) {
        const here = s.running + s.pending > 0;
        out[name] = {
          nodes: here ? [self] : [],
          running: s.running,
          pending: s.pending,
          canHost: local.resources.freeCpus >= s.cpuNumber ? [self] : [],
          recentActions: ledger.filter((a) => a.service === name)
            .map(({ service: _, ...a }) => a),
          ...(s.cpu_avg !== undefined ? { cpu_avg: s.cpu_avg } : {}),
          ...(s.memory_avg !== undefined ? { memory_avg: s.memory_avg } : {}),
          analytics: s.analytics,
        };
      }
      return out;
    },
    recordAction(service, action, reason, time) {
      ledger.unshift({ service, origin: self, action, time, reason });
    },
    partitioned: () => undefined,
    unknownPeers: () => [],
  };
}

/** Options of `AutonomicLoop`. */
export interface LoopOptions {
  state: () => LoopState;
  /** Where each iteration's measurements go. */
  sink?: MetricSink | undefined;
  /** Self-metrics. @default noTelemetry */
  telemetry?: Telemetry | undefined;
  /** The node's uuid (tag of the `node` measurement). */
  uuid?: string | undefined;
  /** The cluster view. @default soloCluster(node) */
  cluster?: ClusterContext;
  monitor: Monitor;
  instances: InstanceManager;
  clock: Clock;
  prng: Prng;
  decisions: DecisionLog;
}

function toRecord(c: Candidate): CandidateRecord {
  return {
    policy: c.name,
    targets: [...c.targets],
    weight: Math.round(c.weight * 1e4) / 1e4,
    reasons: [...c.reasons],
  };
}

/** The loop. */
export class AutonomicLoop {
  #o: LoopOptions;
  #history: ScalingHistory = newHistory();
  #compiled: {
    source: ReadonlyMap<string, Analytic>;
    services: ReadonlyMap<string, ServiceDescriptor>;
    value: CompiledAnalytics;
  } | undefined;
  #abort: AbortController | undefined;
  #task: Promise<void> | undefined;

  #cluster: ClusterContext | undefined;

  constructor(options: LoopOptions) {
    this.#o = options;
    this.#cluster = options.cluster;
  }

  #ctx(node: string): ClusterContext {
    return this.#cluster ??= soloCluster(node);
  }

  /** Whether the loop runs. */
  get running(): boolean {
    return this.#task !== undefined;
  }

  /** Starts ticking (the first tick comes at once). Idempotent. */
  start(): void {
    if (this.#task) return;
    const abort = new AbortController();
    this.#abort = abort;
    this.#task = this.#run(abort.signal);
  }

  /** Stops ticking and waits for the current tick. Idempotent. */
  async stop(): Promise<void> {
    this.#abort?.abort(new Error("stopped"));
    await this.#task?.catch(() => {});
    this.#task = undefined;
    this.#abort = undefined;
  }

  async #run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      const started = this.#o.clock.now();
      try {
        await this.tick();
      } catch (err) {
        log.error("Loop iteration failed: {error}", { error: errorMessage(err) });
      }
      const interval = this.#o.state().config.autonomic.loopTimeInterval * 1000;
      const wait = Math.max(0, interval - (this.#o.clock.now() - started));
      try {
        await this.#o.clock.sleep(wait, signal);
      } catch {
        return;
      }
    }
  }

  /** The analytics some service uses, compiled once per change of either map. */
  async #analytics(
    source: ReadonlyMap<string, Analytic>,
    services: ReadonlyMap<string, ServiceDescriptor>,
  ): Promise<CompiledAnalytics> {
    if (this.#compiled?.source !== source || this.#compiled.services !== services) {
      const used = new Set([...services.values()].flatMap((s) => s.analytics));
      const value = await compileAnalytics([...source.values()].filter((a) => used.has(a.name)));
      this.#compiled = { source, services, value };
    }
    return this.#compiled.value;
  }

  /** Runs one iteration and returns its record. */
  async tick(): Promise<DecisionRecord> {
    const clock = this.#o.clock;
    const st = this.#o.state();
    const t0 = clock.now();

    // 1. Monitor (one listing per tick, in case an event was missed).
    await this.#o.monitor.refresh().catch((err) => {
      (this.#o.telemetry ?? noTelemetry).dependencyError("docker");
      log.warn("Cannot list containers: {error}", { error: errorMessage(err) });
    });
    const snap = this.#o.monitor.snapshot();
    const t1 = clock.now();

    // 2. Analyze.
    const compiled = await this.#analytics(st.analytics, st.services);
    const view = this.#o.instances.ledger.view();
    const inputs: Record<string, ServiceInputs> = {};
    const services: PlannerInput["services"] = {};
    for (const [name, descriptor] of st.services) {
      const mine = snap.instances.filter((i) => i.service === name);
      const running = mine.filter((i) => i.phase === "running");
      const pending = mine.filter((i) => i.phase === "pending");
      const a = analyzeService({
        service: descriptor,
        instances: mine.map((i) => ({
          id: i.id,
          status: i.phase,
          cpuCores: i.cpuCores,
          memoryBytes: i.memoryBytes,
          memoryLimit: i.memory,
        })),
        userMetrics: snap.userMetrics[name] ?? {},
        compiled,
        totalCpus: view.totalCpus,
        totalMemory: view.totalMemory,
      });
      const ages = running.map((i) => i.sampleAgeMs).filter((x): x is number => x !== undefined);
      inputs[name] = {
        running: running.length,
        pending: pending.length,
        stopped: mine.filter((i) => i.phase === "stopped").length,
        paused: mine.filter((i) => i.phase === "paused").length,
        cpu_avg: a.base.cpu_avg,
        memory_avg: a.base.memory_avg,
        cpu_cores: a.base.cpu_cores,
        analytics: a.user,
        metrics: a.metrics,
        dataAgeMs: ages.length ? Math.max(...ages) : undefined,
        notes: a.reasons,
      };
      services[name] = {
        descriptor,
        local: { running: running.length, pending: pending.length },
        cluster: {
          base: { cpu_avg: a.base.cpu_avg, memory_avg: a.base.memory_avg },
          user: a.user,
          active: running.length + pending.length > 0,
        },
      };
    }
    const node = {
      totalCpus: view.totalCpus,
      freeCpus: view.freeCpus.length,
      totalMemory: view.totalMemory,
      freeMemory: Math.max(0, view.totalMemory - view.usedMemory),
    };
    const ctx = this.#ctx(st.node);
    const share: LocalShare = { active: true, services: {}, resources: node };
    for (const [name, i] of Object.entries(inputs)) {
      const analytics: Record<string, number> = {};
      for (const [k, v] of Object.entries(i.analytics)) if (v !== undefined) analytics[k] = v;
      share.services[name] = {
        running: i.running,
        pending: i.pending,
        ...(i.cpu_avg !== undefined ? { cpu_avg: i.cpu_avg } : {}),
        ...(i.memory_avg !== undefined ? { memory_avg: i.memory_avg } : {}),
        analytics,
        cpuNumber: st.services.get(name)?.configuration.cpuNumber ?? 0,
      };
    }
    const clusterView = ctx.update(share, clock.now());
    const partitioned = ctx.partitioned();
    const unknownPeers = ctx.unknownPeers();
    for (const [name, s] of Object.entries(services)) {
      const cv = clusterView[name];
      if (!cv) continue;
      // The cluster's value where some node knows it; this node's (maybe unknown) otherwise.
      s.cluster = {
        base: {
          cpu_avg: cv.cpu_avg ?? s.cluster.base.cpu_avg,
          memory_avg: cv.memory_avg ?? s.cluster.base.memory_avg,
        },
        user: { ...s.cluster.user, ...cv.analytics },
        active: cv.nodes.length > 0,
      };
      inputs[name]!.cluster = {
        nodes: cv.nodes.length,
        running: cv.running,
        pending: cv.pending,
        cpu_avg: cv.cpu_avg,
        memory_avg: cv.memory_avg,
        analytics: cv.analytics,
      };
    }
    const t2 = clock.now();

    // 3. Plan.
    const decision = plan({
      services,
      node: {
        ...node,
        baseServices: st.constraints.baseServices,
        usedCores: view.reservations.flatMap((r) => r.cpus),
      },
      policy: st.policy,
    }, { strategy: st.config.autonomic.plannerStrategy, prng: this.#o.prng });
    const t3 = clock.now();

    // 4. Execute.
    const chosen = decision.chosen;
    const a = st.config.autonomic;
    noteScaleInWishes(this.#history, decision.candidates, t3);
    const actions: ActionRecord[] = [];
    let outcome: DecisionOutcome = "none";
    let why = chosen.name === "noaction"
      ? `no action: the best other weight is ${(1 - chosen.weight).toFixed(2)}`
      : "";
    const rule = chosen.name === "noaction" ? undefined : st.policy[chosen.name];
    const dry = st.dryRun || a.dryRun || (rule?.dryRun ?? false);
    if (chosen.name !== "noaction") {
      const guard = checkGuards(chosen, this.#history, t3, {
        scaleOutCooldownMs: a.scaleOutCooldown * 1000,
        scaleInCooldownMs: a.scaleInCooldown * 1000,
        scaleInStabilizationMs: a.scaleInStabilization * 1000,
      });
      const coord = guard.ok
        ? coordinate({
          chosen,
          self: st.node,
          now: t3,
          prng: this.#o.prng,
          cluster: clusterView,
          services: st.services,
          scaleOutCooldownMs: a.scaleOutCooldown * 1000,
          scaleInCooldownMs: a.scaleInCooldown * 1000,
          partitioned,
          unknownPeers,
        })
        : undefined;
      if (!guard.ok) {
        outcome = "blocked";
        why = guard.reason;
      } else if (coord && !coord.ok) {
        outcome = "blocked";
        why = coord.reason;
      } else if (dry) {
        outcome = "dry-run";
        why = `dry-run: would ${chosen.name} ${chosen.targets.join(" → ")}`;
      } else {
        outcome = "executed";
        why = `${chosen.name} ${chosen.targets.join(" → ")} (weight ${chosen.weight.toFixed(2)})`;
        for (const target of chosen.targets) {
          const svc = st.services.get(target);
          const acts = chosen.actions[target] ?? [];
          if (!svc) continue;
          const act = acts.includes("start") ? "start" : acts.includes("stop") ? "stop" : undefined;
          if (!act) continue;
          const r = await this.#act(svc, act, chosen.name);
          actions.push(r);
          if (!r.ok) {
            outcome = "failed";
            why = `${chosen.name} of ${target} failed: ${r.error}`;
            break;
          }
        }
        recordScaling(this.#history, chosen, clock.now());
      }
    }
    if (!dry) {
      actions.push(...await this.#keepBaseServices(st));
      // Cluster-wide floors wait for a complete view: a node that has not heard from every
      // live peer yet cannot tell whether they already started the missing instances.
      if (unknownPeers.length === 0) {
        actions.push(...await this.#keepClusterMin(st, clusterView, clock.now(), actions));
      }
    }
    for (const act of actions) {
      if (act.ok) ctx.recordAction(act.service, act.action, act.why, clock.now());
    }
    const t4 = clock.now();

    // 5. Record.
    const others = decision.candidates.filter((c) => c !== chosen && c.weight > 0);
    const record: DecisionRecord = {
      seq: this.#o.decisions.nextSeq(),
      time: t0,
      node: st.node,
      strategy: decision.strategy,
      draw: decision.draw,
      inputs: {
        services: inputs,
        node,
        usageSource: snap.usageSource,
        eventsConnected: snap.eventsConnected,
      },
      candidates: decision.candidates.map(toRecord),
      chosen: toRecord(chosen),
      outcome,
      why: others.length && outcome !== "none"
        ? `${why}; not chosen: ${
          others.map((c) => `${c.name} ${c.targets.join("→")} ${c.weight.toFixed(2)}`).join(", ")
        }`
        : why,
      actions,
      phasesMs: { monitor: t1 - t0, analyze: t2 - t1, plan: t3 - t2, execute: t4 - t3 },
    };
    this.#o.decisions.resize(a.decisionHistory);
    this.#o.decisions.add(record);
    const tel = this.#o.telemetry ?? noTelemetry;
    for (const [phase, ms] of Object.entries(record.phasesMs)) {
      tel.loopPhase(phase as LoopPhase, ms);
    }
    tel.loopPhase("total", t4 - t0);
    tel.decision(chosen.name, outcome);
    for (const act of actions) tel.action(act.action, act.ok ? "ok" : "failed");
    this.#o.sink?.write(measurements(record, { uuid: this.#o.uuid ?? "", services: st.services }));
    const level = outcome === "executed" || outcome === "failed" || actions.length
      ? "info"
      : "debug";
    log[level]("Decision {seq}: {policy} {targets} → {outcome}: {why}", {
      seq: record.seq,
      policy: chosen.name,
      targets: chosen.targets.join(","),
      outcome,
      why: record.why,
      weight: chosen.weight,
      draw: decision.draw,
      actions,
    });
    return record;
  }

  async #act(svc: ServiceDescriptor, act: "start" | "stop", why: string): Promise<ActionRecord> {
    try {
      const inst = act === "start"
        ? await this.#o.instances.start(svc)
        : await this.#o.instances.stop(svc);
      await this.#o.monitor.refresh().catch(() => {});
      return { service: svc.name, action: act, ok: true, instance: inst.name, why };
    } catch (err) {
      return { service: svc.name, action: act, ok: false, error: errorMessage(err), why };
    }
  }

  /**
   * Starts one instance of a service that has fewer than `MinInstances` cluster-wide (for
   * example after a node died), when this node can host it and wins the coordination gate.
   */
  async #keepClusterMin(
    st: LoopState,
    view: Record<string, ClusterService>,
    now: number,
    done: readonly ActionRecord[],
  ): Promise<ActionRecord[]> {
    const out: ActionRecord[] = [];
    for (const [name, svc] of st.services) {
      const cv = view[name];
      // Actions taken earlier in this loop are not in the view yet.
      const delta = done.filter((a) => a.ok && a.service === name)
        .reduce((n, a) => n + (a.action === "start" ? 1 : -1), 0);
      if (!cv || svc.minInstances <= 0) continue;
      if (cv.running + cv.pending + delta >= svc.minInstances) continue;
      if (!this.#o.instances.ledger.canHost(svc).ok) continue;
      const c = coordinateStart(name, {
        self: st.node,
        now,
        prng: this.#o.prng,
        cluster: view,
        services: st.services,
        scaleOutCooldownMs: st.config.autonomic.scaleOutCooldown * 1000,
        scaleInCooldownMs: st.config.autonomic.scaleInCooldown * 1000,
      });
      if (!c.ok) continue;
      out.push(
        await this.#act(
          svc,
          "start",
          `cluster min: ${cv.running + cv.pending} of ${svc.minInstances} instances`,
        ),
      );
    }
    return out;
  }

  /** Starts an instance of every base service that has fewer than it should keep here. */
  async #keepBaseServices(st: LoopState): Promise<ActionRecord[]> {
    const out: ActionRecord[] = [];
    for (const name of st.constraints.baseServices) {
      const svc = st.services.get(name);
      if (!svc) continue;
      const have = this.#o.instances.list(name).filter((i) => i.status !== "stopped").length;
      const want = Math.max(1, svc.minInstances);
      for (let i = have; i < want; i++) {
        const r = await this.#act(svc, "start", `base service: ${have} of ${want} running`);
        out.push(r);
        if (!r.ok) break;
      }
    }
    return out;
  }
}
