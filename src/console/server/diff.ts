/**
 * A line diff of two texts (longest common subsequence), for the configuration manager's "what
 * changes against what is in force". Documents are small; past a bound the diff is every old line
 * removed and every new line added, which is still correct.
 *
 * @module
 */

/** Largest `old lines × new lines` diffed line by line. */
const MAX_CELLS = 4_000_000;

/**
 * The diff of `before` and `after`: a `--- in force` / `+++ edited` header, then every line
 * prefixed with ` ` (kept), `-` (removed) or `+` (added). Empty when the texts are equal.
 *
 * @param before The text in force.
 * @param after The edited text.
 * @returns The diff text.
 *
 * @example
 * ```ts
 * import { lineDiff } from "./diff.ts";
 * lineDiff("a\nb\n", "a\nc\n"); // "--- in force\n+++ edited\n a\n-b\n+c"
 * ```
 */
export function lineDiff(before: string, after: string): string {
  if (before === after) return "";
  const a = before.replace(/\n$/, "").split("\n");
  const b = after.replace(/\n$/, "").split("\n");
  const out = ["--- in force", "+++ edited"];
  if (a.length * b.length > MAX_CELLS) {
    return [...out, ...a.map((l) => `-${l}`), ...b.map((l) => `+${l}`)].join("\n");
  }
  // lcs[i][j]: length of the common subsequence of a[i..] and b[j..].
  const w = b.length + 1;
  const lcs = new Uint32Array((a.length + 1) * w);
  for (let i = a.length - 1; i >= 0; i--) {
    for (let j = b.length - 1; j >= 0; j--) {
      lcs[i * w + j] = a[i] === b[j]
        ? lcs[(i + 1) * w + j + 1]! + 1
        : Math.max(lcs[(i + 1) * w + j]!, lcs[i * w + j + 1]!);
    }
  }
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (i < a.length && j < b.length && a[i] === b[j]) {
      out.push(` ${a[i]}`);
      i++;
      j++;
    } else if (j < b.length && (i === a.length || lcs[i * w + j + 1]! > lcs[(i + 1) * w + j]!)) {
      out.push(`+${b[j]}`);
      j++;
    } else {
      out.push(`-${a[i]}`);
      i++;
    }
  }
  return out.join("\n");
}
