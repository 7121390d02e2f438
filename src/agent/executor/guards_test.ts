import assert from "node:assert/strict";
import { checkGuards, newHistory, noteScaleInWishes, recordScaling } from "./guards.ts";
import type { Candidate } from "../planner/types.ts";
import { FakeClock } from "../../domain/clock.ts";

const settings = {
  scaleOutCooldownMs: 10_000,
  scaleInCooldownMs: 30_000,
  scaleInStabilizationMs: 5_000,
};
const c = (name: Candidate["name"], targets: string[], weight = 0.8): Candidate => ({
  name,
  targets,
  weight,
  actions: {},
  reasons: [],
});

Deno.test("checkGuards() lets a first scale-out through and then applies its cooldown", () => {
  const h = newHistory();
  assert.deepEqual(checkGuards(c("scaleout", ["web"]), h, 0, settings), { ok: true });
  recordScaling(h, c("scaleout", ["web"]), 0);
  const blocked = checkGuards(c("scaleout", ["web"]), h, 4000, settings);
  assert.deepEqual(blocked, { ok: false, reason: "scale-out cooldown of web: 6.0 s left" });
  assert.deepEqual(checkGuards(c("scaleout", ["api"]), h, 4000, settings), { ok: true });
  assert.deepEqual(checkGuards(c("scaleout", ["web"]), h, 10_000, settings), { ok: true });
});

Deno.test("checkGuards() holds scale-in until it was wanted for the whole stabilization window", () => {
  const h = newHistory();
  noteScaleInWishes(h, [c("scalein", ["web"], 0.4)], 0);
  const early = checkGuards(c("scalein", ["web"]), h, 2000, settings);
  assert.equal(early.ok, false);
  assert.match((early as { reason: string }).reason, /not stable yet: wanted for 2\.0 s of 5\.0 s/);
  // The wish lapses (weight 0): the window starts again.
  noteScaleInWishes(h, [c("scalein", ["web"], 0)], 3000);
  noteScaleInWishes(h, [c("scalein", ["web"], 0.4)], 4000);
  assert.equal(checkGuards(c("scalein", ["web"]), h, 8000, settings).ok, false);
  assert.deepEqual(checkGuards(c("scalein", ["web"]), h, 9000, settings), { ok: true });
});

Deno.test("checkGuards() blocks scale-in during the cooldown after any scaling", () => {
  const h = newHistory();
  recordScaling(h, c("scaleout", ["web"]), 0);
  noteScaleInWishes(h, [c("scalein", ["web"], 0.5)], 0);
  const r = checkGuards(c("scalein", ["web"]), h, 20_000, settings);
  assert.deepEqual(r, { ok: false, reason: "scale-in cooldown of web: 10.0 s left" });
  assert.deepEqual(checkGuards(c("scalein", ["web"]), h, 30_000, settings), { ok: true });
});

Deno.test("checkGuards() never blocks noaction", () => {
  const h = newHistory();
  recordScaling(h, c("scaleout", ["web"]), 0);
  assert.deepEqual(checkGuards(c("noaction", ["noservice"]), h, 1, settings), { ok: true });
});

Deno.test("guards fed the monotonic clock ignore a wall step backwards", () => {
  const clock = new FakeClock(1_700_000_000_000);
  const h = newHistory();
  recordScaling(h, c("scaleout", ["web"]), clock.monotonic());
  clock.stepWall(-86_400_000); // NTP steps the wall clock back a day
  clock.advance(settings.scaleOutCooldownMs);
  assert.deepEqual(checkGuards(c("scaleout", ["web"]), h, clock.monotonic(), settings), {
    ok: true,
  });
  assert.equal(clock.now(), 1_700_000_000_000 - 86_400_000 + settings.scaleOutCooldownMs);
});
