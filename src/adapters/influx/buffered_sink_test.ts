import assert from "node:assert/strict";
import { FakeClock } from "../../domain/clock.ts";
import type { MetricPoint } from "../../ports/metric_sink.ts";
import {
  BufferedSink,
  type BufferedSinkOptions,
  isRejection,
  RejectedWriteError,
} from "./buffered_sink.ts";

/** Lets pending promise callbacks run. */
async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await Promise.resolve();
}

function points(from: number, to: number): MetricPoint[] {
  const out: MetricPoint[] = [];
  for (let i = from; i < to; i++) {
    out.push({ measurement: "m", tags: { n: "x" }, fields: { i }, time: i });
  }
  return out;
}

function line(i: number): string {
  return `m,n=x i=${i} ${i}`;
}

/** A writer that records accepted batches and fails while `failing` is set. */
class FakeWriter {
  failing = false;
  /** When set, batches holding this text are refused for good (HTTP 400). */
  poison: string | undefined;
  calls = 0;
  batches: string[][] = [];
  /** When set, each call waits for `release()`. */
  hold = false;
  #waiters: { resolve: () => void; reject: (e: unknown) => void }[] = [];

  readonly write = async (body: string, signal: AbortSignal): Promise<void> => {
    this.calls++;
    if (this.hold) {
      await new Promise<void>((resolve, reject) => {
        this.#waiters.push({ resolve, reject });
        signal.addEventListener("abort", () => reject(signal.reason), { once: true });
      });
    }
    if (this.failing) throw new Error("down");
    if (this.poison !== undefined && body.includes(this.poison)) {
      throw new RejectedWriteError(400, "bad point");
    }
    this.batches.push(body.split("\n"));
  };

  release(): void {
    for (const w of this.#waiters.splice(0)) w.resolve();
  }

  get lines(): string[] {
    return this.batches.flat();
  }
}

function sink(w: FakeWriter, clock: FakeClock, opts: Partial<BufferedSinkOptions> = {}) {
  return new BufferedSink(w.write, { kind: "test", clock, ...opts });
}

Deno.test("buffered sink: flushes on the timer, in one batch", async () => {
  const clock = new FakeClock(0);
  const w = new FakeWriter();
  const s = sink(w, clock);
  s.write(points(0, 3));
  assert.equal(s.stats().buffered, 3);
  await settle();
  assert.equal(w.calls, 0);
  clock.advance(999);
  await settle();
  assert.equal(w.calls, 0);
  clock.advance(1);
  await settle();
  assert.deepEqual(w.batches, [[line(0), line(1), line(2)]]);
  assert.deepEqual(s.stats(), {
    buffered: 0,
    written: 3,
    dropped: 0,
    failedWrites: 0,
    rejected: 0,
    lastError: undefined,
  });
  await s.close();
});

Deno.test("isRejection() is true for 4xx but 429", () => {
  for (const status of [400, 401, 403, 404, 413, 422]) assert.ok(isRejection(status), `${status}`);
  for (const status of [200, 204, 429, 500, 502, 503]) assert.ok(!isRejection(status), `${status}`);
});

Deno.test("buffered sink: a rejected batch is dropped and counted, not retried; the rest goes on", async () => {
  const clock = new FakeClock(0);
  const w = new FakeWriter();
  const s = sink(w, clock, { maxBatch: 2 });
  w.poison = line(2);
  s.write(points(0, 6));
  await settle();
  // batches [0,1] ok, [2,3] refused, [4,5] ok: all in one drain, no backoff
  assert.equal(w.calls, 3);
  assert.deepEqual(w.lines, [line(0), line(1), line(4), line(5)]);
  const st = s.stats();
  assert.equal(st.rejected, 2);
  assert.equal(st.written, 4);
  assert.equal(st.buffered, 0);
  assert.equal(st.failedWrites, 0);
  // nothing comes back later
  clock.advance(60_000);
  await settle();
  assert.equal(w.calls, 3);
  // a rejection while failing ends the backoff: the database answered
  w.poison = undefined;
  w.failing = true;
  s.write(points(10, 11));
  clock.advance(1000);
  await settle();
  assert.equal(s.stats().failedWrites, 1);
  w.failing = false;
  w.poison = line(10);
  clock.advance(250);
  await settle();
  assert.equal(s.stats().rejected, 3);
  s.write(points(20, 21));
  clock.advance(1000);
  await settle();
  assert.deepEqual(w.lines.at(-1), line(20));
  await s.close();
});

Deno.test("buffered sink: batches of at most maxBatch, a full batch goes at once", async () => {
  const clock = new FakeClock(0);
  const w = new FakeWriter();
  const s = sink(w, clock, { maxBatch: 4 });
  s.write(points(0, 10));
  await settle();
  // a full batch was there: no need to wait for the timer; the drain writes all of it
  assert.deepEqual(w.batches.map((b) => b.length), [4, 4, 2]);
  assert.deepEqual(w.lines, points(0, 10).map((_, i) => line(i)));
  assert.equal(s.stats().written, 10);
  await s.close();
});

Deno.test("buffered sink: fails, backs off (250 ms doubling), recovers, never resends", async () => {
  const clock = new FakeClock(0);
  const w = new FakeWriter();
  const s = sink(w, clock, { maxBatch: 3, maxBackoffMs: 1000 });
  w.failing = true;
  s.write(points(0, 2));
  clock.advance(1000);
  await settle();
  assert.equal(w.calls, 1);
  assert.equal(s.stats().failedWrites, 1);
  assert.equal(s.stats().lastError, "down");
  assert.equal(s.stats().buffered, 2);
  // no attempt before 250 ms
  clock.advance(249);
  await settle();
  assert.equal(w.calls, 1);
  clock.advance(1);
  await settle();
  assert.equal(w.calls, 2);
  // then 500 ms, then 1000 (capped at maxBackoffMs), then 1000 again
  s.write(points(2, 5));
  clock.advance(499);
  await settle();
  assert.equal(w.calls, 2);
  clock.advance(1);
  await settle();
  assert.equal(w.calls, 3);
  clock.advance(999);
  await settle();
  assert.equal(w.calls, 3);
  clock.advance(1);
  await settle();
  assert.equal(w.calls, 4);
  clock.advance(1000);
  await settle();
  assert.equal(w.calls, 5);
  assert.equal(s.stats().failedWrites, 5);
  assert.equal(s.stats().buffered, 5);
  assert.equal(s.stats().dropped, 0);
  w.failing = false;
  clock.advance(1000);
  await settle();
  assert.deepEqual(w.lines, points(0, 5).map((_, i) => line(i)));
  assert.deepEqual(w.batches.map((b) => b.length), [3, 2]);
  assert.deepEqual(s.stats(), {
    buffered: 0,
    written: 5,
    dropped: 0,
    failedWrites: 5,
    rejected: 0,
    lastError: undefined,
  });
  // the backoff was reset: the next points go on the normal timer
  s.write(points(5, 6));
  clock.advance(1000);
  await settle();
  assert.deepEqual(w.lines, points(0, 6).map((_, i) => line(i)));
  await s.close();
});

Deno.test("buffered sink: a batch written before a failure is not sent again (#23)", async () => {
  const clock = new FakeClock(0);
  let n = 0;
  const sent: string[] = [];
  const s = new BufferedSink(async (body) => {
    await Promise.resolve();
    n++;
    if (n === 2) throw new Error("second batch fails");
    sent.push(...body.split("\n"));
  }, { kind: "test", clock, maxBatch: 2 });
  s.write(points(0, 5));
  await s.flush();
  assert.deepEqual(sent, [line(0), line(1)]);
  assert.equal(s.stats().buffered, 3);
  await s.flush();
  assert.deepEqual(sent, points(0, 5).map((_, i) => line(i)));
  assert.equal(s.stats().written, 5);
  assert.equal(s.stats().failedWrites, 1);
  await s.close();
});

Deno.test("buffered sink: overflow drops the oldest points and counts them", async () => {
  const clock = new FakeClock(0);
  const w = new FakeWriter();
  w.failing = true;
  const s = sink(w, clock, { maxBuffered: 5 });
  s.write(points(0, 3));
  s.write(points(3, 8));
  assert.equal(s.stats().dropped, 3);
  assert.equal(s.stats().buffered, 5);
  await s.flush();
  assert.equal(s.stats().failedWrites, 1);
  s.write(points(8, 10));
  assert.equal(s.stats().dropped, 5);
  w.failing = false;
  await s.flush();
  assert.deepEqual(w.lines, [5, 6, 7, 8, 9].map(line));
  assert.deepEqual(s.stats(), {
    buffered: 0,
    written: 5,
    dropped: 5,
    failedWrites: 1,
    rejected: 0,
    lastError: undefined,
  });
  await s.close();
});

Deno.test("buffered sink: overflow while a batch is in flight drops the oldest once it fails", async () => {
  const clock = new FakeClock(0);
  const w = new FakeWriter();
  w.hold = true;
  w.failing = true;
  const s = sink(w, clock, { maxBuffered: 3 });
  s.write(points(0, 3));
  const f = s.flush();
  await settle();
  assert.equal(w.calls, 1);
  s.write(points(3, 6));
  // the in-flight batch is not dropped yet (it may still succeed)
  assert.equal(s.stats().dropped, 0);
  assert.equal(s.stats().buffered, 6);
  w.release();
  await f;
  assert.equal(s.stats().dropped, 3);
  assert.equal(s.stats().buffered, 3);
  w.hold = false;
  w.failing = false;
  await s.flush();
  assert.deepEqual(w.lines, [3, 4, 5].map(line));
  assert.equal(s.stats().written + s.stats().dropped, 6);
  await s.close();
});

Deno.test("buffered sink: in-flight batch that succeeds is counted written, not dropped", async () => {
  const clock = new FakeClock(0);
  const w = new FakeWriter();
  w.hold = true;
  const s = sink(w, clock, { maxBuffered: 3 });
  s.write(points(0, 3));
  const f = s.flush();
  await settle();
  s.write(points(3, 6));
  w.release();
  w.hold = false;
  await f;
  assert.deepEqual(w.lines, points(0, 6).map((_, i) => line(i)));
  assert.deepEqual(s.stats(), {
    buffered: 0,
    written: 6,
    dropped: 0,
    failedWrites: 0,
    rejected: 0,
    lastError: undefined,
  });
  await s.close();
});

Deno.test("buffered sink: write never throws; bad points are skipped; after close counts dropped", async () => {
  const clock = new FakeClock(0);
  const w = new FakeWriter();
  const s = sink(w, clock);
  s.write([{ measurement: "m", tags: {}, fields: { v: NaN }, time: 1 }]);
  // deno-lint-ignore no-explicit-any
  s.write([null as any]);
  assert.equal(s.stats().buffered, 0);
  s.write(points(0, 2));
  await s.close();
  assert.deepEqual(w.lines, [line(0), line(1)]);
  s.write(points(2, 3));
  assert.equal(s.stats().dropped, 1);
  assert.equal(s.stats().buffered, 0);
  await s.close();
});

Deno.test("buffered sink: close gives up after closeTimeoutMs and aborts the write (real clock)", async () => {
  const w = new FakeWriter();
  w.hold = true;
  const s = new BufferedSink(w.write, { kind: "test", closeTimeoutMs: 50 });
  s.write(points(0, 4));
  const t0 = Date.now();
  await s.close();
  const took = Date.now() - t0;
  assert.ok(took >= 40 && took < 1000, `close took ${took} ms`);
  assert.equal(s.stats().buffered, 4);
  assert.equal(s.stats().written, 0);
  assert.equal(s.stats().failedWrites, 1);
});

Deno.test("buffered sink: close flushes with the real clock and leaves no timer", async () => {
  const w = new FakeWriter();
  const s = new BufferedSink(w.write, { kind: "test", flushIntervalMs: 60_000 });
  s.write(points(0, 3));
  await s.close();
  assert.equal(w.lines.length, 3);
});

Deno.test("buffered sink: the timer path keeps flushing with the real clock", async () => {
  const w = new FakeWriter();
  const s = new BufferedSink(w.write, { kind: "test", flushIntervalMs: 10 });
  s.write(points(0, 3));
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(w.lines.length, 3);
  s.write(points(3, 4));
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(w.lines.length, 4);
  await s.close();
});
