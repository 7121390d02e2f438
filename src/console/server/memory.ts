/**
 * Keeps the console's heap small between views. V8 collects lazily: a console that builds an
 * overview every second grows its heap (and RSS) far past what it holds live (about 25 MB). The
 * console may pay a full collection now and then, which an agent must not: it asks V8 for its
 * `gc` function (the `--expose-gc` flag, set at run time, applies to a new context) and runs it
 * at most once per interval, after a burst of work.
 *
 * @module
 */

import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";

/**
 * Least time between two collections. A full collection of the console's live heap takes a few
 * ms; at 0.25 s the heaviest load measured (3 viewers of a 10-node cluster on a 1 s loop, 6
 * charts) stays under 120 MB at every instant, where 2 s let it reach 144 MB (BENCHMARKS.md
 * section 6).
 */
export const COLLECT_EVERY_MS = 250;

let collect: (() => void) | null | undefined;

function collector(): (() => void) | null {
  if (collect === undefined) {
    try {
      setFlagsFromString("--expose-gc");
      const gc: unknown = runInNewContext("gc");
      collect = typeof gc === "function" ? gc as () => void : null;
    } catch {
      collect = null;
    }
  }
  return collect;
}

/**
 * A function that runs a full collection when the last one is older than `everyMs` (and does
 * nothing where the runtime offers none).
 *
 * @param now The clock.
 * @param everyMs Least time between two collections.
 * @returns The throttled collection.
 */
export function throttledCollect(now: () => number, everyMs = COLLECT_EVERY_MS): () => void {
  let last = now();
  return () => {
    const t = now();
    if (t - last < everyMs) return;
    last = t;
    collector()?.();
  };
}
