/**
 * Test fixtures for the agent: the autonomic loop of node `n1` on a fake clock, without Docker
 * (the real monitor, analyzer, planner, executor and recorder over the in-memory engine), with a
 * usage reader that burns whatever CPU the test says; and a whole agent of node `n1` wired for
 * in-process tests. Used by the loop and agent tests here and by the API's route tests.
 *
 * @module
 */

import { MemoryContainerRuntime } from "../adapters/memory/memory_container_runtime.ts";
import { type AgentOptions, wireAgent, wireLoop } from "../app/agent_wiring.ts";
import { parseAgentConfig, parsePolicyConfig } from "../config/documents.ts";
import { FakeClock } from "../domain/clock.ts";
import { type Analytic, LABEL_SERVICE, type ServiceDescriptor } from "../domain/model.ts";
import { seededPrng } from "../domain/random.ts";
import type { MetricQuerier } from "../ports/metric_query.ts";
import { noTelemetry, type Telemetry } from "../ports/telemetry.ts";
import type { UsageReader, UsageSample, UsageTarget } from "../ports/usage_reader.ts";
import type { Agent } from "./agent.ts";
import { type InstanceBounds, InstanceManager } from "./executor/instances.ts";
import { soloCluster } from "./gossip/cluster_context.ts";
import type { LoopState } from "./loop.ts";
import { Monitor } from "./monitor/monitor.ts";
import { DecisionLog, type DecisionRecord } from "./record/decisions.ts";

/** The image of the fixture services (the in-memory engine of {@linkcode loopRig} has it). */
export const IMAGE = "gru-test/busybox";

/** Where the fake clock starts by default, in ms since the epoch. */
export const START = 1_700_000_000_000;

/**
 * CPU use by service, integrated over fake time: each instance of a service burns
 * `cores(load[service])` cores (by default its load as it is).
 */
export class FakeUsage implements UsageReader {
  readonly kind = "fake";
  /** The load of each service, as the test sets it (0 when absent). */
  load: Record<string, number> = {};
  #seen = new Map<string, { at: number; cpuNs: number }>();

  constructor(
    private runtime: MemoryContainerRuntime,
    private clock: FakeClock,
    private cores: (load: number) => number = (load) => load,
  ) {}

  read(target: UsageTarget): Promise<UsageSample> {
    const now = this.clock.now();
    const service = this.runtime.peek(target.id)?.labels[LABEL_SERVICE] ?? "";
    const last = this.#seen.get(target.id) ?? { at: now, cpuNs: 0 };
    const cpuNs = last.cpuNs + this.cores(this.load[service] ?? 0) * (now - last.at) * 1e6;
    this.#seen.set(target.id, { at: now, cpuNs });
    return Promise.resolve({ at: now, cpuNs, memoryBytes: 64 << 20 });
  }
  forget(id: string): void {
    this.#seen.delete(id);
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

/** What the usage reader of {@linkcode loopRig} is made from. */
export interface RigParts {
  runtime: MemoryContainerRuntime;
  clock: FakeClock;
  /** Running instances of `web`. */
  running: () => number;
}

/** Options of {@linkcode loopRig}. */
export interface LoopRigOptions<U extends UsageReader> {
  /** The node's services (the rig counts the instances of `web`). */
  services: ServiceDescriptor[];
  /**
   * `Autonomic` fields over the rig's: a 1 s loop, the dummy planner, no warm-up, a 2 s window,
   * 5 s cooldowns and no scale-in stabilization.
   */
  autonomic?: Record<string, unknown>;
  /** The policy document; by default scale-out above 0.7 and scale-in below 0.2 `cpu_avg`. */
  policy?: Record<string, unknown>;
  analytics?: Analytic[];
  baseServices?: string[];
  dryRun?: boolean;
  /** The fake clock's start, ms since the epoch. @default START */
  start?: number;
  /** Cores of the in-memory engine. @default 4 */
  ncpu?: number;
  /** Makes the usage reader. @default a {@linkcode FakeUsage} burning each service's load */
  usage?: (parts: RigParts) => U;
  telemetry?: Telemetry;
  /** Records the decision log keeps. @default 100 */
  decisions?: number;
  querier?: MetricQuerier;
  /** The cluster context ages its action ledger on the fake clock's monotonic time. */
  monotonicLedger?: boolean;
}

/** A node `n1` of cluster `c` running the loop over the in-memory engine, on a fake clock. */
export function loopRig<U extends UsageReader = FakeUsage>(options: LoopRigOptions<U>) {
  const clock = new FakeClock(options.start ?? START);
  const runtime = new MemoryContainerRuntime({ clock, images: [IMAGE], ncpu: options.ncpu ?? 4 });
  const state: LoopState = {
    node: "n1",
    config: parseAgentConfig({
      Autonomic: {
        LoopTimeInterval: 1,
        PlannerStrategy: "dummy",
        Warmup: 0,
        Window: 2,
        ScaleOutCooldown: 5,
        ScaleInCooldown: 5,
        ScaleInStabilization: 0,
        ...options.autonomic,
      },
    }, "config.json"),
    policy: parsePolicyConfig(
      options.policy ?? {
        Scaleout: { Enable: true, Threshold: 0.7, Metrics: ["cpu_avg"] },
        Scalein: { Enable: true, Threshold: 0.2, Metrics: ["cpu_avg"] },
      },
      "policy.json",
    ),
    services: new Map(options.services.map((s) => [s.name, s])),
    analytics: new Map((options.analytics ?? []).map((a) => [a.name, a])),
    constraints: { cpuMin: 0, cpuMax: 0, baseServices: options.baseServices ?? [] },
    dryRun: options.dryRun ?? false,
  };
  const instances = testInstances(runtime, clock);
  const running = () => instances.list("web").filter((i) => i.status === "running").length;
  const usage = options.usage?.({ runtime, clock, running }) ??
    (new FakeUsage(runtime, clock) as unknown as U);
  const monitor = new Monitor({
    runtime,
    usage,
    instances,
    clock,
    cluster: "c",
    node: "n1",
    settings: () => ({
      windowMs: state.config.autonomic.window * 1000,
      warmupMs: state.config.autonomic.warmup * 1000,
      logReading: false,
      services: new Set(state.services.keys()),
    }),
  });
  const decisions = new DecisionLog(options.decisions ?? 100);
  const loop = wireLoop({
    state: () => state,
    monitor,
    instances,
    cluster: options.monotonicLedger ? soloCluster("n1", clock) : soloCluster("n1"),
    decisions,
    telemetry: options.telemetry ?? noTelemetry,
    uuid: "u",
    clock,
    prng: seededPrng(7),
    querier: options.querier,
  });
  return {
    clock,
    runtime,
    usage,
    instances,
    monitor,
    decisions,
    loop,
    state,
    running,
    /** Lets `seconds` of fake time pass, sampling usage every second, then ticks once. */
    async after(seconds: number): Promise<DecisionRecord> {
      for (let i = 0; i < seconds; i++) {
        clock.advance(1000);
        await monitor.sample();
      }
      return await loop.tick();
    },
  };
}

/** What {@linkcode wireTestAgent} takes; the rest is fixed. */
export type TestAgentParts =
  & Pick<AgentOptions, "store" | "runtime" | "usage" | "clock" | "nodeStateCache">
  & { cluster: string };

/**
 * The agent of node `n1` (address `http://127.0.0.1:1`) in `cluster`, wired over the given
 * store, engine, usage reader and clock: 5 s lease, seeded randomness, not a dry run. Not
 * started.
 */
export function wireTestAgent(parts: TestAgentParts): Agent {
  const { cluster, ...rest } = parts;
  return wireAgent({
    identity: {
      cluster,
      name: "n1",
      uuid: "a".repeat(32),
      address: "http://127.0.0.1:1",
      hostIp: "127.0.0.1",
    },
    ...rest,
    prng: seededPrng(1),
    ttl: 5,
    dryRun: false,
    etcdAddr: "http://127.0.0.1:2379",
    env: () => undefined,
  });
}

/** The instance manager of node `n1` of cluster `c` over `runtime` (bounds when given). */
export function testInstances(
  runtime: ConstructorParameters<typeof InstanceManager>[0]["runtime"],
  clock: FakeClock,
  bounds?: InstanceBounds,
): InstanceManager {
  return new InstanceManager({
    runtime,
    clock,
    cluster: "c",
    node: "n1",
    spec: { hostIp: "127.0.0.1", etcdAddr: "http://127.0.0.1:2379", env: () => undefined },
    ...(bounds ? { bounds } : {}),
  });
}
