/**
 * The simulation of `gru simulate`: a load trace replayed, second by second, against the
 * service model (model.ts) while one strategy (controllers.ts) scales the service. Every
 * strategy of a run faces the same sampled workload and gets the same random streams, so the
 * comparison is fair and the same seed gives the same figures.
 *
 * Each second s, in order:
 * 1. instances whose start-up is over (readyAt ≤ s) serve from now on;
 * 2. every node whose loop ticks at s (every `interval` seconds, node i offset by
 *    ⌊i·interval/nodes⌋ s) runs the strategy on the measurements of seconds [s − window, s);
 *    a started instance is pending until s + startup, a stopped one is gone at once;
 * 3. the model serves second s with the running instances; pending and running instances
 *    count towards the instance-seconds.
 *
 * Pure: no I/O, clock or randomness of its own.
 *
 * @module
 */

import { FakeClock } from "../domain/clock.ts";
import { parsePolicyConfig, parseServiceDescriptor } from "../config/documents.ts";
import { type Prng, seededPrng } from "../domain/random.ts";
import {
  type ControllerFactory,
  type SimAction,
  type SimCluster,
  type SimInstance,
  simStrategies,
} from "./controllers.ts";
import { type ModelState, sampleWork, type ServiceModel, stepSecond } from "./model.ts";
import type { Trace } from "./traces.ts";

/** Everything a run is set up with (seconds unless said otherwise). */
export interface SimSettings extends ServiceModel {
  nodes: number;
  coresPerNode: number;
  /** Instances at the start, and the floor (MinInstances). */
  minInstances: number;
  /** MaxInstances, cluster-wide (0 = only the cores limit). */
  maxInstances: number;
  /** Autonomic.LoopTimeInterval. */
  interval: number;
  /** Autonomic.Window: the seconds behind cpu_avg. */
  window: number;
  scaleOutCooldown: number;
  scaleInCooldown: number;
  scaleInStabilization: number;
  /** Policy thresholds on cpu_avg. */
  scaleOutThreshold: number;
  scaleInThreshold: number;
  /** Target utilization of `hpa` (and of target tracking). */
  targetUtilization: number;
}

/** The settings `gru simulate` uses unless told otherwise (the paper setting). */
export const DEFAULT_SETTINGS: Readonly<SimSettings> = {
  serviceTime: 5,
  capacity: 1,
  startup: 10,
  maxResponseTime: 15,
  measurement: "sampled",
  nodes: 1,
  coresPerNode: 16,
  minInstances: 1,
  maxInstances: 0,
  interval: 5,
  window: 30,
  scaleOutCooldown: 15,
  scaleInCooldown: 30,
  scaleInStabilization: 30,
  scaleOutThreshold: 0.75,
  scaleInThreshold: 0.35,
  targetUtilization: 0.6,
};

/** One strategy's figures over a run. */
export interface StrategyResult {
  strategy: string;
  /** Σ over seconds of the instances that exist (pending or running). */
  instanceSeconds: number;
  /** Seconds whose modelled response time exceeds MAX_RESP_TIME. */
  sloViolationSeconds: number;
  /** Container starts and stops. */
  actions: number;
  /** Most instances (pending or running) at any second. */
  maxInstances: number;
  /** Instances (pending or running) of every second, for the plot. */
  series: number[];
  /** Every action, with who took it and why. */
  log: SimAction[];
}

/** A whole run. */
export interface SimRun {
  trace: Trace;
  seed: number;
  settings: SimSettings;
  results: StrategyResult[];
}

/** Fixed start of the simulated wall clock: 2026-01-01T00:00:00Z (only ever read, never shown). */
const EPOCH = 1_767_225_600_000;

/** Node names of a run: n1, n2, … */
function nodeNames(count: number): string[] {
  return Array.from({ length: count }, (_, i) => `n${i + 1}`);
}

/** The seeds of a run: the workload's, then one per node (the same for every strategy). */
function seedsOf(seed: number, nodes: number): { workload: number; nodes: number[] } {
  const master = seededPrng(seed);
  const next = () => Math.floor(master() * 2 ** 32);
  return { workload: next(), nodes: Array.from({ length: nodes }, next) };
}

/**
 * Runs every strategy over the trace.
 *
 * @param trace The load.
 * @param strategies Strategy names (see {@link simStrategies}).
 * @param settings The model and the agents' settings.
 * @param seed The seed of every random stream.
 * @returns The figures of each strategy, in the order asked.
 * @throws {RangeError} For an unknown strategy (listing the known ones) or a bad setting.
 */
export function simulate(
  trace: Trace,
  strategies: readonly string[],
  settings: SimSettings,
  seed: number,
): SimRun {
  checkSettings(settings);
  const known = simStrategies();
  const factories = strategies.map((name) => {
    const factory = known.get(name);
    if (factory === undefined) {
      throw new RangeError(
        `Unknown strategy "${name}": expected one of ${[...known.keys()].join(", ")}`,
      );
    }
    return [name, factory] as const;
  });
  const seeds = seedsOf(seed, settings.nodes);
  const work = settings.measurement === "exact"
    ? trace.rps.map((r) => r * settings.serviceTime)
    : sampleWork(trace.rps, settings.serviceTime, seededPrng(seeds.workload));
  const results = factories.map(([name, factory]) =>
    runOne(name, factory, trace, work, settings, seeds.nodes.map((s) => seededPrng(s)))
  );
  return { trace, seed, settings, results };
}

function checkSettings(s: SimSettings): void {
  const positive = { serviceTime: s.serviceTime, maxResponseTime: s.maxResponseTime };
  for (const [key, value] of Object.entries(positive)) {
    if (!(Number.isFinite(value) && value > 0)) {
      throw new RangeError(`Invalid ${key} ${value}: expected a number above 0`);
    }
  }
  const whole = {
    capacity: [s.capacity, 1],
    nodes: [s.nodes, 1],
    coresPerNode: [s.coresPerNode, 1],
    interval: [s.interval, 1],
    window: [s.window, 1],
    startup: [s.startup, 0],
    minInstances: [s.minInstances, 1],
    maxInstances: [s.maxInstances, 0],
    scaleOutCooldown: [s.scaleOutCooldown, 0],
    scaleInCooldown: [s.scaleInCooldown, 0],
    scaleInStabilization: [s.scaleInStabilization, 0],
  } as const;
  for (const [key, [value, min]] of Object.entries(whole)) {
    if (!(Number.isInteger(value) && value >= min && value <= 1_000_000)) {
      throw new RangeError(`Invalid ${key} ${value}: expected a whole number ≥ ${min}`);
    }
  }
  if (!(s.targetUtilization > 0 && s.targetUtilization <= 1)) {
    throw new RangeError(`Invalid targetUtilization ${s.targetUtilization}: expected (0, 1]`);
  }
}

function runOne(
  strategy: string,
  factory: ControllerFactory,
  trace: Trace,
  work: readonly number[],
  settings: SimSettings,
  prngs: Prng[],
): StrategyResult {
  const clock = new FakeClock(EPOCH);
  const nodes = nodeNames(settings.nodes);
  const controller = factory(prngs);
  const capacityTotal = settings.nodes * settings.coresPerNode;
  const maxTotal = settings.maxInstances > 0
    ? Math.min(settings.maxInstances, capacityTotal)
    : capacityTotal;
  const descriptor = parseServiceDescriptor({
    Name: "web",
    Image: "gru-sim/web",
    MinInstances: settings.minInstances,
    MaxInstances: settings.maxInstances,
    Configuration: { CpuNumber: 1, Memory: "128M" },
    Scaling: { Target: { Metric: "cpu_avg", Value: settings.targetUtilization } },
  }, "simulated service");
  const policy = parsePolicyConfig({
    Scaleout: { Enable: true, Threshold: settings.scaleOutThreshold, Metrics: ["cpu_avg"] },
    Scalein: { Enable: true, Threshold: settings.scaleInThreshold, Metrics: ["cpu_avg"] },
    Swap: { Enable: false },
  }, "simulated policy");
  const instances: SimInstance[] = [];
  for (let k = 0; k < Math.min(settings.minInstances, maxTotal); k++) {
    instances.push({ node: k % settings.nodes, readyAt: 0 });
  }
  const log: SimAction[] = [];
  const busy: number[] = [];
  const available: number[] = [];
  const series: number[] = [];
  const state: ModelState = { backlog: 0, sampledBacklog: 0 };
  let violations = 0;
  const cluster: SimCluster = {
    second: 0,
    clock,
    nodes,
    coresPerNode: settings.coresPerNode,
    descriptor,
    policy,
    autonomic: {
      scaleOutCooldown: settings.scaleOutCooldown,
      scaleInCooldown: settings.scaleInCooldown,
      scaleInStabilization: settings.scaleInStabilization,
    },
    targetUtilization: settings.targetUtilization,
    maxTotal,
    instances,
    cpuAvg: undefined,
    actions: log,
    start(node, why) {
      const onNode = instances.filter((i) => i.node === node).length;
      if (instances.length >= maxTotal || onNode >= settings.coresPerNode) return;
      instances.push({ node, readyAt: cluster.second + settings.startup });
      log.push({ second: cluster.second, node: nodes[node]!, action: "start", why });
    },
    stop(node, why) {
      const mine = instances.map((i, k) => [i, k] as const).filter(([i]) => i.node === node);
      const pending = mine.find(([i]) => i.readyAt > cluster.second);
      const victim = pending ?? mine.at(-1);
      if (victim === undefined) return;
      instances.splice(victim[1], 1);
      log.push({ second: cluster.second, node: nodes[node]!, action: "stop", why });
    },
  };
  for (let s = 0; s < trace.rps.length; s++) {
    cluster.second = s;
    cluster.cpuAvg = windowMean(busy, available, s - settings.window, s);
    for (let n = 0; n < settings.nodes; n++) {
      if (!controller.perNode && n > 0) break;
      const offset = controller.perNode ? Math.floor(n * settings.interval / settings.nodes) : 0;
      if ((s - offset) % settings.interval === 0 && s >= offset) controller.tick(cluster, n);
    }
    const running = instances.filter((i) => i.readyAt <= s).length;
    const out = stepSecond(settings, state, trace.rps[s]!, running, work[s]!);
    const cap = running * settings.capacity;
    busy.push(out.measured * cap);
    available.push(cap);
    series.push(instances.length);
    if (out.violation) violations++;
    clock.advance(1000);
  }
  return {
    strategy,
    instanceSeconds: series.reduce((a, b) => a + b, 0),
    sloViolationSeconds: violations,
    actions: log.length,
    maxInstances: series.reduce((a, b) => Math.max(a, b), 0),
    series,
    log,
  };
}

/** Busy over available server-seconds of seconds [from, to), undefined without capacity. */
function windowMean(
  busy: readonly number[],
  available: readonly number[],
  from: number,
  to: number,
): number | undefined {
  let b = 0;
  let a = 0;
  for (let t = Math.max(0, from); t < to; t++) {
    b += busy[t]!;
    a += available[t]!;
  }
  return a > 0 ? b / a : undefined;
}
