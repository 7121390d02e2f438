import assert from "node:assert/strict";
import { CounterWindow, GaugeWindow, ValueWindow } from "./window.ts";

type Sample = readonly [at: number, value: number];

function counter(samples: readonly Sample[], maxSamples?: number): CounterWindow {
  const w = new CounterWindow(maxSamples === undefined ? undefined : { maxSamples });
  for (const [at, value] of samples) w.add(at, value);
  return w;
}

/** One core busy = 1e9 ns of CPU time per second. */
const CORE = 1e9;

const rateCases: {
  name: string;
  samples: Sample[];
  now: number;
  windowMs: number;
  value: number | undefined;
  samplesUsed?: number;
  spanMs?: number;
  maxSamples?: number;
}[] = [
  {
    name: "steady one core over the window",
    samples: [[0, 0], [1000, CORE], [2000, 2 * CORE], [3000, 3 * CORE]],
    now: 3000,
    windowMs: 3000,
    value: CORE,
    samplesUsed: 4,
    spanMs: 3000,
  },
  {
    name: "idle time counts: busy 1 s then idle 3 s reads a quarter core",
    samples: [[0, 0], [1000, CORE], [2000, CORE], [3000, CORE], [4000, CORE]],
    now: 4000,
    windowMs: 4000,
    value: CORE / 4,
  },
  {
    name: "a tenth of a core, window longer than the data",
    samples: [[0, 0], [1000, 1e8], [2000, 2e8], [3000, 3e8]],
    now: 3000,
    windowMs: 10_000,
    value: 1e8,
  },
  {
    name: "unknown with no sample",
    samples: [],
    now: 1000,
    windowMs: 1000,
    value: undefined,
    samplesUsed: 0,
  },
  {
    name: "unknown with one sample",
    samples: [[500, 10]],
    now: 1000,
    windowMs: 1000,
    value: undefined,
    samplesUsed: 1,
  },
  {
    name: "unknown when the span is under 250 ms",
    samples: [[0, 0], [200, 100]],
    now: 200,
    windowMs: 1000,
    value: undefined,
    samplesUsed: 2,
    spanMs: 200,
  },
  {
    name: "known at exactly 250 ms",
    samples: [[0, 0], [250, 250]],
    now: 250,
    windowMs: 1000,
    value: 1000,
  },
  {
    name: "anchor: newest sample before the window start is the first sample",
    // window [5000, 10000]; samples at 4000 (anchor), 6000, 10000; 1000 is ignored.
    samples: [[1000, 0], [4000, 3000], [6000, 5000], [10_000, 9000]],
    now: 10_000,
    windowMs: 5000,
    value: 1000,
    samplesUsed: 3,
    spanMs: 6000,
  },
  {
    name: "a sample exactly at the window start is the anchor",
    samples: [[0, 0], [5000, 100], [10_000, 600]],
    now: 10_000,
    windowMs: 5000,
    value: 100,
    samplesUsed: 2,
    spanMs: 5000,
  },
  {
    name: "samples after now are ignored",
    samples: [[0, 0], [1000, 1000], [2000, 99_999]],
    now: 1000,
    windowMs: 1000,
    value: 1000,
    samplesUsed: 2,
  },
  {
    name: "only the anchor (no sample in the window) is unknown",
    samples: [[0, 0], [1000, 1000]],
    now: 2500,
    windowMs: 1000,
    value: undefined,
    samplesUsed: 1,
  },
  {
    name: "counter going backwards (restart) resets the history",
    samples: [[0, 0], [1000, 5 * CORE], [2000, 1000], [3000, 1000 + CORE]],
    now: 3000,
    windowMs: 10_000,
    value: CORE,
    samplesUsed: 2,
    spanMs: 1000,
  },
  {
    name: "restart with a single sample since is unknown",
    samples: [[0, 0], [1000, 5 * CORE], [2000, 10]],
    now: 2000,
    windowMs: 10_000,
    value: undefined,
    samplesUsed: 1,
  },
  {
    name: "time going backwards resets the history",
    samples: [[5000, 0], [6000, 100], [1000, 200], [2000, 300]],
    now: 2000,
    windowMs: 10_000,
    value: 100,
    samplesUsed: 2,
  },
  {
    name: "a second sample at the same time replaces the first",
    samples: [[0, 0], [1000, 500], [1000, 1000]],
    now: 1000,
    windowMs: 1000,
    value: 1000,
    samplesUsed: 2,
  },
  {
    name: "bound keeps the newest samples",
    samples: [[0, 0], [1000, 1_000_000], [2000, 1_000_500], [3000, 1_001_000]],
    maxSamples: 2,
    now: 3000,
    windowMs: 10_000,
    value: 500,
    samplesUsed: 2,
  },
];

for (const c of rateCases) {
  Deno.test(`CounterWindow.rate: ${c.name}`, () => {
    const r = counter(c.samples, c.maxSamples).rate(c.now, c.windowMs);
    assert.equal(r.value, c.value);
    if (c.samplesUsed !== undefined) assert.equal(r.samples, c.samplesUsed);
    if (c.spanMs !== undefined) assert.equal(r.spanMs, c.spanMs);
  });
}

Deno.test("CounterWindow: prunes samples older than two windows", () => {
  const w = counter([[0, 0], [1000, 1], [2000, 2], [9000, 9], [10_000, 10]]);
  assert.equal(w.size, 5);
  w.rate(10_000, 4000); // keeps samples at or after 2000
  assert.equal(w.size, 3);
  w.rate(20_000, 4000);
  assert.equal(w.size, 0);
});

Deno.test("CounterWindow: a short query does not prune history a longer one needs", () => {
  const w = counter([[0, 0], [1000, 1000], [2000, 2000], [3000, 3000], [4000, 4000]]);
  assert.equal(w.rate(4000, 2000).value, 1000);
  assert.deepEqual(w.rate(4000, 0), { value: undefined, samples: 1, spanMs: 0 });
  assert.equal(w.rate(4000, 500).value, 1000); // anchor at 3000
  assert.equal(w.size, 5);
  assert.deepEqual(w.rate(4000, 4000), { value: 1000, samples: 5, spanMs: 4000 });
});

Deno.test("GaugeWindow: a zero window covers samples at now only", () => {
  const w = new GaugeWindow();
  w.add(0, 5);
  w.add(1000, 7);
  assert.deepEqual(w.mean(1000, 1000), { value: 6, count: 2 });
  assert.deepEqual(w.mean(1000, 0), { value: 7, count: 1 });
  assert.deepEqual(w.mean(1000, 1000), { value: 6, count: 2 });
});

Deno.test("CounterWindow: stays within its bound under many samples", () => {
  const w = new CounterWindow({ maxSamples: 100 });
  for (let i = 0; i < 50_000; i++) w.add(i * 10, i);
  assert.equal(w.size, 100);
  const r = w.rate(499_990, 1_000_000);
  assert.equal(r.samples, 100);
  assert.equal(r.value, 100); // 1 unit per 10 ms
});

Deno.test("CounterWindow: default bound is 10 000", () => {
  const w = new CounterWindow();
  for (let i = 0; i < 10_500; i++) w.add(i, i);
  assert.equal(w.size, 10_000);
});

const invalidCases: { name: string; run: () => unknown }[] = [
  { name: "non-finite value", run: () => new CounterWindow().add(0, NaN) },
  { name: "non-finite time", run: () => new GaugeWindow().add(Infinity, 1) },
  { name: "infinite window", run: () => new CounterWindow().rate(0, Infinity) },
  { name: "negative window", run: () => new ValueWindow().mean(0, -1) },
  { name: "bound below 2", run: () => new ValueWindow({ maxSamples: 1 }) },
];

for (const c of invalidCases) {
  Deno.test(`windows reject ${c.name}`, () => {
    assert.throws(c.run, RangeError);
  });
}

const meanCases: {
  name: string;
  samples: Sample[];
  now: number;
  windowMs: number;
  value: number | undefined;
  count: number;
  maxSamples?: number;
}[] = [
  {
    name: "no sample is unknown, not 0",
    samples: [],
    now: 1000,
    windowMs: 1000,
    value: undefined,
    count: 0,
  },
  {
    name: "mean of the samples in the window",
    samples: [[0, 100], [500, 200], [1000, 300]],
    now: 1000,
    windowMs: 1000,
    value: 200,
    count: 3,
  },
  {
    name: "window start is inclusive, older samples excluded",
    samples: [[0, 1000], [499, 1000], [500, 10], [1000, 20]],
    now: 1000,
    windowMs: 500,
    value: 15,
    count: 2,
  },
  {
    name: "samples after now are excluded",
    samples: [[0, 10], [2000, 1000]],
    now: 1000,
    windowMs: 1000,
    value: 10,
    count: 1,
  },
  {
    name: "a metric not seen in the window is unknown",
    samples: [[0, 5]],
    now: 5000,
    windowMs: 1000,
    value: undefined,
    count: 0,
  },
  {
    name: "time going backwards resets the history",
    samples: [[5000, 100], [1000, 4]],
    now: 5000,
    windowMs: 10_000,
    value: 4,
    count: 1,
  },
  {
    name: "bound keeps the newest samples",
    samples: [[0, 100], [1, 1], [2, 3]],
    now: 2,
    windowMs: 1000,
    value: 2,
    count: 2,
    maxSamples: 2,
  },
];

for (const c of meanCases) {
  for (const make of [GaugeWindow, ValueWindow]) {
    Deno.test(`${make.name}.mean: ${c.name}`, () => {
      const w = new make(c.maxSamples === undefined ? undefined : { maxSamples: c.maxSamples });
      for (const [at, value] of c.samples) w.add(at, value);
      assert.deepEqual(w.mean(c.now, c.windowMs), { value: c.value, count: c.count });
    });
  }
}

Deno.test("ValueWindow: prunes values older than two windows", () => {
  const w = new ValueWindow();
  for (let at = 0; at <= 10_000; at += 1000) w.add(at, at);
  assert.equal(w.size, 11);
  assert.deepEqual(w.mean(10_000, 2000), { value: 9000, count: 3 });
  assert.equal(w.size, 5); // 6000..10000
});
