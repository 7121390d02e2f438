/**
 * Injectable randomness: `Prng` returns a float in [0, 1), like `Math.random`.
 *
 * @module
 */

/** A source of uniform floats in [0, 1). */
export type Prng = () => number;

/** A seeded PRNG (mulberry32): the same seed gives the same sequence. */
export function seededPrng(seed: number): Prng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** 32 lowercase hex characters from a cryptographic source (the original's UUID format). */
export function newUuidHex(): string {
  return crypto.randomUUID().replaceAll("-", "");
}
