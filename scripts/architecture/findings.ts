/**
 * What the architecture check reports: one {@linkcode Finding} per violation or warning, and
 * its one-line form.
 *
 * @module
 */

/** One problem found. */
export interface Finding {
  file: string;
  /** 1-based. */
  line: number;
  /**
   * Which rule: layer, external, sdk, test-import, outside-src, unresolved, parse, no-layer,
   * globals, cycle, or type-only (a warning).
   */
  rule: string;
  message: string;
}

/** A finding as one line: `file:line: [rule] message`. */
export function formatFinding(f: Finding): string {
  return `${f.file}:${f.line}: [${f.rule}] ${f.message}`;
}
