import assert from "node:assert/strict";
import { clamp01, mean } from "./math.ts";

Deno.test("clamp01() limits to [0, 1] and keeps NaN", () => {
  assert.equal(clamp01(-0.5), 0);
  assert.equal(clamp01(0), 0);
  assert.equal(clamp01(0.375), 0.375);
  assert.equal(clamp01(1), 1);
  assert.equal(clamp01(7), 1);
  assert.equal(clamp01(Infinity), 1);
  assert.equal(clamp01(-Infinity), 0);
  assert.ok(Number.isNaN(clamp01(NaN)));
});

Deno.test("mean() averages in order, undefined for no value", () => {
  assert.equal(mean([]), undefined);
  assert.equal(mean([4]), 4);
  assert.equal(mean([1, 2, 6]), 3);
  assert.equal(mean([0.1, 0.2]), (0.1 + 0.2) / 2);
  assert.equal(mean([-1, 1]), 0);
  assert.ok(Number.isNaN(mean([1, NaN])!));
});
