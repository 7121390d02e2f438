/**
 * Parses user metrics printed by containers on stdout/stderr, in the original's format:
 * `gru:<service>:<metric>:<value>:<unit>`, e.g. `gru:web:response_time:123.5:ms`. Anything
 * before the last `gru:` of the line is ignored (log prefixes, timestamps), as are fields after
 * the unit. Unlike the original, `NaN`, `Infinity`, exponents and hex are rejected, and service
 * and metric names are checked (docs/compat.md#d29): metric names by the rule of
 * `metric_name.ts`. Errors quote at most a short excerpt of the line, control characters escaped.
 *
 * @module
 */

import { excerpt } from "../../domain/excerpt.ts";
import { metricNameProblem } from "./metric_name.ts";

/** A well-formed metric line. */
export interface GruLineMetric {
  service: string;
  metric: string;
  /** Finite and ≥ 0. */
  value: number;
  /** As written (may be empty); Gru does not interpret it. */
  unit: string;
}

/** A line that mentions `gru:` but is not a valid metric line. */
export interface GruLineError {
  /** A short sentence naming the problem. */
  error: string;
  /** Set when the problem is the metric name (counted apart by the monitor). */
  badMetricName?: true;
}

/** Longest line considered, in UTF-16 code units (runtimes already cut lines to 4096 bytes). */
export const MAX_GRU_LINE = 4096;

const SERVICE_NAME = /^[A-Za-z0-9_.-]{1,64}$/;
/** Plain decimal: digits with an optional fraction, or a fraction alone (`.5`). */
const DECIMAL = /^(?:\d+(?:\.\d*)?|\.\d+)$/;
const MARKER = "gru:";

/**
 * Parses one log line: `undefined` when it holds no `gru:` (an ordinary log line), the metric
 * when it is well formed, `{ error }` otherwise.
 */
export function parseGruLine(line: string): GruLineMetric | GruLineError | undefined {
  const at = line.lastIndexOf(MARKER);
  if (at < 0) return undefined;
  if (line.length > MAX_GRU_LINE) {
    return { error: `Metric line is longer than ${MAX_GRU_LINE} characters` };
  }
  const fields = line.slice(at).trimEnd().split(":");
  if (fields.length < 5) {
    return {
      error: "Metric line is not well formed: expected gru:<service>:<metric>:<value>:<unit>",
    };
  }
  const service = fields[1]!.trim();
  const metric = fields[2]!.trim();
  const raw = fields[3]!.trim();
  const unit = fields[4]!.trim();
  if (!SERVICE_NAME.test(service)) return { error: `Invalid service name ${clip(service)}` };
  const problem = metricNameProblem(metric);
  if (problem !== undefined) return { error: problem, badMetricName: true };
  if (raw.startsWith("-")) return { error: `Negative value ${clip(raw)} is not allowed` };
  if (!DECIMAL.test(raw)) return { error: `Value ${clip(raw)} is not a plain decimal number` };
  const value = Number(raw);
  if (!Number.isFinite(value)) return { error: `Value ${clip(raw)} is out of range` };
  return { service, metric, value, unit };
}

function clip(s: string): string {
  return excerpt(s, 40);
}
