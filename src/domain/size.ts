/**
 * Memory sizes as written in service descriptors, parsed as the original did: digits, an optional
 * binary multiplier `k`, `m`, `g`, `t` or `p` (case-insensitive) and an optional `b`.
 *
 * @module
 */

const SIZE_PATTERN = /^(\d+)([kmgtp])?b?$/i;

const MULTIPLIERS: Readonly<Record<string, number>> = {
  "": 1,
  k: 1024,
  m: 1024 ** 2,
  g: 1024 ** 3,
  t: 1024 ** 4,
  p: 1024 ** 5,
};

/**
 * Parses a size such as `"512m"`, `"1G"`, `"32kb"` or `"1024"` into bytes.
 *
 * @param text The size; `""`, negative, fractional and spaced values are rejected.
 * @returns The number of bytes.
 * @throws {RangeError} When `text` is not a size or exceeds `Number.MAX_SAFE_INTEGER` bytes.
 *
 * @example Parse a memory limit
 * ```ts
 * parseSize("64m"); // 67108864
 * ```
 */
export function parseSize(text: string): number {
  const match = SIZE_PATTERN.exec(text);
  if (!match) {
    throw new RangeError(
      `Cannot parse size "${text}": expected digits and an optional k, m, g, t or p suffix`,
    );
  }
  const bytes = Number(match[1]) * (MULTIPLIERS[(match[2] ?? "").toLowerCase()] ?? 1);
  if (!Number.isSafeInteger(bytes)) {
    throw new RangeError(`Cannot parse size "${text}": too large`);
  }
  return bytes;
}

/**
 * Whether `text` is a size `parseSize` accepts.
 *
 * @param text The candidate size.
 * @returns `true` when `parseSize(text)` would not throw.
 */
export function isSize(text: string): boolean {
  try {
    parseSize(text);
    return true;
  } catch {
    return false;
  }
}

/**
 * The memory limit of a service in bytes: `0` (no limit) for `""`, else `parseSize(memory)`.
 *
 * @param memory The descriptor's `configuration.memory`.
 * @returns Bytes, 0 meaning no limit.
 * @throws {RangeError} When `memory` is neither empty nor a size.
 */
export function memoryLimitBytes(memory: string): number {
  return memory === "" ? 0 : parseSize(memory);
}
