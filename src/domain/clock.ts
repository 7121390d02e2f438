/**
 * An injectable clock, so loops, leases, cooldowns and windows can be tested with fake time.
 *
 * @module
 */

/** Time source and sleeper. */
export interface Clock {
  /** Milliseconds since the epoch (wall time: it may step back or forward, say under NTP). */
  now(): number;
  /**
   * Milliseconds on a clock that never goes back and is not stepped by NTP; only differences
   * between two readings mean anything. Cooldowns and windows measured on this node use it.
   */
  monotonic(): number;
  /** Resolves after `ms` milliseconds, or rejects with the signal's reason when it aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/** The real clock. */
export const systemClock: Clock = {
  now: () => Date.now(),
  monotonic: () => performance.now(),
  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const onAbort = () => {
        clearTimeout(timer);
        reject(signal?.reason);
      };
      const timer = setTimeout(() => {
        signal?.removeEventListener("abort", onAbort);
        resolve();
      }, ms);
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  },
};

/**
 * A clock that only moves when told to. Sleepers wake when `advance` passes their deadline.
 * `advance` moves the wall time and the monotonic time together; `stepWall` moves the wall
 * time alone (an NTP step), which neither sleepers nor the monotonic time see.
 */
export class FakeClock implements Clock {
  #now: number;
  #monotonic = 0;
  #sleepers: { at: number; resolve: () => void }[] = [];

  /** @param start Initial time in milliseconds since the epoch. */
  constructor(start = 0) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  monotonic(): number {
    return this.#monotonic;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const sleeper = { at: this.#monotonic + ms, resolve };
      this.#sleepers.push(sleeper);
      signal?.addEventListener("abort", () => {
        this.#sleepers = this.#sleepers.filter((s) => s !== sleeper);
        reject(signal.reason);
      }, { once: true });
    });
  }

  /** Moves time forward and wakes every sleeper whose deadline has passed. */
  advance(ms: number): void {
    this.#now += ms;
    this.#monotonic += ms;
    const due = this.#sleepers.filter((s) => s.at <= this.#monotonic);
    this.#sleepers = this.#sleepers.filter((s) => s.at > this.#monotonic);
    for (const s of due) s.resolve();
  }

  /** Steps the wall time alone by `ms` (negative: backwards), as NTP may. */
  stepWall(ms: number): void {
    this.#now += ms;
  }
}
