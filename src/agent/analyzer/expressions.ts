/**
 * Analytic expressions, compiled once with mathjs and evaluated every loop over a service's
 * user metrics and constraints. Pure: no I/O, no clock.
 *
 * The analyzer accepts exactly what configuration validation accepts: each expression is
 * checked with {@link analyzeExpression} (the function `validateClusterDocs` uses), and one it
 * would reject (syntax error, forbidden construct, unknown function, undeclared symbol) never
 * evaluates; it reads `undefined` with the reason.
 *
 * Differences from the original's evaluator (docs/compat.md#d16):
 * - Precedence is mathjs's, which is the usual one: `a - b*c - d` is `(a - (b*c)) - d`; the
 *   original computed `a - (b*c - d)`. Powers are `^` (the original's `**` is a syntax error,
 *   which validation reports with a hint). Comparisons (`<`, `>`, `==`…) yield 1 or 0 as in the
 *   original; mathjs's `and`, `or`, `not`, `? :`, `%` (mod) and the functions of
 *   {@link EXPRESSION_FUNCTIONS} are also available. Arithmetic is floating point, not exact
 *   rational: the evaluator is mathjs's number-only build (`mathjs/number`), about 35 MB of RSS
 *   lighter than full mathjs; a result that would be complex there (`sqrt(-1)`) is NaN here and
 *   reads unknown either way.
 * - Metric and constraint names are mathjs symbols bound in a scope, not text substituted into
 *   the expression, so `M1` and `M10` do not collide.
 * - Nothing silently becomes 0: an unknown symbol (a metric without samples in the window), an
 *   evaluation error, a non-finite result (division by zero), a complex or non-numeric result
 *   all give `undefined` with a reason for the caller to log.
 *
 * Results are clamped to [0, 1] as in the original.
 *
 * @module
 */

import type { EvalFunction } from "mathjs";
import type { Analytic } from "../../domain/model.ts";
import { analyzeExpression, EXPRESSION_FUNCTIONS } from "../../config/validate.ts";

/** The value of an analytic, or why it is unknown. */
export interface Evaluation {
  /** In [0, 1], or `undefined` when unknown. */
  value: number | undefined;
  /** Why `value` is undefined (e.g. `unknown M1`, `division by zero or overflow`). */
  reason?: string;
}

/** Values bound to an expression's symbols; `undefined` is unknown. */
export type Scope = Readonly<Record<string, number | undefined>>;

/** Analytics compiled once, evaluated many times. */
export interface CompiledAnalytics {
  /** Names of the compiled analytics (valid or not), in input order. */
  readonly names: readonly string[];
  /** Whether an analytic of that name was given. */
  has(name: string): boolean;
  /** The analytic as given, `undefined` when unknown. */
  analytic(name: string): Analytic | undefined;
  /** Symbols the expression reads, in order of first use (empty for an invalid one). */
  symbols(name: string): readonly string[];
  /** Why the analytic cannot be evaluated, `undefined` when it is valid. */
  problem(name: string): string | undefined;
  /**
   * Evaluates an analytic. Only the symbols the expression uses are read from `scope` (own
   * properties only); one that is missing, `undefined` or not finite makes the result unknown.
   */
  evaluate(name: string, scope: Scope): Evaluation;
}

interface Entry {
  analytic: Analytic;
  symbols: readonly string[];
  code: EvalFunction | undefined;
  problem: string | undefined;
}

/** The symbols an expression reads and, when validation would reject it, why. */
async function rejection(a: Analytic): Promise<{ symbols: string[]; problem?: string }> {
  const report = await analyzeExpression(a.expr);
  if (report.syntaxError !== undefined) {
    return { symbols: [], problem: `syntax error: ${report.syntaxError}` };
  }
  const problems: string[] = [];
  for (const what of report.forbidden) problems.push(`${what} is not allowed`);
  for (const fn of report.unknownFunctions) {
    problems.push(`unknown function ${fn} (known: ${EXPRESSION_FUNCTIONS.join(", ")})`);
  }
  const declared = new Set([...a.metrics, ...a.constraints]);
  for (const symbol of report.symbols) {
    if (!declared.has(symbol)) problems.push(`${symbol} is not a declared metric or constraint`);
  }
  return problems.length === 0
    ? { symbols: report.symbols }
    : { symbols: report.symbols, problem: problems.join("; ") };
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Turns a mathjs result into a clamped number or a reason. */
function toEvaluation(result: unknown): Evaluation {
  let n: number;
  if (typeof result === "number") n = result;
  else if (typeof result === "boolean") n = result ? 1 : 0;
  else {
    const kind = result === null
      ? "null"
      : typeof result === "object"
      ? ((result as { type?: unknown }).type ?? result.constructor?.name ?? "object")
      : typeof result;
    return { value: undefined, reason: `result is not a real number (${String(kind)})` };
  }
  if (Number.isNaN(n)) return { value: undefined, reason: "result is not a real number (NaN)" };
  if (!Number.isFinite(n)) return { value: undefined, reason: "division by zero or overflow" };
  return { value: Math.min(1, Math.max(0, n)) };
}

/**
 * Compiles analytics once. mathjs is imported on first call (it is large, and only agents
 * evaluate expressions). Never throws for a bad expression: the analytic is kept and
 * {@link CompiledAnalytics.evaluate} reports its problem. When two analytics share a name the
 * last one wins.
 *
 * @param analytics The cluster's analytics.
 * @returns The compiled set.
 */
export async function compileAnalytics(analytics: readonly Analytic[]): Promise<CompiledAnalytics> {
  // Even the number-only build of mathjs costs ~15-35 MB of RSS (by the V8 flags): load it only
  // when there is something to compile.
  let math: typeof import("mathjs/number") | undefined;
  const entries = new Map<string, Entry>();
  for (const analytic of analytics) {
    math ??= await import("mathjs/number");
    const checked = await rejection(analytic);
    let code: EvalFunction | undefined;
    let problem = checked.problem;
    if (problem === undefined) {
      try {
        code = math.compile(analytic.expr);
      } catch (err) {
        problem = `cannot compile: ${describe(err)}`;
      }
    }
    entries.delete(analytic.name); // keep input order of the last definition
    entries.set(analytic.name, {
      analytic,
      symbols: problem === undefined ? checked.symbols : [],
      code,
      problem,
    });
  }
  const names = [...entries.keys()];
  return {
    names,
    has: (name) => entries.has(name),
    analytic: (name) => entries.get(name)?.analytic,
    symbols: (name) => entries.get(name)?.symbols ?? [],
    problem: (name) => entries.get(name)?.problem,
    evaluate(name, scope) {
      const entry = entries.get(name);
      if (entry === undefined) return { value: undefined, reason: `unknown analytic ${name}` };
      if (entry.code === undefined) {
        return { value: undefined, reason: `invalid expression: ${entry.problem ?? "?"}` };
      }
      const bound = new Map<string, number>();
      for (const symbol of entry.symbols) {
        const value = Object.hasOwn(scope, symbol) ? scope[symbol] : undefined;
        if (value === undefined) return { value: undefined, reason: `unknown ${symbol}` };
        if (typeof value !== "number" || !Number.isFinite(value)) {
          return { value: undefined, reason: `${symbol} is not a finite number (${value})` };
        }
        bound.set(symbol, value);
      }
      let result: unknown;
      try {
        result = entry.code.evaluate(bound);
      } catch (err) {
        return { value: undefined, reason: `evaluation failed: ${describe(err)}` };
      }
      return toEvaluation(result);
    },
  };
}
