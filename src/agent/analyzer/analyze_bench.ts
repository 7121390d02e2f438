/**
 * Benchmarks of {@link analyzeService} over synthetic services, each with 2 running instances
 * and one analytic (`deno bench`).
 *
 * @module
 */

import type { ServiceDescriptor } from "../../domain/model.ts";
import { type AnalyzeInput, analyzeService } from "./analyze.ts";
import { compileAnalytics } from "./expressions.ts";

const GIB = 1024 ** 3;

const compiled = await compileAnalytics([
  { name: "resp", expr: "resp_time / MAX_RESP", metrics: ["resp_time"], constraints: ["MAX_RESP"] },
]);

function input(i: number): AnalyzeInput {
  const service: ServiceDescriptor = {
    name: `svc${i}`,
    type: "",
    image: `img/svc${i}`,
    remote: "",
    discoveryPort: "",
    analytics: ["resp"],
    constraints: { MAX_RESP: 200 },
    minInstances: 0,
    maxInstances: 0,
    configuration: {
      env: {},
      volumes: {},
      entrypoint: [],
      memory: "512m",
      cpuNumber: 1 + (i % 2),
      cpuShares: 0,
      cpusetCpus: "",
      links: [],
      ports: {},
      cmd: [],
      stopTimeout: 10,
    },
  };
  return {
    service,
    instances: [
      {
        id: `${i}a`,
        status: "running",
        cpuCores: 0.3,
        memoryBytes: 0.2 * GIB,
        memoryLimit: GIB / 2,
      },
      {
        id: `${i}b`,
        status: "running",
        cpuCores: 0.7,
        memoryBytes: 0.3 * GIB,
        memoryLimit: GIB / 2,
      },
    ],
    userMetrics: { resp_time: 50 + (i % 100) },
    compiled,
    totalCpus: 16,
    totalMemory: 64 * GIB,
  };
}

for (const count of [10, 50, 200]) {
  const inputs = Array.from({ length: count }, (_, i) => input(i));
  Deno.bench({
    name: `analyzeService() x ${count} services`,
    group: "analyze",
    baseline: count === 50,
    fn: () => {
      for (const item of inputs) analyzeService(item);
    },
  });
}
