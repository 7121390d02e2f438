/**
 * Sliding time windows over metric samples: a cumulative counter (container CPU time), a gauge
 * (memory in use) and pushed values (user metrics). Pure: times are passed in (milliseconds,
 * from one clock), nothing is read from the environment.
 *
 * Fixes of the original (docs/compat.md#d12 and #d15):
 * - a window covers the last `windowMs` milliseconds, not "since the previous loop", so a loop
 *   shorter than the sampling batch no longer reads 0;
 * - CPU is a rate over the whole window, so idle time counts (no upward bias);
 * - a window without data reads `undefined` (unknown), never 0.
 *
 * Every window keeps at most `maxSamples` samples (default {@link DEFAULT_MAX_SAMPLES}), dropping
 * the oldest, and prunes samples older than two windows when queried ("window" being the longest
 * one queried so far, so a short query never drops history a longer one needs). A window of 0 ms
 * is allowed: its rate is unknown, its mean covers samples at `now` only. Samples must come in
 * time order: a sample older than the newest one means the clock went backwards, and the
 * history is reset (the old samples belong to another time frame).
 *
 * @module
 */

/** Default bound of the samples a window keeps. */
export const DEFAULT_MAX_SAMPLES = 10_000;

/** Shortest span, in milliseconds, over which a counter rate is computed. */
export const MIN_RATE_SPAN_MS = 250;

/** Options of a window. */
export interface WindowOptions {
  /** Most samples kept (>= 2); the oldest are dropped first. Default {@link DEFAULT_MAX_SAMPLES}. */
  maxSamples?: number;
}

/** The rate of a counter over a window. */
export interface RateResult {
  /** Units per second, `undefined` when unknown (fewer than 2 samples or too short a span). */
  value: number | undefined;
  /** Samples used (the anchor before the window start included). */
  samples: number;
  /** Milliseconds between the first and the last sample used. */
  spanMs: number;
}

/** The mean of a gauge or of pushed values over a window. */
export interface MeanResult {
  /** The arithmetic mean, `undefined` when the window holds no sample. */
  value: number | undefined;
  /** Samples in the window. */
  count: number;
}

/** Time-ordered samples with a bound, stored in two arrays with a moving head. */
class Samples {
  #times: number[] = [];
  #values: number[] = [];
  #head = 0;
  /** How far back to keep samples: twice the longest window queried. */
  #retainMs = 0;
  readonly #max: number;

  constructor(options: WindowOptions | undefined) {
    const max = options?.maxSamples ?? DEFAULT_MAX_SAMPLES;
    if (!Number.isInteger(max) || max < 2) {
      throw new RangeError(`maxSamples must be an integer >= 2, got ${max}`);
    }
    this.#max = max;
  }

  get size(): number {
    return this.#times.length - this.#head;
  }

  /** Time of the i-th kept sample (0 = oldest). */
  time(i: number): number {
    return this.#times[this.#head + i] as number;
  }

  /** Value of the i-th kept sample (0 = oldest). */
  value(i: number): number {
    return this.#values[this.#head + i] as number;
  }

  push(at: number, value: number): void {
    this.#times.push(at);
    this.#values.push(value);
    if (this.size > this.#max) this.#drop(this.size - this.#max);
  }

  /** Replaces the value of the newest sample. */
  setLast(value: number): void {
    this.#values[this.#values.length - 1] = value;
  }

  clear(): void {
    this.#times = [];
    this.#values = [];
    this.#head = 0;
  }

  /** Index of the first kept sample with time >= `at` (`size` when none). */
  lowerBound(at: number): number {
    let lo = 0;
    let hi = this.size;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.time(mid) < at) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Index of the first kept sample with time > `at` (`size` when none). */
  upperBound(at: number): number {
    let lo = 0;
    let hi = this.size;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.time(mid) <= at) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Drops samples older than two of the longest window queried so far, before `now`. */
  prune(now: number, windowMs: number): void {
    this.#retainMs = Math.max(this.#retainMs, 2 * windowMs);
    this.pruneBefore(now - this.#retainMs);
  }

  /** Drops samples older than `at`. */
  pruneBefore(at: number): void {
    const n = this.lowerBound(at);
    if (n > 0) this.#drop(n);
  }

  #drop(n: number): void {
    this.#head += n;
    if (this.#head >= this.#times.length) {
      this.clear();
    } else if (this.#head > 1024 && this.#head * 2 > this.#times.length) {
      this.#times = this.#times.slice(this.#head);
      this.#values = this.#values.slice(this.#head);
      this.#head = 0;
    }
  }
}

function checkSample(at: number, value: number): void {
  if (!Number.isFinite(at)) throw new RangeError(`sample time must be finite, got ${at}`);
  if (!Number.isFinite(value)) throw new RangeError(`sample value must be finite, got ${value}`);
}

function checkWindow(now: number, windowMs: number): void {
  if (!Number.isFinite(now)) throw new RangeError(`now must be finite, got ${now}`);
  if (!Number.isFinite(windowMs) || windowMs < 0) {
    throw new RangeError(`windowMs must be a finite number >= 0, got ${windowMs}`);
  }
}

/** Adds a sample to a gauge-like buffer, resetting it when time goes backwards. */
function pushInOrder(samples: Samples, at: number, value: number): void {
  checkSample(at, value);
  if (samples.size > 0 && at < samples.time(samples.size - 1)) samples.clear();
  samples.push(at, value);
}

/** Mean of the samples in [now − windowMs, now], after pruning samples older than 2 windows. */
function windowMean(samples: Samples, now: number, windowMs: number): MeanResult {
  checkWindow(now, windowMs);
  samples.prune(now, windowMs);
  const from = samples.lowerBound(now - windowMs);
  const to = samples.upperBound(now);
  let sum = 0;
  for (let i = from; i < to; i++) sum += samples.value(i);
  const count = Math.max(0, to - from);
  return { value: count === 0 ? undefined : sum / count, count };
}

/**
 * A cumulative counter, such as a container's total CPU time in nanoseconds, sampled over time.
 * Its rate over a window is (last − first) / elapsed: idle periods, where the counter does not
 * move, lower the rate as they should.
 */
export class CounterWindow {
  readonly #samples: Samples;

  /** @param options Bound of the samples kept. */
  constructor(options?: WindowOptions) {
    this.#samples = new Samples(options);
  }

  /** Samples currently kept. */
  get size(): number {
    return this.#samples.size;
  }

  /**
   * Records the counter's value at a time. A value lower than the previous one (the container
   * restarted and its counter began again) or a time before the previous one resets the
   * history, keeping only this sample. A second sample at the same time replaces the first.
   *
   * @param at Milliseconds.
   * @param value The counter (finite).
   * @throws {RangeError} When `at` or `value` is not finite.
   */
  add(at: number, value: number): void {
    checkSample(at, value);
    const s = this.#samples;
    if (s.size > 0) {
      const lastAt = s.time(s.size - 1);
      const lastValue = s.value(s.size - 1);
      if (at < lastAt || value < lastValue) {
        s.clear();
      } else if (at === lastAt) {
        s.setLast(value);
        return;
      }
    }
    s.push(at, value);
  }

  /**
   * The counter's rate, per second, over the samples in [now − windowMs, now]. The newest sample
   * at or before the window start, when there is one, is used as the first sample, so the rate
   * covers the whole window (and the gap up to that anchor, which is at most one more window
   * since older samples are pruned). Prunes samples older than two windows.
   *
   * @param now Milliseconds.
   * @param windowMs Window length in milliseconds (>= 0).
   * @returns `value` undefined when fewer than 2 samples are usable or they span less than
   *   {@link MIN_RATE_SPAN_MS}.
   * @throws {RangeError} When `now` is not finite or `windowMs` is negative or not finite.
   */
  rate(now: number, windowMs: number): RateResult {
    checkWindow(now, windowMs);
    const s = this.#samples;
    s.prune(now, windowMs);
    const start = now - windowMs;
    const end = s.upperBound(now); // samples [0, end) are at or before now
    if (end === 0) return { value: undefined, samples: 0, spanMs: 0 };
    const afterStart = s.upperBound(start); // first sample strictly after the window start
    const first = afterStart > 0 ? afterStart - 1 : 0;
    const last = end - 1;
    const samples = last - first + 1;
    const spanMs = s.time(last) - s.time(first);
    if (samples < 2 || spanMs < MIN_RATE_SPAN_MS) return { value: undefined, samples, spanMs };
    const value = (s.value(last) - s.value(first)) / (spanMs / 1000);
    return { value, samples, spanMs };
  }
}

/** A gauge, such as a container's memory in use in bytes, averaged over a window. */
export class GaugeWindow {
  readonly #samples: Samples;

  /** @param options Bound of the samples kept. */
  constructor(options?: WindowOptions) {
    this.#samples = new Samples(options);
  }

  /** Samples currently kept. */
  get size(): number {
    return this.#samples.size;
  }

  /**
   * Records the gauge's value at a time; a time before the previous sample resets the history.
   *
   * @throws {RangeError} When `at` or `value` is not finite.
   */
  add(at: number, value: number): void {
    pushInOrder(this.#samples, at, value);
  }

  /**
   * Mean of the samples in [now − windowMs, now]; prunes samples older than two windows.
   *
   * @returns `value` undefined when the window holds no sample.
   * @throws {RangeError} When `now` is not finite or `windowMs` is negative or not finite.
   */
  mean(now: number, windowMs: number): MeanResult {
    return windowMean(this.#samples, now, windowMs);
  }
}

/**
 * Values pushed at times, such as one user metric of a service: the same mean over a window as a
 * gauge. A metric with no value in the window is unknown (`undefined`), not 0
 * (docs/compat.md#d15).
 */
export class ValueWindow extends GaugeWindow {}
