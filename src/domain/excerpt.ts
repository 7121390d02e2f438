/**
 * Short, printable excerpts of untrusted input for error messages and logs: an error names what
 * was wrong and shows a little of the input, never the whole of it, and never a raw control
 * character that could rewrite a terminal or forge a log line.
 *
 * @module
 */

/** Most characters of the input an excerpt shows. */
export const EXCERPT_MAX = 80;

// C0 and C1 controls, DEL, line and paragraph separators, and the bidirectional overrides
// ("trojan source") that reorder what a terminal shows.
// deno-lint-ignore no-control-regex
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

function escapeChar(ch: string): string {
  switch (ch) {
    case "\n":
      return "\\n";
    case "\r":
      return "\\r";
    case "\t":
      return "\\t";
    default:
      return `\\u${ch.charCodeAt(0).toString(16).padStart(4, "0")}`;
  }
}

/**
 * Escapes control characters (C0, C1, DEL, line separators, bidirectional overrides) as
 * `\n`, `\t` or `\uXXXX`; everything else is kept.
 *
 * @param text Any text.
 * @returns The text with no unsafe character left.
 *
 * @example A forged log line stays on one line
 * ```ts
 * import { escapeControl } from "./excerpt.ts";
 * escapeControl("ok\nERROR fake"); // "ok\\nERROR fake"
 * ```
 */
export function escapeControl(text: string): string {
  return text.replace(UNSAFE, escapeChar);
}

function cut(text: string, max: number): string {
  if (text.length <= max) return text;
  let end = max;
  const last = text.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end--; // never split a surrogate pair
  return text.slice(0, end) + "…";
}

/**
 * A short excerpt of untrusted input for an error message: a string is shown in double quotes,
 * anything else as (the start of) its JSON; at most `max` characters of it, then `…`, with
 * control characters escaped.
 *
 * @param input The input (a string, or a decoded JSON value).
 * @param max Most characters shown. @default 80
 * @returns The excerpt, ready to embed in a message.
 *
 * @example Quoting a long name
 * ```ts
 * import { excerpt } from "./excerpt.ts";
 * excerpt("x".repeat(500)).length; // 83: two quotes, 80 characters, "…"
 * excerpt({ a: 1 }); // '{"a":1}'
 * ```
 */
export function excerpt(input: unknown, max: number = EXCERPT_MAX): string {
  if (typeof input === "string") return `"${escapeControl(cut(input, max)).replace(/"/g, '\\"')}"`;
  let text: string;
  try {
    text = JSON.stringify(input) ?? String(input);
  } catch {
    text = String(input);
  }
  return escapeControl(cut(text, max));
}
