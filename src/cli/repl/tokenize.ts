/**
 * Splits one REPL line into words. Fixes the original manager's parser, which split on single
 * spaces (so double spaces made empty arguments): here words are separated by runs of whitespace.
 *
 * @module
 */

/**
 * The words of `line`, in order:
 *
 * 1. the line is trimmed and one or more trailing `;` are removed;
 * 2. a word starting with `#` starts a comment that runs to the end of the line;
 * 3. the rest is split on runs of whitespace;
 * 4. the first word (the command) is lower-cased; the others keep their case.
 *
 * Blank lines and comments give `[]`.
 *
 * @param line One line of input, without its line break.
 * @returns The words, possibly none.
 *
 * @example Tokenizing a command
 * ```ts
 * import { tokenize } from "./tokenize.ts";
 * tokenize("  LIST   nodes; "); // ["list", "nodes"]
 * tokenize("# a comment"); // []
 * ```
 */
export function tokenize(line: string): string[] {
  const words: string[] = [];
  for (const word of line.trim().split(/\s+/)) {
    if (word.startsWith("#")) break;
    if (word !== "") words.push(word);
  }
  const last = words.length - 1;
  if (last >= 0) {
    const stripped = words[last]!.replace(/;+$/, "");
    if (stripped === "") words.pop();
    else words[last] = stripped;
  }
  if (words.length > 0) words[0] = words[0]!.toLowerCase();
  return words;
}
