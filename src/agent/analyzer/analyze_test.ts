import assert from "node:assert/strict";
import type { ServiceDescriptor } from "../../domain/model.ts";
import { analyzeService, type InstanceMetrics, type ServiceAnalysis } from "./analyze.ts";
import { compileAnalytics } from "./expressions.ts";

const GIB = 1024 ** 3;

/** A service descriptor with defaults. */
function service(
  options: { cpuNumber?: number; analytics?: string[]; constraints?: Record<string, number> } = {},
): ServiceDescriptor {
  return {
    name: "web",
    type: "",
    image: "img/web",
    remote: "",
    discoveryPort: "",
    analytics: options.analytics ?? [],
    constraints: options.constraints ?? {},
    minInstances: 0,
    maxInstances: 0,
    configuration: {
      env: {},
      volumes: {},
      entrypoint: [],
      memory: "",
      cpuNumber: options.cpuNumber ?? 1,
      cpuShares: 0,
      cpusetCpus: "",
      links: [],
      ports: {},
      cmd: [],
      stopTimeout: 10,
    },
  };
}

function instance(
  id: string,
  status: InstanceMetrics["status"],
  cpuCores: number | undefined,
  memoryBytes: number | undefined = undefined,
  memoryLimit = 0,
): InstanceMetrics {
  return { id, status, cpuCores, memoryBytes, memoryLimit };
}

const compiled = await compileAnalytics([
  { name: "resp", expr: "resp_time / MAX_RESP", metrics: ["resp_time"], constraints: ["MAX_RESP"] },
  { name: "ratio", expr: "M1 / C1", metrics: ["M1"], constraints: ["C1"] },
  { name: "both", expr: "X", metrics: ["X"], constraints: ["X"] },
]);

const cases: {
  name: string;
  service?: ServiceDescriptor;
  instances: InstanceMetrics[];
  userMetrics?: Record<string, number | undefined>;
  totalCpus?: number;
  totalMemory?: number;
  base?: Partial<ServiceAnalysis["base"]>;
  user?: ServiceAnalysis["user"];
  /** Substrings expected among the reasons. */
  reasons?: string[];
  /** The reasons are exactly as many as `reasons`. */
  exactReasons?: boolean;
}[] = [
  {
    name: "1.5 cores with cpuNumber 1 clamps to 1",
    service: service({ cpuNumber: 1 }),
    instances: [instance("a", "running", 1.5)],
    base: { cpu_avg: 1, cpu_cores: 1.5 },
  },
  {
    name: "2 full cores with cpuNumber 2 read 1.0",
    service: service({ cpuNumber: 2 }),
    instances: [instance("a", "running", 2)],
    base: { cpu_avg: 1, cpu_cores: 2 },
  },
  {
    name: "1 core with cpuNumber 2 reads 0.5",
    service: service({ cpuNumber: 2 }),
    instances: [instance("a", "running", 1)],
    base: { cpu_avg: 0.5 },
  },
  {
    name: "cpuNumber 0 divides by 1",
    service: service({ cpuNumber: 0 }),
    instances: [instance("a", "running", 0.25)],
    base: { cpu_avg: 0.25 },
  },
  {
    name: "mean over running instances",
    instances: [instance("a", "running", 0.2), instance("b", "running", 0.6)],
    base: { cpu_avg: 0.4, cpu_cores: 0.8 },
  },
  {
    name: "pending, stopped and paused instances are excluded",
    instances: [
      instance("a", "running", 0.2),
      instance("b", "pending", 1),
      instance("c", "stopped", 1),
      instance("d", "paused", 1),
    ],
    base: { cpu_avg: 0.2, cpu_cores: 0.2 },
  },
  {
    name: "running instance without data is left out, not counted as 0",
    instances: [instance("a", "running", 0.8), instance("b", "running", undefined)],
    base: { cpu_avg: 0.8, cpu_cores: 0.8 },
    reasons: ["1 of 2 running instances without CPU data"],
  },
  {
    name: "no data at all is unknown",
    instances: [instance("a", "running", undefined)],
    base: { cpu_avg: undefined, cpu_cores: undefined, memory_avg: undefined },
    reasons: ["cpu_avg unknown", "memory_avg unknown"],
  },
  {
    name: "only pending instances is unknown",
    instances: [instance("a", "pending", 0.5, GIB)],
    base: { cpu_avg: undefined, cpu_cores: undefined, memory_avg: undefined },
    reasons: ["no running instance"],
  },
  {
    name: "no instances is unknown",
    instances: [],
    base: { cpu_avg: undefined, cpu_cores: undefined, memory_avg: undefined },
  },
  {
    name: "core rate capped at the node's cores",
    service: service({ cpuNumber: 8 }),
    instances: [instance("a", "running", 6)],
    totalCpus: 4,
    base: { cpu_avg: 0.5, cpu_cores: 4 },
  },
  {
    name: "memory over the instance's limit",
    instances: [instance("a", "running", 0, 256 * 1024 ** 2, GIB)],
    totalMemory: 8 * GIB,
    base: { memory_avg: 0.25 },
  },
  {
    name: "memory without limit is over the node's memory",
    instances: [instance("a", "running", 0, 2 * GIB, 0)],
    totalMemory: 8 * GIB,
    base: { memory_avg: 0.25 },
  },
  {
    name: "memory mean mixes limited and unlimited instances, clamped",
    instances: [
      instance("a", "running", 0, 2 * GIB, GIB), // 2.0 → 1
      instance("b", "running", 0, 0, 0), // 0
    ],
    totalMemory: 8 * GIB,
    base: { memory_avg: 0.5 },
  },
  {
    name: "memory without limit and unknown node memory is unknown",
    instances: [instance("a", "running", 0.1, GIB, 0)],
    totalMemory: 0,
    base: { memory_avg: undefined, cpu_avg: 0.1 },
  },
  {
    name: "analytic from user metrics and constraints",
    service: service({ analytics: ["resp"], constraints: { MAX_RESP: 200 } }),
    instances: [instance("a", "running", 0.5, GIB)],
    userMetrics: { resp_time: 100 },
    user: { resp: 0.5 },
    reasons: [],
    exactReasons: true,
  },
  {
    name: "analytic with a metric missing from the window is unknown",
    service: service({ analytics: ["resp"], constraints: { MAX_RESP: 200 } }),
    instances: [],
    userMetrics: {},
    user: { resp: undefined },
    reasons: ["analytic resp: unknown resp_time"],
  },
  {
    name: "analytic with a constraint the service lacks is unknown",
    service: service({ analytics: ["resp"] }),
    instances: [],
    userMetrics: { resp_time: 100 },
    user: { resp: undefined },
    reasons: ["analytic resp: unknown MAX_RESP"],
  },
  {
    name: "analytic dividing by a zero constraint is unknown",
    service: service({ analytics: ["ratio"], constraints: { C1: 0 } }),
    instances: [],
    userMetrics: { M1: 1 },
    user: { ratio: undefined },
    reasons: ["analytic ratio: division by zero"],
  },
  {
    name: "a constraint does not stand in for a metric of the same name",
    service: service({ analytics: ["ratio"], constraints: { C1: 2, M1: 1 } }),
    instances: [],
    userMetrics: {},
    user: { ratio: undefined },
    reasons: ["unknown M1"],
  },
  {
    name: "a name declared as both reads the metric when known",
    service: service({ analytics: ["both"], constraints: { X: 0.9 } }),
    instances: [],
    userMetrics: { X: 0.1 },
    user: { both: 0.1 },
  },
  {
    name: "a name declared as both falls back to the constraint",
    service: service({ analytics: ["both"], constraints: { X: 0.9 } }),
    instances: [],
    userMetrics: { X: undefined },
    user: { both: 0.9 },
  },
  {
    name: "unknown analytic name is reported and skipped",
    service: service({ analytics: ["nope", "ratio"], constraints: { C1: 4 } }),
    instances: [],
    userMetrics: { M1: 1 },
    user: { ratio: 0.25 },
    reasons: ["unknown analytic nope"],
  },
];

for (const c of cases) {
  Deno.test(`analyzeService: ${c.name}`, () => {
    const userMetrics = c.userMetrics ?? {};
    const out = analyzeService({
      service: c.service ?? service(),
      instances: c.instances,
      userMetrics,
      compiled,
      totalCpus: c.totalCpus ?? 8,
      totalMemory: c.totalMemory ?? 16 * GIB,
    });
    for (const [key, value] of Object.entries(c.base ?? {})) {
      const got = out.base[key as keyof ServiceAnalysis["base"]];
      if (value === undefined || got === undefined) assert.equal(got, value, key);
      else assert.ok(Math.abs(got - value) < 1e-12, `${key}: ${got} ≈ ${value}`);
    }
    if (c.user !== undefined) assert.deepEqual(out.user, c.user);
    assert.deepEqual(out.metrics, userMetrics);
    if (c.exactReasons) assert.equal(out.reasons.length, c.reasons?.length ?? 0, `${out.reasons}`);
    for (const reason of c.reasons ?? []) {
      assert.ok(
        out.reasons.some((r) => r.includes(reason)),
        `${JSON.stringify(reason)} in ${JSON.stringify(out.reasons)}`,
      );
    }
  });
}
