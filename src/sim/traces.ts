/**
 * Load traces of `gru simulate`: the arrival rate, in requests per second, of every second of
 * the run. The built-in ones, and the CSV format a user's own trace is written in:
 *
 * ```csv
 * seconds,rps
 * 600,0.2
 * 300,1.5
 * ```
 *
 * A header line `seconds,rps`, then one segment per line: how many whole seconds it lasts (≥ 1)
 * and the arrival rate during it (≥ 0, requests per second); segments follow one another. Blank
 * lines and lines starting with `#` are skipped. The whole trace lasts at most
 * {@link MAX_TRACE_SECONDS}.
 *
 * Pure: the text comes in, the rates come out; every problem names the file and line.
 *
 * @module
 */

import { excerpt } from "../domain/excerpt.ts";

/** A load trace: a name and the arrival rate (requests per second) of every second. */
export interface Trace {
  name: string;
  rps: number[];
}

/** Longest trace accepted: one week of seconds. */
export const MAX_TRACE_SECONDS = 7 * 24 * 3600;
/** Highest arrival rate accepted in a trace, requests per second. */
export const MAX_RPS = 100_000;

/** The built-in traces, by name, with a one-line description each. */
export const BUILTIN_TRACES: Readonly<Record<string, { about: string; build: () => number[] }>> = {
  step: {
    about: "0.4 rps for 10 min, 1.6 rps for 20 min, 0.4 rps for 10 min",
    build: () => [...fill(600, 0.4), ...fill(1200, 1.6), ...fill(600, 0.4)],
  },
  ramp: {
    about: "0.1 → 2 rps linearly over 30 min, then back to 0.1 over 30 min",
    build: () => [...linear(1800, 0.1, 2), ...linear(1800, 2, 0.1)],
  },
  diurnal: {
    about: "a day compressed into 1 h: a cosine from 0.1 rps at night to 2 rps at noon and back",
    build: () =>
      Array.from(
        { length: 3600 },
        (_, s) => round6(0.1 + 1.9 * (1 - Math.cos(2 * Math.PI * (s + 0.5) / 3600)) / 2),
      ),
  },
  spike: {
    about: "0.3 rps for 20 min with a 2-minute spike to 2 rps from minute 8",
    build: () => [...fill(480, 0.3), ...fill(120, 2), ...fill(600, 0.3)],
  },
  paper: {
    about: "the seed author's evaluation: 0.1 → 2 rps linearly over 1 h",
    build: () => linear(3600, 0.1, 2),
  },
};

function round6(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}

function fill(seconds: number, rps: number): number[] {
  return new Array<number>(seconds).fill(rps);
}

/** `seconds` rates going linearly from `from` to `to`, each taken at the middle of its second. */
function linear(seconds: number, from: number, to: number): number[] {
  return Array.from(
    { length: seconds },
    (_, s) => round6(from + (to - from) * (s + 0.5) / seconds),
  );
}

/** Whether `name` is a built-in trace. */
export function isBuiltinTrace(name: string): boolean {
  return Object.hasOwn(BUILTIN_TRACES, name);
}

/**
 * The built-in trace called `name`.
 *
 * @throws {RangeError} When there is none; the message lists the built-in names.
 */
export function builtinTrace(name: string): Trace {
  const entry = isBuiltinTrace(name) ? BUILTIN_TRACES[name] : undefined;
  if (entry === undefined) {
    throw new RangeError(
      `Unknown trace ${excerpt(name)}: expected one of ${
        Object.keys(BUILTIN_TRACES).join(", ")
      } or a .csv file`,
    );
  }
  return { name, rps: entry.build() };
}

/** A problem in a trace file, with its file and line (1-based) in the message. */
export class TraceError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "TraceError";
  }
}

/**
 * Parses a CSV trace (see the module's documentation for the format).
 *
 * @param text The file's text.
 * @param file The file's name, for messages and the trace's name.
 * @returns The trace.
 * @throws {TraceError} Naming the file, the line and what was expected.
 */
export function parseCsvTrace(text: string, file: string): Trace {
  const lines = text.replace(/^\uFEFF/, "").split(/\r?\n/);
  const rps: number[] = [];
  let header = false;
  const fail = (line: number, what: string): never => {
    throw new TraceError(`${file}:${line}: ${what}`);
  };
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!;
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const cells = line.split(",").map((c) => c.trim());
    if (!header) {
      if (cells.length !== 2 || cells[0] !== "seconds" || cells[1] !== "rps") {
        fail(i + 1, `expected the header "seconds,rps", got ${excerpt(raw)}`);
      }
      header = true;
      continue;
    }
    if (cells.length !== 2) {
      fail(i + 1, `expected 2 columns "seconds,rps", got ${cells.length}: ${excerpt(raw)}`);
    }
    const seconds = Number(cells[0]);
    const rate = Number(cells[1]);
    if (cells[0] === "" || !Number.isInteger(seconds) || seconds < 1) {
      fail(i + 1, `seconds must be a whole number ≥ 1, got ${excerpt(cells[0]!)}`);
    }
    if (cells[1] === "" || !Number.isFinite(rate) || rate < 0 || rate > MAX_RPS) {
      fail(i + 1, `rps must be a number from 0 to ${MAX_RPS}, got ${excerpt(cells[1]!)}`);
    }
    if (rps.length + seconds > MAX_TRACE_SECONDS) {
      fail(i + 1, `the trace would last more than ${MAX_TRACE_SECONDS} seconds`);
    }
    for (let s = 0; s < seconds; s++) rps.push(rate);
  }
  if (!header) throw new TraceError(`${file}: empty trace: expected the header "seconds,rps"`);
  if (rps.length === 0) {
    throw new TraceError(`${file}: no segment after the header: expected lines "seconds,rps"`);
  }
  return { name: file, rps };
}
