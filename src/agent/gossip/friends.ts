/**
 * Choosing the peers to gossip with in one round. Pure: randomness is injected.
 *
 * @module
 */

import type { Prng } from "../../domain/random.ts";

/**
 * A uniformly random subset of `peers` of size `min(max, peers.length)`, in random order: a
 * partial Fisher–Yates shuffle that consumes exactly that many draws of `prng`.
 *
 * @param peers The candidates (the caller leaves itself out). Not modified.
 * @param max The most to pick: a whole number >= 1, or `Infinity` for all.
 * @param prng Uniform floats in [0, 1).
 * @returns The chosen peers, each once (if `peers` has no duplicates).
 * @throws {RangeError} when `max` is below 1 or not a whole number.
 */
export function pickFriends(peers: readonly string[], max: number, prng: Prng): string[] {
  if (!(max >= 1) || (Number.isFinite(max) && !Number.isInteger(max))) {
    throw new RangeError(`maxFriends must be a whole number >= 1, got ${max}`);
  }
  const pool = [...peers];
  const k = Math.min(max, pool.length);
  for (let i = 0; i < k; i++) {
    const remaining = pool.length - i;
    const j = i + Math.min(remaining - 1, Math.floor(prng() * remaining));
    const picked = pool[j] as string;
    pool[j] = pool[i] as string;
    pool[i] = picked;
  }
  return pool.slice(0, k);
}
