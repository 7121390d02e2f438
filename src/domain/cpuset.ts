/**
 * Cpusets (Docker's `--cpuset-cpus`): comma-separated core indexes and ascending ranges, such as
 * `"0,2"` or `"0-3,6"`. Parts are trimmed and empty parts skipped, so `""` is the empty set.
 *
 * @module
 */

import { ValidationError } from "./errors.ts";

const PART = /^(\d+)(?:-(\d+))?$/;

/**
 * The cores of a cpuset, ascending and without duplicates.
 *
 * @example
 * ```ts
 * import { parseCpuset } from "./cpuset.ts";
 * parseCpuset("6,0-3"); // [0, 1, 2, 3, 6]
 * parseCpuset(""); // []
 * ```
 *
 * @param cpuset The cpuset text.
 * @returns The core indexes.
 * @throws {ValidationError} When a part is neither a core nor a range, or a range descends.
 */
export function parseCpuset(cpuset: string): number[] {
  const out: number[] = [];
  for (const part of cpuset.split(",").map((s) => s.trim()).filter(Boolean)) {
    const m = PART.exec(part);
    if (!m) {
      throw new ValidationError(`Invalid cpuset "${cpuset}": "${part}" is not a core or range`);
    }
    const a = Number(m[1]);
    const b = m[2] === undefined ? a : Number(m[2]);
    if (b < a) throw new ValidationError(`Invalid cpuset "${cpuset}": range "${part}" descends`);
    for (let i = a; i <= b; i++) out.push(i);
  }
  return [...new Set(out)].sort((x, y) => x - y);
}

/**
 * {@linkcode parseCpuset} that returns `undefined` instead of throwing on a malformed cpuset.
 *
 * @example
 * ```ts
 * import { tryParseCpuset } from "./cpuset.ts";
 * tryParseCpuset("0,2"); // [0, 2]
 * tryParseCpuset("3-1"); // undefined
 * ```
 */
export function tryParseCpuset(cpuset: string): number[] | undefined {
  try {
    return parseCpuset(cpuset);
  } catch (err) {
    if (err instanceof ValidationError) return undefined;
    throw err;
  }
}
