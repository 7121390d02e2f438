/**
 * Benchmarks of {@link plan} over deterministic synthetic clusters (`deno bench`).
 *
 * @module
 */

import { plan } from "./plan.ts";
import { syntheticInput } from "../../../tests/helpers/planner_fixtures.ts";
import { seededPrng } from "../../domain/random.ts";

for (const count of [10, 50, 200]) {
  const input = syntheticInput(count, seededPrng(count));
  const prng = seededPrng(1);
  Deno.bench({
    name: `plan() probdelta, ${count} services`,
    group: "plan",
    baseline: count === 50,
    fn: () => {
      plan(input, { strategy: "probdelta", prng });
    },
  });
}
