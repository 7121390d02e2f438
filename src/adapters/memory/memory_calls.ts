/**
 * The call log and fault injection of `MemoryContainerRuntime`: every port call is recorded,
 * never answers synchronously, and fails while the engine is unreachable or when a failure was
 * queued for its method.
 *
 * @module
 */

import type { ContainerRuntime } from "../../ports/container_runtime.ts";
import { UnavailableError } from "../../domain/errors.ts";

/** Names of the port's methods, for `failNext` and the `calls` log. */
export type RuntimeMethod = Exclude<keyof ContainerRuntime, "close">;

/** One recorded call. */
export interface RuntimeCall {
  method: RuntimeMethod;
  args: unknown[];
}

/** Records port calls and makes them fail on demand. */
export class MemoryCalls {
  readonly #failures = new Map<RuntimeMethod, unknown[]>();
  readonly #calls: RuntimeCall[] = [];
  #inflight = 0;
  /** Whether the engine is unreachable: every call then throws `UnavailableError`. */
  unreachable = false;

  /** Every call so far (also the failed ones), oldest first. */
  get calls(): readonly RuntimeCall[] {
    return this.#calls;
  }

  /** How many calls have not yet taken effect. */
  get inflight(): number {
    return this.#inflight;
  }

  /** Makes the next `times` calls of `method` throw `error` (default: an `UnavailableError`). */
  failNext(method: RuntimeMethod, error: unknown, times: number): void {
    const queue = this.#failures.get(method) ?? [];
    for (let i = 0; i < times; i++) {
      queue.push(error ?? new UnavailableError(`Docker ${method} failed: injected failure`));
    }
    this.#failures.set(method, queue);
  }

  /** Drops every failure queued by `failNext`. */
  clearFailures(): void {
    this.#failures.clear();
  }

  /** Records a call that returns at once (an already aborted stream). */
  record(method: RuntimeMethod, args: unknown[]): Promise<void> {
    this.#calls.push({ method, args });
    return Promise.resolve();
  }

  /** Records the call, applies `unreachable` and queued failures, then runs `body`. */
  async run<T>(method: RuntimeMethod, args: unknown[], body: () => T | Promise<T>): Promise<T> {
    this.#calls.push({ method, args });
    this.#inflight++;
    let result: T | Promise<T>;
    try {
      await Promise.resolve(); // never answer synchronously, like a real engine
      if (this.unreachable) {
        throw new UnavailableError(`Docker ${method} failed: engine unreachable (memory runtime)`);
      }
      const queue = this.#failures.get(method);
      if (queue?.length) throw queue.shift();
      result = body();
    } finally {
      this.#inflight--;
    }
    return await result;
  }
}
