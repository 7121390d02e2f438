import assert from "node:assert/strict";
import { simulate } from "./sim.ts";

Deno.test("simulate: 10 agents converge within log2(10) + 3 rounds, in both modes", () => {
  for (const mode of ["full", "delta"] as const) {
    for (const seed of [1, 2, 3, 4, 5]) {
      const r = simulate({ agents: 10, maxFriends: 3, seed, mode });
      const label = `${mode}, seed ${seed}`;
      assert.ok(r.converged, label);
      assert.ok(r.rounds >= 1 && r.rounds <= Math.ceil(Math.log2(10)) + 3, `${label}: ${r.rounds}`);
      assert.ok(r.updateConverged, label);
      assert.ok(r.updateRounds <= Math.ceil(Math.log2(10)) + 3, `${label}: ${r.updateRounds}`);
      assert.ok(r.totalBytes > 0 && r.bytesPerAgentPerRound > 0, label);
      assert.ok(r.steadyFreshness > 0 && r.steadyFreshness <= 1, label);
    }
  }
});

Deno.test("simulate: the same seed gives the same result", () => {
  for (const mode of ["full", "delta"] as const) {
    const a = simulate({ agents: 30, maxFriends: 2, seed: 99, mode });
    const b = simulate({ agents: 30, maxFriends: 2, seed: 99, mode });
    assert.deepEqual(a, b, mode);
  }
});

Deno.test("simulate: the byte count equals real JSON over the wire (parsed and validated)", () => {
  for (const mode of ["full", "delta"] as const) {
    const counted = simulate({ agents: 12, maxFriends: 3, seed: 5, mode });
    const wire = simulate({ agents: 12, maxFriends: 3, seed: 5, mode, wire: true });
    assert.deepEqual(wire, counted, mode);
  }
});

Deno.test("simulate: delta sends less than full once nothing changes", () => {
  const full = simulate({ agents: 50, maxFriends: 3, seed: 3, mode: "full" });
  const delta = simulate({ agents: 50, maxFriends: 3, seed: 3, mode: "delta" });
  assert.ok(delta.idleBytesPerAgentPerRound * 5 < full.idleBytesPerAgentPerRound);
});

Deno.test("simulate: gives up after maxRounds", () => {
  const r = simulate({ agents: 200, maxFriends: 1, seed: 1, maxRounds: 1 });
  assert.equal(r.converged, false);
  assert.equal(r.rounds, 1);
  assert.equal(r.updateRounds, 0);
});

Deno.test("simulate: rejects bad options", () => {
  assert.throws(() => simulate({ agents: 1, maxFriends: 3, seed: 1 }), RangeError);
  assert.throws(() => simulate({ agents: 10, maxFriends: 0, seed: 1 }), RangeError);
  assert.throws(() => simulate({ agents: 10, maxFriends: 3, seed: 1, maxRounds: 0 }), RangeError);
});
