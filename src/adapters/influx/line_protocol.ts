/**
 * InfluxDB line protocol encoding of {@linkcode MetricPoint}s, with millisecond timestamps
 * (write with `precision=ms`).
 *
 * Names (measurement, tag keys, tag values, field keys) are escaped so that no name can break
 * the line, whatever it holds:
 *
 * 1. control characters become visible text first: a line feed the two characters `\n`, a
 *    carriage return `\r`, a tab `\t`, any other `\u00XX` (line protocol has no way to carry
 *    them, and a raw line feed would end the line);
 * 2. the delimiters get a backslash: commas and spaces everywhere, equals signs in tag keys, tag
 *    values and field keys (the measurement keeps `=` as it is, as the specification says);
 * 3. backslashes, by dialect (the two parsers read them differently, as checked against
 *    InfluxDB 1.6 and VictoriaMetrics):
 *    - `v2` (InfluxDB 2.x and later, VictoriaMetrics; the specification): two backslashes are
 *      one literal backslash and a backslash before an ordinary character is literal. A lone
 *      backslash before an ordinary character is written as it is; any other run (at the end
 *      of the name, before a delimiter or before another backslash) is doubled, so it can never
 *      escape the delimiter after it. Every name reads back exactly.
 *    - `v1` (InfluxDB 1.x): a delimiter counts as escaped whenever the byte before it is a
 *      backslash, and backslashes themselves are never unescaped. Backslashes are written as
 *      they are (before an escaped delimiter they read back exactly), except a run at the very
 *      end of a name, which 1.x cannot express at all (it would escape the `=`, `,` or space
 *      after it and swallow the next token): each of those backslashes is written as `_`.
 *
 * Other rules:
 * - string field values: double quotes and backslashes are escaped (control characters become
 *   visible text as above);
 * - numbers are written as floats (no `i` suffix); non-finite numbers are skipped;
 * - booleans as `true` / `false`;
 * - tags are sorted by key (InfluxDB's recommendation); tags with an empty key or value are
 *   skipped (line protocol cannot express them), as are fields with an empty key;
 * - a point with an empty measurement, no field left or a non-finite time is skipped.
 *
 * @module
 */

import type { MetricPoint } from "../../ports/metric_sink.ts";

// deno-lint-ignore no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/g;
const NAMED: Readonly<Record<string, string>> = { "\n": "\\n", "\r": "\\r", "\t": "\\t" };

/** Writes control characters as visible text (`\n`, `\r`, `\t`, `\u00XX`). */
function visibleControls(s: string): string {
  return s.replace(
    CONTROL,
    (c) => NAMED[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

/** How backslashes in names are written: see the module documentation. */
export type LineDialect = "v1" | "v2";

/** Escapes `s` for a name where the characters of `delimiters` must not end the token. */
function escapeName(s: string, delimiters: string, dialect: LineDialect): string {
  const text = visibleControls(s);
  if (dialect === "v1") {
    const body = text.replace(/\\+$/, (run) => "_".repeat(run.length));
    let out = "";
    for (const c of body) out += delimiters.includes(c) ? `\\${c}` : c;
    return out;
  }
  let out = "";
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === "\\") {
      let j = i;
      while (text[j] === "\\") j++;
      const run = j - i;
      const next = text[j];
      const ordinary = next !== undefined && !delimiters.includes(next);
      out += run === 1 && ordinary ? "\\" : "\\".repeat(2 * run);
      i = j;
      continue;
    }
    out += delimiters.includes(c) ? `\\${c}` : c;
    i++;
  }
  return out;
}

/** Escapes a measurement name (commas, spaces, backslashes, control characters). */
export function escapeMeasurement(s: string, dialect: LineDialect = "v2"): string {
  return escapeName(s, ", ", dialect);
}

/** Escapes a tag key, tag value or field key (commas, equals signs, spaces, backslashes). */
export function escapeKey(s: string, dialect: LineDialect = "v2"): string {
  return escapeName(s, ",= ", dialect);
}

/** Quotes a string field value (escaping backslashes and double quotes). */
export function quoteString(s: string): string {
  return `"${visibleControls(s.replace(/[\\"]/g, (c) => `\\${c}`))}"`;
}

/** Formats a number as a line-protocol float, or `undefined` when it is not finite. */
export function formatFloat(n: number): string | undefined {
  if (!Number.isFinite(n)) return undefined;
  return Object.is(n, -0) ? "0" : String(n);
}

/** Encodes one point as one line (no trailing newline), or `undefined` when it must be skipped. */
export function encodePoint(p: MetricPoint, dialect: LineDialect = "v2"): string | undefined {
  if (!p.measurement || !Number.isFinite(p.time)) return undefined;
  const fields: string[] = [];
  for (const [k, v] of Object.entries(p.fields)) {
    if (!k) continue;
    let value: string | undefined;
    if (typeof v === "number") value = formatFloat(v);
    else if (typeof v === "boolean") value = v ? "true" : "false";
    else if (typeof v === "string") value = quoteString(v);
    if (value === undefined) continue;
    fields.push(`${escapeKey(k, dialect)}=${value}`);
  }
  if (fields.length === 0) return undefined;
  let head = escapeMeasurement(p.measurement, dialect);
  const tagKeys = Object.keys(p.tags).sort();
  for (const k of tagKeys) {
    const v = p.tags[k];
    if (!k || v === undefined || v === "") continue;
    head += `,${escapeKey(k, dialect)}=${escapeKey(v, dialect)}`;
  }
  return `${head} ${fields.join(",")} ${Math.trunc(p.time)}`;
}

/** Encodes points as lines, skipping those that cannot be encoded. */
export function encodeLines(
  points: readonly MetricPoint[],
  dialect: LineDialect = "v2",
): string[] {
  const out: string[] = [];
  for (const p of points) {
    const line = encodePoint(p, dialect);
    if (line !== undefined) out.push(line);
  }
  return out;
}

/** Encodes points as one request body (lines joined by `\n`). */
export function encodePoints(
  points: readonly MetricPoint[],
  dialect: LineDialect = "v2",
): string {
  return encodeLines(points, dialect).join("\n");
}
