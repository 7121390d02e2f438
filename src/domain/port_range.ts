/**
 * Host port ranges (`"50000"` or `"50000-50004"`, ascending, in 1..65535) and guest port keys
 * (`"80"`, `"80/tcp"`, `"53/udp"`) of service descriptors (`configuration.ports`, as in the
 * original; a descending range is an error: docs/compat.md#d7).
 *
 * @module
 */

/** The lowest valid port. */
export const MIN_PORT = 1;
/** The highest valid port. */
export const MAX_PORT = 65535;

/** An inclusive, ascending range of ports. */
export interface PortRange {
  first: number;
  last: number;
}

/** A guest port with its protocol. */
export interface GuestPort {
  port: number;
  protocol: "tcp" | "udp";
}

const RANGE_PATTERN = /^(\d{1,5})(?:-(\d{1,5}))?$/;
const GUEST_PATTERN = /^(\d{1,5})(?:\/(tcp|udp))?$/;

function isPort(n: number): boolean {
  return Number.isInteger(n) && n >= MIN_PORT && n <= MAX_PORT;
}

/**
 * Parses `"a"` or `"a-b"` (a <= b, both in 1..65535).
 *
 * @param text The range.
 * @returns Its first and last port.
 * @throws {RangeError} When `text` is malformed, out of bounds or descending.
 *
 * @example A pool of five host ports
 * ```ts
 * parsePortRange("50000-50004"); // { first: 50000, last: 50004 }
 * ```
 */
export function parsePortRange(text: string): PortRange {
  const match = RANGE_PATTERN.exec(text);
  if (!match) {
    throw new RangeError(
      `Cannot parse port range "${text}": expected "<port>" or "<first>-<last>"`,
    );
  }
  const first = Number(match[1]);
  const last = match[2] === undefined ? first : Number(match[2]);
  if (!isPort(first) || !isPort(last)) {
    throw new RangeError(`Cannot parse port range "${text}": ports must be in 1..65535`);
  }
  if (last < first) {
    throw new RangeError(`Cannot parse port range "${text}": the range is descending`);
  }
  return { first, last };
}

/**
 * Every port of a range, ascending.
 *
 * @param text The range, as for `parsePortRange`.
 * @returns The ports from first to last.
 * @throws {RangeError} As `parsePortRange`.
 */
export function expandPortRange(text: string): number[] {
  const { first, last } = parsePortRange(text);
  return Array.from({ length: last - first + 1 }, (_, i) => first + i);
}

/**
 * Parses a key of a descriptor's `ports` map.
 *
 * @param key `"<port>"`, `"<port>/tcp"` or `"<port>/udp"`.
 * @returns The port and its protocol (tcp when not given).
 * @throws {RangeError} When `key` is not a guest port.
 */
export function parseGuestPort(key: string): GuestPort {
  const match = GUEST_PATTERN.exec(key);
  const port = match ? Number(match[1]) : NaN;
  if (!match || !isPort(port)) {
    throw new RangeError(
      `Cannot parse guest port "${key}": expected a port in 1..65535, optionally with "/tcp" or "/udp"`,
    );
  }
  return { port, protocol: match[2] === "udp" ? "udp" : "tcp" };
}
