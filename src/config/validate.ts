/**
 * Checks across documents: analytic expressions (parsed with mathjs, loaded lazily so commands
 * that never validate do not pay for it), references from services and the policy to analytics,
 * constraints that analytics need. Two services may share an image: instances are matched to
 * services by label, not by image (docs/compat.md#d27).
 *
 * @module
 */

import type { MathNode } from "mathjs";
import type { Analytic, ClusterDocs, PolicyConfig, ServiceDescriptor } from "../domain/model.ts";
import { closest } from "./suggest.ts";
import { describeValue, formatPath, type PathSegment, type Problem, problem } from "./problem.ts";

/** Functions an analytic expression may call (numeric functions of mathjs). */
export const EXPRESSION_FUNCTIONS: readonly string[] = [
  "abs",
  "cbrt",
  "ceil",
  "cos",
  "cube",
  "exp",
  "fix",
  "floor",
  "hypot",
  "log",
  "log10",
  "log2",
  "max",
  "mean",
  "median",
  "min",
  "mod",
  "nthRoot",
  "pow",
  "prod",
  "round",
  "sign",
  "sin",
  "sqrt",
  "square",
  "std",
  "sum",
  "tan",
  "variance",
];

/** mathjs node types that do not belong in a numeric expression, with a reason. */
const FORBIDDEN_NODES: Readonly<Record<string, string>> = {
  AssignmentNode: "an assignment",
  FunctionAssignmentNode: "a function definition",
  BlockNode: "several statements",
  ArrayNode: "an array",
  ObjectNode: "an object",
  AccessorNode: "a property or index access",
  IndexNode: "an index",
  RangeNode: "a range",
};

/** What an expression is made of. */
export interface ExpressionReport {
  /** The parse error, when it does not parse. */
  syntaxError?: string;
  /** Variables read, in order of first use. */
  symbols: string[];
  /** Functions called that are not in `EXPRESSION_FUNCTIONS`. */
  unknownFunctions: string[];
  /** Constructs that are not allowed, described (`an assignment`). */
  forbidden: string[];
}

/**
 * Parses an expression with mathjs and lists its symbols, unknown functions and forbidden
 * constructs (assignments, blocks, arrays, strings…).
 *
 * @param expr The expression, e.g. `execution_time / MAX_RESP_TIME`.
 * @returns What the expression uses.
 */
export async function analyzeExpression(expr: string): Promise<ExpressionReport> {
  const { parse } = await import("mathjs/number");
  const report: ExpressionReport = { symbols: [], unknownFunctions: [], forbidden: [] };
  let root: MathNode;
  try {
    root = parse(expr);
  } catch (err) {
    report.syntaxError = err instanceof Error ? err.message : String(err);
    return report;
  }
  const add = (list: string[], item: string) => {
    if (!list.includes(item)) list.push(item);
  };
  root.traverse((node, path, parent) => {
    const forbidden = FORBIDDEN_NODES[node.type];
    if (forbidden) add(report.forbidden, forbidden);
    if (node.type === "ConstantNode") {
      const value = (node as MathNode & { value: unknown }).value;
      if (typeof value !== "number") add(report.forbidden, `the constant ${node.toString()}`);
    }
    if (node.type === "FunctionNode") {
      const fn = (node as MathNode & { fn: MathNode }).fn;
      if (fn.type !== "SymbolNode") add(report.forbidden, "a computed function call");
    }
    if (node.type !== "SymbolNode") return;
    const name = (node as MathNode & { name: string }).name;
    if (parent?.type === "FunctionNode" && path === "fn") {
      if (!EXPRESSION_FUNCTIONS.includes(name)) add(report.unknownFunctions, name);
    } else {
      add(report.symbols, name);
    }
  });
  return report;
}

/** Where a document came from, to name it in problems. */
export interface DocSource {
  /** File or key, e.g. `services/web.json`. */
  file: string;
  /** Formats a canonical path as the document spells it. */
  pathOf(path: readonly PathSegment[]): string;
}

/** Sources of the documents passed to `validateClusterDocs`; services and analytics by name. */
export interface DocSources {
  config?: DocSource | undefined;
  policy?: DocSource | undefined;
  services?: ReadonlyMap<string, DocSource>;
  analytics?: ReadonlyMap<string, DocSource>;
  /** Analytics that exist but failed to load: references to them are not reported again. */
  unloadedAnalytics?: ReadonlySet<string>;
}

/** A problem for a reference to an analytic that does not exist. */
function unknownAnalytic(
  where: { file: string; path: string },
  name: string,
  analytics: ReadonlyMap<string, Analytic>,
): Problem {
  const known = [...analytics.keys()];
  const guess = closest(name, known);
  return problem(where, {
    expected: `the name of a defined analytic (${list(known)})`,
    found: describeValue(name),
    ...(guess ? { note: `did you mean "${guess}"?` } : {}),
  });
}

function fallback(file: string): DocSource {
  return { file, pathOf: formatPath };
}

function list(values: readonly string[]): string {
  return values.length === 0 ? "none" : values.join(", ");
}

async function checkAnalytic(a: Analytic, src: DocSource): Promise<Problem[]> {
  const at = (path: PathSegment[]) => ({ file: src.file, path: src.pathOf(path) });
  const report = await analyzeExpression(a.expr);
  if (report.syntaxError !== undefined) {
    const hint = a.expr.includes("**") ? `; use "^" for powers` : "";
    return [problem(at(["expr"]), {
      expected: "an expression mathjs can parse",
      found: describeValue(a.expr),
      note: report.syntaxError + hint,
    })];
  }
  const out: Problem[] = [];
  for (const what of report.forbidden) {
    out.push(problem(at(["expr"]), {
      expected: "a single arithmetic expression over numbers",
      found: what,
    }));
  }
  for (const fn of report.unknownFunctions) {
    out.push(problem(at(["expr"]), {
      expected: `a known function (${EXPRESSION_FUNCTIONS.join(", ")})`,
      found: describeValue(fn),
    }));
  }
  const declared = new Set([...a.metrics, ...a.constraints]);
  for (const symbol of report.symbols) {
    if (declared.has(symbol)) continue;
    out.push(problem(at(["expr"]), {
      expected: `a name declared in metrics (${list(a.metrics)}) or constraints (${
        list(a.constraints)
      })`,
      found: describeValue(symbol),
    }));
  }
  for (const field of ["metrics", "constraints"] as const) {
    a[field].forEach((name, i) => {
      if (report.symbols.includes(name)) return;
      out.push(problem(at([field, i]), {
        expected: "a name the expression uses",
        found: describeValue(name),
        severity: "warning",
        note: `not used by ${describeValue(a.expr)}`,
      }));
    });
  }
  return out;
}

function checkService(
  s: ServiceDescriptor,
  src: DocSource,
  analytics: ReadonlyMap<string, Analytic> | undefined,
  unloaded: ReadonlySet<string>,
): Problem[] {
  if (analytics === undefined) return [];
  const out: Problem[] = [];
  s.analytics.forEach((name, i) => {
    if (unloaded.has(name)) return;
    const analytic = analytics.get(name);
    if (analytic === undefined) {
      out.push(
        unknownAnalytic({ file: src.file, path: src.pathOf(["analytics", i]) }, name, analytics),
      );
      return;
    }
    for (const c of analytic.constraints) {
      if (Object.hasOwn(s.constraints, c)) continue;
      out.push(problem({ file: src.file, path: src.pathOf(["constraints"]) }, {
        expected: `a "${c}" constraint, which analytic "${name}" uses`,
        found: Object.keys(s.constraints).length === 0
          ? "no constraints"
          : `only ${Object.keys(s.constraints).join(", ")}`,
      }));
    }
  });
  return out;
}

function checkPolicy(
  p: PolicyConfig,
  src: DocSource,
  analytics: ReadonlyMap<string, Analytic> | undefined,
  unloaded: ReadonlySet<string>,
): Problem[] {
  if (analytics === undefined) return [];
  const out: Problem[] = [];
  for (const rule of ["scalein", "scaleout", "swap"] as const) {
    p[rule].analytics.forEach((name, i) => {
      if (analytics.has(name) || unloaded.has(name)) return;
      const where = { file: src.file, path: src.pathOf([rule, "analytics", i]) };
      out.push(unknownAnalytic(where, name, analytics));
    });
  }
  return out;
}

/**
 * Checks the documents against each other. References to analytics are checked only when
 * `docs.analytics` is present (an import without analytics keeps the stored ones).
 *
 * @param docs The documents, already checked one by one.
 * @param sources Where each came from; defaults name them `services/<name>` and so on.
 * @returns Every problem found.
 */
export async function validateClusterDocs(
  docs: ClusterDocs,
  sources: DocSources = {},
): Promise<Problem[]> {
  const problems: Problem[] = [];
  const unloaded = sources.unloadedAnalytics ?? new Set<string>();
  const analyticSource = (a: Analytic) =>
    sources.analytics?.get(a.name) ?? fallback(`analytics/${a.name}`);
  const serviceSource = (s: ServiceDescriptor) =>
    sources.services?.get(s.name) ?? fallback(`services/${s.name}`);
  const analytics = docs.analytics && new Map(docs.analytics.map((a) => [a.name, a]));
  for (const a of docs.analytics ?? []) {
    problems.push(...await checkAnalytic(a, analyticSource(a)));
  }
  for (const s of docs.services ?? []) {
    problems.push(...checkService(s, serviceSource(s), analytics, unloaded));
  }
  if (docs.policy) {
    const src = sources.policy ?? fallback("policy");
    problems.push(...checkPolicy(docs.policy, src, analytics, unloaded));
  }
  const strategy = docs.config?.autonomic.plannerStrategy;
  if (strategy === "target" && docs.services && !docs.services.some((s) => s.scaling?.target)) {
    const src = sources.config ?? fallback("config");
    problems.push(problem({ file: src.file, path: src.pathOf(["autonomic", "plannerStrategy"]) }, {
      expected: `a service with Scaling.Target when the strategy is "target"`,
      found: "no service with one",
      severity: "warning",
      note: "no load-driven scaling happens",
    }));
  }
  return problems;
}
