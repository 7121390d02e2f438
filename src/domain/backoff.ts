/**
 * Exponential backoff on the injected {@linkcode Clock}: the first delay is `minMs`, each further
 * one `factor` times the previous, capped at `maxMs`; `reset` after a success starts over.
 *
 * @example A reconnect loop
 * ```ts
 * import { Backoff } from "./backoff.ts";
 * import { FakeClock } from "./clock.ts";
 * const backoff = new Backoff(new FakeClock(), { minMs: 250, maxMs: 5000 });
 * [backoff.next(), backoff.next(), backoff.next()]; // [250, 500, 1000]
 * backoff.reset();
 * backoff.peek(); // 250
 * ```
 *
 * @module
 */

import type { Clock } from "./clock.ts";

/** Delays of a {@linkcode Backoff}. */
export interface BackoffOptions {
  /** First delay in ms (default 250; negative counts as 0). */
  minMs?: number;
  /** Longest delay in ms (default 5000; at least `minMs`). */
  maxMs?: number;
  /** Growth of the delay after each one taken (default 2; at least 1). */
  factor?: number;
}

/** Growing retry delays, and a sleep on the clock. */
export class Backoff {
  /** First delay, ms. */
  readonly minMs: number;
  /** Longest delay, ms. */
  readonly maxMs: number;
  /** Growth per delay taken. */
  readonly factor: number;
  readonly #clock: Clock;
  #delay: number;
  #attempts = 0;

  /**
   * @param clock The clock `wait` sleeps on.
   * @param options First and longest delay, growth.
   */
  constructor(clock: Clock, options: BackoffOptions = {}) {
    this.#clock = clock;
    this.minMs = Math.max(0, options.minMs ?? 250);
    this.maxMs = Math.max(this.minMs, options.maxMs ?? 5000);
    this.factor = Math.max(1, options.factor ?? 2);
    this.#delay = this.minMs;
  }

  /** Delays taken (`next` or `wait`) since the start or the last `reset`: 0 while all is well. */
  get attempts(): number {
    return this.#attempts;
  }

  /** The delay the next `next` (or `wait`) gives, without taking it. */
  peek(): number {
    return this.#delay;
  }

  /** Takes the next delay: `minMs`, then `factor` times the previous one, at most `maxMs`. */
  next(): number {
    const delay = this.#delay;
    this.#delay = Math.min(this.maxMs, delay * this.factor);
    this.#attempts++;
    return delay;
  }

  /** Starts over at `minMs` (after a success). */
  reset(): void {
    this.#delay = this.minMs;
    this.#attempts = 0;
  }

  /**
   * Takes the next delay and sleeps that long on the clock.
   *
   * @param signal Aborts the sleep.
   * @returns The delay slept, in ms.
   * @throws The signal's reason when it aborts (the delay is taken all the same).
   */
  async wait(signal?: AbortSignal): Promise<number> {
    const delay = this.next();
    await this.#clock.sleep(delay, signal);
    return delay;
  }
}
