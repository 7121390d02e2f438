/**
 * A background task that repeats on the injected clock until its signal aborts: each run's
 * failure is reported and the next run comes anyway, so one bad round never ends the task.
 *
 * @module
 */

import type { Clock } from "./clock.ts";

/** Options of {@link repeat}. */
export interface RepeatOptions {
  clock: Clock;
  signal: AbortSignal;
  /** The pause after each run, in ms (read after every run, so settings can change). */
  delayMs: () => number;
  /** Called with whatever a run threw. */
  onError: (err: unknown) => void;
}

/**
 * Runs `body`, sleeps `delayMs()`, and again, until `signal` aborts; resolves then.
 *
 * @example
 * ```ts
 * import { repeat } from "./repeat.ts";
 * import { FakeClock } from "./clock.ts";
 *
 * const stop = new AbortController();
 * let runs = 0;
 * const task = repeat(async () => {
 *   if (++runs === 3) stop.abort();
 * }, { clock: new FakeClock(), signal: stop.signal, delayMs: () => 0, onError: () => {} });
 * ```
 */
export async function repeat(body: () => Promise<void>, options: RepeatOptions): Promise<void> {
  const { clock, signal } = options;
  while (!signal.aborted) {
    try {
      await body();
    } catch (err) {
      options.onError(err);
    }
    try {
      await clock.sleep(options.delayMs(), signal);
    } catch {
      return;
    }
  }
}
