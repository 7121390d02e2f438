/**
 * The rule for user-metric names (from `gru:` log lines and `POST /gru/v1/stats/user/…`): a
 * letter or underscore, then letters, digits, `_`, `.` or `-`, at most {@link MAX_METRIC_NAME}
 * characters. Such a name is safe as an InfluxDB field key, a JSON key and a log property, and it
 * can never carry a line break or a terminal escape. Pure.
 *
 * @module
 */

import { excerpt } from "../../domain/excerpt.ts";

/** Longest metric name, in characters. */
export const MAX_METRIC_NAME = 64;

/** What a metric name must look like. */
export const METRIC_NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_.-]*$/;

/** What a metric name must look like, in words (for error messages and docs). */
export const METRIC_NAME_RULE =
  `at most ${MAX_METRIC_NAME} characters matching [A-Za-z_][A-Za-z0-9_.-]*`;

/** Longest excerpt of a bad name quoted in an error. */
const QUOTED = 48;

/**
 * Why `name` is not a valid metric name, or `undefined` when it is. The reason quotes at most
 * a short excerpt of the name, control characters escaped.
 */
export function metricNameProblem(name: string): string | undefined {
  if (name.length > MAX_METRIC_NAME || !METRIC_NAME_PATTERN.test(name)) {
    return `Invalid metric name ${excerpt(name, QUOTED)}: expected ${METRIC_NAME_RULE}`;
  }
  return undefined;
}
