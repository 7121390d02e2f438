import assert from "node:assert/strict";
import {
  createStrategyRegistry,
  dummy,
  probcumulative,
  probdelta,
  shuffle,
  type Strategy,
  strategyFor,
  threshold,
} from "./strategies.ts";
import { scripted } from "../../../tests/helpers/planner_fixtures.ts";
import type { Candidate } from "./types.ts";
import { STRATEGY_NAMES } from "../../domain/model.ts";
import { seededPrng } from "../../domain/random.ts";

function candidates(weights: number[], last: "noaction" | "scaleout" = "scaleout"): Candidate[] {
  return weights.map((weight, i) => ({
    name: i === weights.length - 1 ? last : "scaleout",
    weight,
    targets: [`c${i}`],
    actions: { [`c${i}`]: ["start"] },
    reasons: [],
  }));
}

/**
 * Shuffle draws that leave n items in place: the draw for index i is 0.999, so
 * j = ⌊0.999·(i+1)⌋ = i. The strategy's r follows them.
 */
function unshuffled(n: number, r: number): number[] {
  return [...Array(n).fill(0.999), r];
}

Deno.test("shuffle consumes one draw per item, j = ⌊u·(i+1)⌋", async (t) => {
  const cases: { name: string; draws: number[]; expected: string[] }[] = [
    {
      name: "draws near 1 keep the order",
      draws: [0.999, 0.999, 0.999],
      expected: ["a", "b", "c"],
    },
    { name: "draws of 0 rotate", draws: [0, 0, 0], expected: ["c", "a", "b"] },
    { name: "i=1 swaps with 0", draws: [0, 0, 0.999], expected: ["b", "a", "c"] },
  ];
  for (const c of cases) {
    await t.step(c.name, () => {
      const input = ["a", "b", "c"];
      assert.deepEqual(shuffle(input, scripted(c.draws)), c.expected);
      assert.deepEqual(input, ["a", "b", "c"], "input not mutated");
    });
  }
});

Deno.test("strategy examples of the original's tests", async (t) => {
  const cases: {
    name: string;
    strategy: typeof probcumulative;
    weights: number[];
    r: number;
    index: number;
  }[] = [
    {
      name: "probcumulative r=0.4 ⇒ 2nd",
      strategy: probcumulative,
      weights: [0.2, 0.4, 0.6, 0.2],
      r: 0.4,
      index: 1,
    },
    {
      name: "probcumulative r=0.8 ⇒ 3rd",
      strategy: probcumulative,
      weights: [0.2, 0.4, 0.6, 0.2],
      r: 0.8,
      index: 2,
    },
    {
      name: "probcumulative r=0 ⇒ 1st",
      strategy: probcumulative,
      weights: [0.2, 0.4, 0.6, 0.2],
      r: 0,
      index: 0,
    },
    {
      name: "probdelta r=0.4 ⇒ 0.6",
      strategy: probdelta,
      weights: [0.1, 0.4, 0.6, 0.2],
      r: 0.4,
      index: 2,
    },
    {
      name: "probdelta r=0.8 ⇒ 0.6",
      strategy: probdelta,
      weights: [0.1, 0.4, 0.6, 0.2],
      r: 0.8,
      index: 2,
    },
    {
      name: "probdelta r=0.05 ⇒ first above r",
      strategy: probdelta,
      weights: [0.1, 0.4, 0.6, 0.2],
      r: 0.05,
      index: 0,
    },
  ];
  for (const c of cases) {
    await t.step(c.name, () => {
      const list = candidates(c.weights);
      const { chosen, draw } = c.strategy(list, scripted(unshuffled(list.length, c.r)));
      assert.equal(chosen, list[c.index]);
      assert.equal(draw, c.r);
    });
  }
});

Deno.test("probcumulative never returns nothing", async (t) => {
  await t.step("floating shortfall ⇒ last positive candidate", () => {
    // 0.1/0.6 + 0.2/0.6 + 0.3/0.6 sums to 0.9999999999999999 (1 − 2⁻⁵³), which is not > r
    // for the largest r below 1: the original returned no candidate here.
    const list = candidates([0.1, 0.2, 0.3, 0]);
    const r = 1 - 2 ** -53;
    const { chosen } = probcumulative(list, scripted(unshuffled(4, r)));
    assert.equal(chosen, list[2]);
  });
  await t.step("all zero ⇒ first (highest) candidate", () => {
    const list = candidates([0, 0, 0]);
    assert.equal(probcumulative(list, scripted(unshuffled(3, 0.5))).chosen, list[0]);
  });
});

Deno.test("deterministic strategies", async (t) => {
  const cases: {
    name: string;
    strategy: Strategy;
    weights: number[];
    last?: "noaction";
    index: number;
  }[] = [
    { name: "dummy picks the max", strategy: dummy, weights: [0.2, 0.9, 0.4, 0.1], index: 1 },
    { name: "dummy: first wins ties", strategy: dummy, weights: [0.3, 0.7, 0.7, 0.3], index: 1 },
    {
      name: "dummy: the highest, not the last candidate",
      strategy: dummy,
      weights: [0.8, 0.2],
      last: "noaction",
      index: 0,
    },
    {
      name: "threshold: ≥ 0.5 acts",
      strategy: threshold,
      weights: [0.2, 0.5, 0.5],
      last: "noaction",
      index: 1,
    },
    {
      name: "threshold: < 0.5 idles",
      strategy: threshold,
      weights: [0.2, 0.45, 0.55],
      last: "noaction",
      index: 2,
    },
    {
      name: "threshold: without noaction ⇒ max",
      strategy: threshold,
      weights: [0.2, 0.3],
      index: 1,
    },
  ];
  for (const c of cases) {
    await t.step(c.name, () => {
      const list = candidates(c.weights, c.last);
      const result = c.strategy(list, () => assert.fail("no draw expected"));
      assert.equal(result.chosen, list[c.index]);
    });
  }
});

Deno.test("registry and lookup", async (t) => {
  await t.step("registry holds every STRATEGY_NAMES entry", () => {
    assert.deepEqual([...createStrategyRegistry().keys()], [...STRATEGY_NAMES]);
  });
  await t.step("registries are independent", () => {
    const a = createStrategyRegistry();
    a.delete("dummy");
    assert.ok(createStrategyRegistry().has("dummy"));
  });
  await t.step("unknown strategy throws RangeError naming known ones", () => {
    assert.throws(() => strategyFor("bogus"), (error: unknown) => {
      assert.ok(error instanceof RangeError);
      assert.match(error.message, /"bogus"/);
      assert.match(error.message, /probdelta, probcumulative, dummy, threshold/);
      return true;
    });
  });
  await t.step("empty candidate list throws", () => {
    assert.throws(() => probdelta([], seededPrng(1)), RangeError);
  });
});
