/**
 * InfluxDB line protocol encoding of {@linkcode MetricPoint}s, with millisecond timestamps
 * (write with `precision=ms`).
 *
 * - measurement: commas and spaces are escaped;
 * - tag keys, tag values and field keys: commas, equals signs and spaces are escaped;
 * - string field values: double quotes and backslashes are escaped;
 * - numbers are written as floats (no `i` suffix); non-finite numbers are skipped;
 * - booleans as `true` / `false`;
 * - tags are sorted by key (InfluxDB's recommendation); tags with an empty key or value are
 *   skipped (line protocol cannot express them), as are fields with an empty key;
 * - a point with an empty measurement, no field left or a non-finite time is skipped.
 *
 * Line breaks cannot appear raw in a line: in names and tags a line break is written as the two
 * characters `\n` (or `\r`), in string values likewise (so it reads back as backslash + letter).
 *
 * @module
 */

import type { MetricPoint } from "../../ports/metric_sink.ts";

function escapeBreaks(s: string): string {
  return s.replace(/\n/g, "\\n").replace(/\r/g, "\\r");
}

/** Escapes a measurement name (commas, spaces). */
export function escapeMeasurement(s: string): string {
  return escapeBreaks(s.replace(/[, ]/g, (c) => `\\${c}`));
}

/** Escapes a tag key, tag value or field key (commas, equals signs, spaces). */
export function escapeKey(s: string): string {
  return escapeBreaks(s.replace(/[,= ]/g, (c) => `\\${c}`));
}

/** Quotes a string field value (escaping backslashes and double quotes). */
export function quoteString(s: string): string {
  return `"${escapeBreaks(s.replace(/[\\"]/g, (c) => `\\${c}`))}"`;
}

/** Formats a number as a line-protocol float, or `undefined` when it is not finite. */
export function formatFloat(n: number): string | undefined {
  if (!Number.isFinite(n)) return undefined;
  return Object.is(n, -0) ? "0" : String(n);
}

/** Encodes one point as one line (no trailing newline), or `undefined` when it must be skipped. */
export function encodePoint(p: MetricPoint): string | undefined {
  if (!p.measurement || !Number.isFinite(p.time)) return undefined;
  const fields: string[] = [];
  for (const [k, v] of Object.entries(p.fields)) {
    if (!k) continue;
    let value: string | undefined;
    if (typeof v === "number") value = formatFloat(v);
    else if (typeof v === "boolean") value = v ? "true" : "false";
    else if (typeof v === "string") value = quoteString(v);
    if (value === undefined) continue;
    fields.push(`${escapeKey(k)}=${value}`);
  }
  if (fields.length === 0) return undefined;
  let head = escapeMeasurement(p.measurement);
  const tagKeys = Object.keys(p.tags).sort();
  for (const k of tagKeys) {
    const v = p.tags[k];
    if (!k || v === undefined || v === "") continue;
    head += `,${escapeKey(k)}=${escapeKey(v)}`;
  }
  return `${head} ${fields.join(",")} ${Math.trunc(p.time)}`;
}

/** Encodes points as lines, skipping those that cannot be encoded. */
export function encodeLines(points: readonly MetricPoint[]): string[] {
  const out: string[] = [];
  for (const p of points) {
    const line = encodePoint(p);
    if (line !== undefined) out.push(line);
  }
  return out;
}

/** Encodes points as one request body (lines joined by `\n`). */
export function encodePoints(points: readonly MetricPoint[]): string {
  return encodeLines(points).join("\n");
}
