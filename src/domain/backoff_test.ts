import assert from "node:assert/strict";
import { Backoff } from "./backoff.ts";
import { FakeClock } from "./clock.ts";

Deno.test("Backoff doubles from 250 ms up to 5 s by default, and reset starts over", () => {
  const b = new Backoff(new FakeClock());
  assert.equal(b.attempts, 0);
  assert.equal(b.peek(), 250);
  const delays = Array.from({ length: 8 }, () => b.next());
  assert.deepEqual(delays, [250, 500, 1000, 2000, 4000, 5000, 5000, 5000]);
  assert.equal(b.attempts, 8);
  assert.equal(b.peek(), 5000);
  b.reset();
  assert.equal(b.attempts, 0);
  assert.deepEqual([b.next(), b.next()], [250, 500]);
});

Deno.test("Backoff takes min, max and factor, and keeps them sensible", () => {
  const b = new Backoff(new FakeClock(), { minMs: 100, maxMs: 1000, factor: 3 });
  assert.deepEqual(Array.from({ length: 4 }, () => b.next()), [100, 300, 900, 1000]);
  const capped = new Backoff(new FakeClock(), { minMs: 500, maxMs: 10 });
  assert.equal(capped.maxMs, 500, "max is at least min");
  assert.deepEqual([capped.next(), capped.next()], [500, 500]);
  const flat = new Backoff(new FakeClock(), { minMs: 40, factor: 0.5 });
  assert.equal(flat.factor, 1, "a factor below 1 never shrinks the delay");
  assert.deepEqual([flat.next(), flat.next()], [40, 40]);
  assert.equal(new Backoff(new FakeClock(), { minMs: -5 }).minMs, 0);
});

Deno.test("Backoff.wait() sleeps the next delay on the clock", async () => {
  const clock = new FakeClock(1000);
  const b = new Backoff(clock, { minMs: 100, maxMs: 150 });
  let woke: number | undefined;
  const first = b.wait().then((ms) => woke = ms);
  clock.advance(99);
  await Promise.resolve();
  assert.equal(woke, undefined, "not before the delay");
  clock.advance(1);
  await first;
  assert.equal(woke, 100);
  const second = b.wait();
  clock.advance(150);
  assert.equal(await second, 150);
  assert.equal(b.attempts, 2);
  assert.equal(clock.now(), 1250);
});

Deno.test("Backoff.wait() rejects with the signal's reason when it aborts", async () => {
  const clock = new FakeClock();
  const b = new Backoff(clock);
  const ctl = new AbortController();
  const waiting = b.wait(ctl.signal);
  ctl.abort(new Error("stopped"));
  await assert.rejects(waiting, /stopped/);
  await assert.rejects(b.wait(ctl.signal), /stopped/, "an aborted signal rejects at once");
  assert.equal(b.attempts, 2, "an aborted wait still took its delay");
  assert.equal(b.peek(), 1000);
});
