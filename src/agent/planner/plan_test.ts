import assert from "node:assert/strict";
import { plan } from "./plan.ts";
import {
  examplePolicy,
  rule,
  scripted,
  syntheticInput,
  workedExample,
} from "../../../tests/helpers/planner_fixtures.ts";
import { seededPrng } from "../../domain/random.ts";
import type { PlannerInput } from "./types.ts";

Deno.test("plan candidates", async (t) => {
  const cases: {
    name: string;
    input: PlannerInput;
    count: number;
    names: string[];
  }[] = [
    {
      name: "worked example: 5 + 5 + 2×3 + 1 = 17",
      input: workedExample(4),
      count: 17,
      names: ["scaleout", "scalein", "swap", "noaction"],
    },
    {
      name: "swap disabled: 11",
      input: { ...workedExample(4), policy: { ...examplePolicy(), swap: rule(0.6, false) } },
      count: 11,
      names: ["scaleout", "scalein", "noaction"],
    },
    {
      name: "no service: noaction only",
      input: { ...workedExample(0), services: {} },
      count: 1,
      names: ["noaction"],
    },
  ];
  for (const c of cases) {
    await t.step(c.name, () => {
      const decision = plan(c.input, { strategy: "dummy", prng: seededPrng(1) });
      assert.equal(decision.candidates.length, c.count);
      assert.deepEqual([...new Set(decision.candidates.map((x) => x.name))], c.names);
      assert.equal(decision.candidates.at(-1)?.name, "noaction");
    });
  }
});

Deno.test("plan decisions", async (t) => {
  await t.step("dummy on the worked example with full cores picks swap s2→s3", () => {
    const decision = plan(workedExample(4), { strategy: "dummy", prng: seededPrng(1) });
    assert.equal(decision.chosen.name, "swap");
    assert.deepEqual(decision.chosen.targets, ["s2", "s3"]);
    assert.equal(decision.draw, undefined);
    assert.equal(decision.strategy, "dummy");
    const idle = decision.candidates.at(-1);
    assert.ok(idle && Math.abs(idle.weight - 1 / 6) < 1e-9, "noaction = 1 − 0.833");
  });
  await t.step("dummy with free cores picks scaleout s1", () => {
    const decision = plan(workedExample(0), { strategy: "dummy", prng: seededPrng(1) });
    assert.equal(decision.chosen.name, "scaleout");
    assert.deepEqual(decision.chosen.targets, ["s1"]);
  });
  await t.step("probdelta draws after 17 shuffle draws", () => {
    const draws = [...Array(17).fill(0.999), 0.3];
    const decision = plan(workedExample(4), { strategy: "probdelta", prng: scripted(draws) });
    assert.equal(decision.draw, 0.3);
    // All cores used, so every scaleout is 0; W = 1/6 (scalein s2) + 1/6 (swap s1→s3)
    // + 5/6 (swap s2→s3) + 1/6 (noaction) = 4/3. Unshuffled walk: scalein s2 (0.125) and
    // swap s1→s3 (0.125) are ≤ r; swap s2→s3 (0.625 > 0.3) is returned.
    assert.deepEqual(decision.chosen.targets, ["s2", "s3"]);
  });
  await t.step("unknown strategy throws", () => {
    assert.throws(
      () => plan(workedExample(0), { strategy: "nope", prng: seededPrng(1) }),
      RangeError,
    );
  });
  await t.step("unknown data never scales in", () => {
    const input = workedExample(0);
    for (const state of Object.values(input.services)) {
      state.cluster.base.cpu_avg = undefined;
      state.local.running = 3;
    }
    input.policy = { ...examplePolicy(), scaleout: rule(0.8, false), swap: rule(0.6, false) };
    const prng = seededPrng(7);
    for (let i = 0; i < 50; i++) {
      const decision = plan(input, { strategy: "probdelta", prng });
      assert.equal(decision.chosen.name, "noaction");
      for (const c of decision.candidates.filter((x) => x.name === "scalein")) {
        assert.equal(c.weight, 0);
        assert.deepEqual(c.reasons, ["unknown data: cpu_avg"]);
      }
    }
  });
});

Deno.test("seeded runs are reproducible", async (t) => {
  for (const strategy of ["probdelta", "probcumulative", "dummy", "threshold"]) {
    await t.step(strategy, () => {
      const run = (seed: number) => {
        const prng = seededPrng(seed);
        const input = syntheticInput(20, seededPrng(99));
        return Array.from({ length: 30 }, () => {
          const d = plan(input, { strategy, prng });
          return `${d.chosen.name}:${d.chosen.targets.join("→")}:${d.draw}`;
        });
      };
      assert.deepEqual(run(42), run(42));
      if (strategy.startsWith("prob")) assert.notDeepEqual(run(42), run(43));
    });
  }
});
