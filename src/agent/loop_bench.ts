/**
 * One loop's pure work — analyze every service, then plan — for 10, 50 and 200 services
 * (`deno bench -A src/agent/loop_bench.ts`). Each service has 2 running instances and one
 * analytic; the policy enables scale-out, scale-in and swap (as in the original's worked example).
 */

import { analyzeService } from "./analyzer/analyze.ts";
import { compileAnalytics } from "./analyzer/expressions.ts";
import { plan } from "./planner/plan.ts";
import { descriptor, examplePolicy, GIB } from "../../tests/helpers/planner_fixtures.ts";
import type { PlannerInput } from "./planner/types.ts";
import { seededPrng } from "../domain/random.ts";

const compiled = await compileAnalytics([{
  name: "LOAD",
  expr: "rt / MAX_RT",
  metrics: ["rt"],
  constraints: ["MAX_RT"],
}]);

function world(count: number) {
  const prng = seededPrng(count);
  return Array.from({ length: count }, (_, i) => {
    const d = descriptor(`svc${String(i).padStart(4, "0")}`, { cpuNumber: 1, memory: "256m" });
    d.analytics = ["LOAD"];
    d.constraints = { MAX_RT: 100 };
    return {
      d,
      instances: [0, 1].map((k) => ({
        id: `${i}-${k}`,
        status: "running" as const,
        cpuCores: prng(),
        memoryBytes: prng() * GIB,
        memoryLimit: GIB / 4,
      })),
      metrics: { rt: prng() * 200 },
    };
  });
}

for (const count of [10, 50, 200]) {
  const services = world(count);
  const prng = seededPrng(7);
  Deno.bench(`analyze + plan, ${count} services`, { group: "loop" }, () => {
    const input: PlannerInput = {
      services: {},
      node: {
        totalCpus: 64,
        freeCpus: 8,
        totalMemory: 64 * GIB,
        freeMemory: 8 * GIB,
        baseServices: [],
      },
      policy: examplePolicy(),
    };
    for (const s of services) {
      const a = analyzeService({
        service: s.d,
        instances: s.instances,
        userMetrics: s.metrics,
        compiled,
        totalCpus: 64,
        totalMemory: 64 * GIB,
      });
      input.services[s.d.name] = {
        descriptor: s.d,
        local: { running: 2, pending: 0 },
        cluster: { base: { cpu_avg: a.base.cpu_avg }, user: a.user, active: true },
      };
    }
    plan(input, { strategy: "probdelta", prng });
  });
}
