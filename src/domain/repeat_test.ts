import assert from "node:assert/strict";
import { FakeClock } from "./clock.ts";
import { repeat } from "./repeat.ts";

Deno.test("repeat() runs, sleeps on the clock, survives a failing run, stops on abort", async () => {
  const clock = new FakeClock(0);
  const stop = new AbortController();
  const runs: number[] = [];
  const errors: unknown[] = [];
  const task = repeat(() => {
    runs.push(clock.now());
    if (runs.length === 2) return Promise.reject(new Error("boom"));
    return Promise.resolve();
  }, { clock, signal: stop.signal, delayMs: () => 1000, onError: (e) => errors.push(e) });
  await Promise.resolve();
  assert.deepEqual(runs, [0]);
  for (let i = 0; i < 3; i++) {
    clock.advance(1000);
    await new Promise((r) => setTimeout(r, 0));
  }
  assert.deepEqual(runs, [0, 1000, 2000, 3000]);
  assert.equal(errors.length, 1);
  stop.abort();
  await task;
  clock.advance(5000);
  await new Promise((r) => setTimeout(r, 0));
  assert.equal(runs.length, 4, "no run after abort");
});
