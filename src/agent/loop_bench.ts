/**
 * One loop's pure work — the analyze, cluster-merge and plan phases exactly as the loop runs
 * them — for 10, 50 and 200 services (`deno bench -A src/agent/loop_bench.ts`). Each service has
 * 2 running instances and one analytic; the policy enables scale-out, scale-in and swap (as in
 * the original's worked example); the cluster is this node alone.
 */

import { analyzeServices, type InstanceSample } from "./analyzer/analysis.ts";
import { compileAnalytics } from "./analyzer/expressions.ts";
import { soloCluster } from "./gossip/cluster_context.ts";
import { mergeCluster } from "./gossip/merge.ts";
import { plan } from "./planner/plan.ts";
import { descriptor, examplePolicy, GIB } from "../../tests/helpers/planner_fixtures.ts";
import type { ServiceDescriptor } from "../domain/model.ts";
import { seededPrng } from "../domain/random.ts";

const compiled = await compileAnalytics([{
  name: "LOAD",
  expr: "rt / MAX_RT",
  metrics: ["rt"],
  constraints: ["MAX_RT"],
}]);

function world(count: number) {
  const prng = seededPrng(count);
  const services = new Map<string, ServiceDescriptor>();
  const instances: InstanceSample[] = [];
  const userMetrics: Record<string, Record<string, number>> = {};
  for (let i = 0; i < count; i++) {
    const d = descriptor(`svc${String(i).padStart(4, "0")}`, { cpuNumber: 1, memory: "256m" });
    d.analytics = ["LOAD"];
    d.constraints = { MAX_RT: 100 };
    services.set(d.name, d);
    for (const k of [0, 1]) {
      instances.push({
        id: `${i}-${k}`,
        service: d.name,
        phase: "running",
        cpuCores: prng(),
        memoryBytes: prng() * GIB,
        memory: GIB / 4,
        sampleAgeMs: 500,
      });
    }
    userMetrics[d.name] = { rt: prng() * 200 };
  }
  return { services, instances, userMetrics };
}

const node = { totalCpus: 64, freeCpus: 8, totalMemory: 64 * GIB, freeMemory: 8 * GIB };

for (const count of [10, 50, 200]) {
  const w = world(count);
  const prng = seededPrng(7);
  const context = soloCluster("n1");
  Deno.bench(`analyze + plan, ${count} services`, { group: "loop" }, () => {
    const analysis = analyzeServices({ ...w, compiled, node });
    const merged = mergeCluster({ analysis, services: w.services, node, context, now: 0 });
    plan({
      services: merged.planner,
      node: { ...node, baseServices: [], usedCores: [] },
      policy: examplePolicy(),
    }, { strategy: "probdelta", prng });
  });
}
