/**
 * Problems found in configuration documents: each names the file, the JSON path, what was
 * expected and what was found.
 *
 * @module
 */

/** Whether a problem rejects the configuration (`error`) or is only reported (`warning`). */
export type Severity = "error" | "warning";

/** One problem in one document. */
export interface Problem {
  /** The file (relative to the loaded directory) or source, e.g. `services/web.json`. */
  file: string;
  /** JSON path with the keys as written, e.g. `$.configuration.ports["80"]`. */
  path: string;
  /** What a valid value looks like, e.g. `an ascending port range in 1..65535`. */
  expected: string;
  /** What was there, e.g. `"8080-8000"`, or `nothing` when it was missing. */
  found: string;
  /** The whole explanation, usually `expected …, found …`. */
  message: string;
  severity: Severity;
}

/** One segment of a JSON path: an object key or an array index. */
export type PathSegment = string | number;

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;
const MAX_FOUND_LENGTH = 60;

/**
 * Formats a path as `$.a.b[0]["80"]`: identifier keys with a dot, other keys quoted.
 *
 * @param path The segments from the document root.
 * @returns The JSON path.
 */
export function formatPath(path: readonly PathSegment[]): string {
  let out = "$";
  for (const segment of path) {
    if (typeof segment === "number") out += `[${segment}]`;
    else if (IDENTIFIER.test(segment)) out += `.${segment}`;
    else out += `[${JSON.stringify(segment)}]`;
  }
  return out;
}

/**
 * Describes a found value for a message: JSON, shortened; `nothing` for `undefined`.
 *
 * @param value The value found in the document.
 * @returns A short description such as `"8080-8000"`, `12` or `{"a":1}`.
 */
export function describeValue(value: unknown): string {
  if (value === undefined) return "nothing";
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  return text.length > MAX_FOUND_LENGTH ? `${text.slice(0, MAX_FOUND_LENGTH - 1)}…` : text;
}

/**
 * Builds a problem whose message is `expected <expected>, found <found>` plus an optional note.
 *
 * @param where The file and path.
 * @param what What was expected, what was found (already described) and the severity.
 * @returns The problem.
 */
export function problem(
  where: { file: string; path: string },
  what: { expected: string; found: string; severity?: Severity; note?: string },
): Problem {
  const note = what.note ? ` (${what.note})` : "";
  return {
    file: where.file,
    path: where.path,
    expected: what.expected,
    found: what.found,
    message: `expected ${what.expected}, found ${what.found}${note}`,
    severity: what.severity ?? "error",
  };
}

/**
 * One line for a problem: `services/web.json: $.configuration.ports["80"]: expected …, found …`;
 * warnings carry a `warning: ` prefix before the message.
 *
 * @param p The problem.
 * @returns The line.
 */
export function formatProblem(p: Problem): string {
  const prefix = p.severity === "warning" ? "warning: " : "";
  return `${p.file}: ${p.path}: ${prefix}${p.message}`;
}

/** Whether any of `problems` is an error. */
export function hasErrors(problems: readonly Problem[]): boolean {
  return problems.some((p) => p.severity === "error");
}

/**
 * Counts errors and warnings as text: `2 errors, 1 warning`.
 *
 * @param problems The problems.
 * @returns The counts.
 */
export function countProblems(problems: readonly Problem[]): string {
  const errors = problems.filter((p) => p.severity === "error").length;
  const warnings = problems.length - errors;
  return `${plural(errors, "error")}, ${plural(warnings, "warning")}`;
}

/**
 * `1 service`, `2 services`.
 *
 * @param n The count.
 * @param noun The singular noun.
 * @returns The count and the noun.
 */
export function plural(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? "" : "s"}`;
}
