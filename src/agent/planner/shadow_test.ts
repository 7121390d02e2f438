/** Shadow strategies (shadow.ts): recorded, never disturbing the chosen strategy. */

import assert from "node:assert/strict";
import { parsePolicyConfig, parseServiceDescriptor } from "../../config/documents.ts";
import { seededPrng } from "../../domain/random.ts";
import { plan } from "./plan.ts";
import { runShadows } from "./shadow.ts";
import type { PlannerInput } from "./types.ts";

function input(cpu: number): PlannerInput {
  const descriptor = parseServiceDescriptor({
    Name: "web",
    Image: "img",
    Scaling: { Target: { Metric: "cpu_avg", Value: 0.5 } },
  }, "web.json");
  return {
    services: {
      web: {
        descriptor,
        local: { running: 2, pending: 0 },
        cluster: {
          base: { cpu_avg: cpu, memory_avg: 0.1 },
          user: {},
          active: true,
          instances: 2,
          running: 2,
          pending: 0,
        },
      },
    },
    node: { totalCpus: 8, freeCpus: 6, totalMemory: 8e9, freeMemory: 6e9, baseServices: [] },
    policy: parsePolicyConfig({
      Scaleout: { Enable: true, Threshold: 0.8, Metrics: ["cpu_avg"] },
      Scalein: { Enable: true, Threshold: 0.2, Metrics: ["cpu_avg"] },
    }, "policy.json"),
  };
}

Deno.test("runShadows() records what each other strategy would do, on the same inputs", () => {
  const i = input(0.7);
  const chosen = plan(i, { strategy: "probdelta", prng: seededPrng(3) });
  const shadows = runShadows(i, {
    chosen,
    strategies: ["probdelta", "target", "threshold", "target"],
    seed: 1,
  });
  assert.deepEqual(
    shadows.map((s) => s.strategy),
    ["target", "threshold"],
    "chosen and repeats skipped",
  );
  const target = shadows[0]!;
  assert.equal(target.policy, "scaleout");
  assert.equal(target.step, 1);
  assert.equal(target.desired, 3);
  assert.match(target.why, /⌈2 × 0\.7 \/ 0\.5⌉ = 3/);
  assert.equal(shadows[1]!.policy, "noaction", "0.7 is under the 0.8 threshold");
  assert.equal(target.agrees, chosen.chosen.name === "scaleout");
});

Deno.test("runShadows() draws from its own seeded source: the same seed, the same record", () => {
  const i = input(0.9);
  const chosen = plan(i, { strategy: "probdelta", prng: seededPrng(5) });
  const a = runShadows(i, { chosen, strategies: ["probcumulative"], seed: 9 });
  const b = runShadows(i, { chosen, strategies: ["probcumulative"], seed: 9 });
  assert.deepEqual(a, b);
  assert.equal(typeof a[0]?.draw, "number");
});
