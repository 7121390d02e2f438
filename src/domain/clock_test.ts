import assert from "node:assert/strict";
import { FakeClock, systemClock } from "./clock.ts";

Deno.test("FakeClock: advance moves both times; stepWall moves the wall time alone", async () => {
  const clock = new FakeClock(1_000_000);
  let woke = false;
  const sleeping = clock.sleep(5_000).then(() => woke = true);
  clock.stepWall(10_000);
  await Promise.resolve();
  assert.equal(woke, false, "a wall step wakes no sleeper");
  assert.deepEqual([clock.now(), clock.monotonic()], [1_010_000, 0]);
  clock.stepWall(-60_000);
  clock.advance(5_000);
  await sleeping;
  assert.deepEqual([clock.now(), clock.monotonic()], [955_000, 5_000]);
});

Deno.test("systemClock.monotonic never goes back", () => {
  let last = systemClock.monotonic();
  for (let i = 0; i < 1000; i++) {
    const t = systemClock.monotonic();
    assert.ok(t >= last);
    last = t;
  }
});
