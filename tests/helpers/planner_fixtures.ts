/**
 * Deterministic planner inputs for tests and benchmarks: the worked example of the original's
 * planner tests and synthetic clusters of any size.
 *
 * @module
 */

import type { PolicyConfig, PolicyRule, ServiceDescriptor } from "../../src/domain/model.ts";
import type { Prng } from "../../src/domain/random.ts";
import type { NodeState, PlannerInput, ServiceState } from "../../src/agent/planner/types.ts";

/** 1 GiB in bytes. */
export const GIB = 1024 ** 3;

/** A service descriptor with defaults (no memory limit, 0 cores, no min/max). */
export function descriptor(
  name: string,
  options: {
    cpuNumber?: number;
    memory?: string;
    cpusetCpus?: string;
    minInstances?: number;
    maxInstances?: number;
  } = {},
): ServiceDescriptor {
  return {
    name,
    type: "",
    image: `img/${name}`,
    remote: "",
    discoveryPort: "",
    analytics: [],
    constraints: {},
    minInstances: options.minInstances ?? 0,
    maxInstances: options.maxInstances ?? 0,
    configuration: {
      env: {},
      volumes: {},
      entrypoint: [],
      memory: options.memory ?? "",
      cpuNumber: options.cpuNumber ?? 0,
      cpuShares: 0,
      cpusetCpus: options.cpusetCpus ?? "",
      links: [],
      ports: {},
      cmd: [],
      stopTimeout: 10,
    },
  };
}

/** A policy rule over `cpu_avg` and the analytic `LOAD`. */
export function rule(threshold: number, enable = true): PolicyRule {
  return { enable, threshold, metrics: ["cpu_avg"], analytics: ["LOAD"], dryRun: false };
}

/** A policy with the worked example's thresholds (scalein 0.3, scaleout 0.8, swap 0.6). */
export function examplePolicy(): PolicyConfig {
  return { scalein: rule(0.3), scaleout: rule(0.8), swap: rule(0.6) };
}

/** A service state with the given local counts and cluster values. */
export function service(
  desc: ServiceDescriptor,
  running: number,
  pending: number,
  cpu: number | undefined,
  load: number | undefined,
): ServiceState {
  return {
    descriptor: desc,
    local: { running, pending },
    cluster: { base: { cpu_avg: cpu }, user: { LOAD: load }, active: running + pending > 0 },
  };
}

/**
 * The original's worked example: s1 running 1 (2 cores), s2 running 1 + pending 1 (2 cores),
 * s3/s4/s5 inactive (2/1/2 cores); base services [s3]; 4 cores, 4 GiB.
 *
 * @param usedCpus Cores in use (0 = all free, 4 = all used).
 */
export function workedExample(usedCpus: number): PlannerInput {
  const node: NodeState = {
    totalCpus: 4,
    freeCpus: 4 - usedCpus,
    totalMemory: 4 * GIB,
    freeMemory: 4 * GIB,
    baseServices: ["s3"],
  };
  return {
    services: {
      s1: service(descriptor("s1", { cpuNumber: 2 }), 1, 0, 0.5, 1.0),
      s2: service(descriptor("s2", { cpuNumber: 2 }), 1, 1, 0.2, 0.5),
      s3: service(descriptor("s3", { cpuNumber: 2 }), 0, 0, 0.8, 0.9),
      s4: service(descriptor("s4", { cpuNumber: 1 }), 0, 0, 0.8, 0.9),
      s5: service(descriptor("s5", { cpuNumber: 2 }), 0, 0, 0, 0),
    },
    node,
    policy: examplePolicy(),
  };
}

/**
 * A synthetic cluster of `count` services whose counts and values come from `prng`, on a
 * 16-core, 32 GiB node with half the cores free.
 */
export function syntheticInput(count: number, prng: Prng): PlannerInput {
  const services: Record<string, ServiceState> = {};
  for (let i = 0; i < count; i++) {
    const name = `svc${String(i).padStart(4, "0")}`;
    const running = Math.floor(prng() * 3);
    services[name] = service(
      descriptor(name, { cpuNumber: 1 + Math.floor(prng() * 2), memory: "512m" }),
      running,
      Math.floor(prng() * 2),
      prng(),
      prng(),
    );
  }
  return {
    services,
    node: {
      totalCpus: 16,
      freeCpus: 8,
      totalMemory: 32 * GIB,
      freeMemory: 16 * GIB,
      baseServices: ["svc0000"],
    },
    policy: examplePolicy(),
  };
}

/** A prng returning `values` in order, throwing when they run out. */
export function scripted(values: readonly number[]): Prng {
  let next = 0;
  return () => {
    const value = values[next++];
    if (value === undefined) throw new Error(`scripted prng exhausted after ${values.length}`);
    return value;
  };
}
