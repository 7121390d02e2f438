import assert from "node:assert/strict";
import type { Analytic } from "../../domain/model.ts";
import { analyzeExpression } from "../../config/validate.ts";
import { compileAnalytics, type Scope } from "./expressions.ts";

function analytic(
  name: string,
  expr: string,
  metrics: string[],
  constraints: string[] = [],
): Analytic {
  return { name, expr, metrics, constraints };
}

const cases: {
  name: string;
  analytic: Analytic;
  scope: Scope;
  value: number | undefined;
  /** A substring of the expected reason; no reason expected when absent. */
  reason?: string;
  approx?: boolean;
}[] = [
  {
    name: "original example: (M1 + M2) / 2",
    analytic: analytic("a", "(M1 + M2) / 2", ["M1", "M2"]),
    scope: { M1: 0.2, M2: 0.8 },
    value: 0.5,
  },
  {
    name: "original example: M1 / C1 + M2 / C2",
    analytic: analytic("a", "M1 / C1 + M2 / C2", ["M1", "M2"], ["C1", "C2"]),
    scope: { M1: 0.2, M2: 0.8, C1: 1, C2: 2 },
    value: 0.6,
    approx: true,
  },
  {
    name: "missing metric is unknown, not 0",
    analytic: analytic("a", "(M1 + M2) / 2", ["M1", "M2"]),
    scope: { M1: 0.2 },
    value: undefined,
    reason: "unknown M2",
  },
  {
    name: "metric explicitly undefined is unknown",
    analytic: analytic("a", "M1", ["M1"]),
    scope: { M1: undefined },
    value: undefined,
    reason: "unknown M1",
  },
  {
    name: "missing constraint is unknown",
    analytic: analytic("a", "M1 / C1", ["M1"], ["C1"]),
    scope: { M1: 0.5 },
    value: undefined,
    reason: "unknown C1",
  },
  {
    name: "NaN metric is rejected",
    analytic: analytic("a", "M1", ["M1"]),
    scope: { M1: NaN },
    value: undefined,
    reason: "not a finite number",
  },
  {
    name: "division by zero is unknown",
    analytic: analytic("a", "M1 / C1", ["M1"], ["C1"]),
    scope: { M1: 1, C1: 0 },
    value: undefined,
    reason: "division by zero",
  },
  {
    name: "0 / 0 is unknown",
    analytic: analytic("a", "M1 / C1", ["M1"], ["C1"]),
    scope: { M1: 0, C1: 0 },
    value: undefined,
    reason: "NaN",
  },
  {
    name: "complex result is unknown",
    analytic: analytic("a", "sqrt(M1)", ["M1"]),
    scope: { M1: -4 },
    value: undefined,
    reason: "not a real number",
  },
  {
    name: "clamped above 1",
    analytic: analytic("a", "M1 * 3", ["M1"]),
    scope: { M1: 2 },
    value: 1,
  },
  {
    name: "clamped below 0",
    analytic: analytic("a", "M1 - 5", ["M1"]),
    scope: { M1: 2 },
    value: 0,
  },
  {
    name: "a - b*c - d has the usual precedence",
    analytic: analytic("a", "a - b*c - d", ["a", "b", "c", "d"]),
    // correct: 1 - 0.25 - 0.5 = 0.25; the original computed 1 - (0.25 - 0.5) = 1.25 → 1.
    scope: { a: 1, b: 0.5, c: 0.5, d: 0.5 },
    value: 0.25,
  },
  {
    name: "M1 and M10 do not collide",
    analytic: analytic("a", "M10 - M1", ["M1", "M10"]),
    scope: { M1: 0.25, M10: 0.75 },
    value: 0.5,
  },
  {
    name: "comparison yields 1 or 0",
    analytic: analytic("a", "M1 > C1", ["M1"], ["C1"]),
    scope: { M1: 0.9, C1: 0.5 },
    value: 1,
  },
  {
    name: "allowed functions work",
    analytic: analytic("a", "max(M1, M2) / C1", ["M1", "M2"], ["C1"]),
    scope: { M1: 30, M2: 50, C1: 100 },
    value: 0.5,
  },
  {
    name: "symbols not used by the expression are ignored",
    analytic: analytic("a", "M1", ["M1"]),
    scope: { M1: 0.3, other: undefined },
    value: 0.3,
  },
  {
    name: "inherited properties are not metrics",
    analytic: analytic("a", "constructor", ["constructor"]),
    scope: {},
    value: undefined,
    reason: "unknown constructor",
  },
  {
    name: "syntax error is reported",
    analytic: analytic("a", "M1 ** 2", ["M1"]),
    scope: { M1: 0.5 },
    value: undefined,
    reason: "invalid expression: syntax error",
  },
  {
    name: "unknown function is rejected as validation does",
    analytic: analytic("a", "evaluate(M1)", ["M1"]),
    scope: { M1: 0.5 },
    value: undefined,
    reason: "unknown function evaluate",
  },
  {
    name: "undeclared symbol is rejected as validation does",
    analytic: analytic("a", "M1 + X", ["M1"]),
    scope: { M1: 0.5, X: 0.1 },
    value: undefined,
    reason: "X is not a declared metric or constraint",
  },
  {
    name: "assignment is rejected as validation does",
    analytic: analytic("a", "M1 = 2", ["M1"]),
    scope: { M1: 0.5 },
    value: undefined,
    reason: "an assignment is not allowed",
  },
  {
    name: "string constant is rejected as validation does",
    analytic: analytic("a", 'M1 + "1"', ["M1"]),
    scope: { M1: 0.5 },
    value: undefined,
    reason: "invalid expression",
  },
];

for (const c of cases) {
  Deno.test(`evaluate: ${c.name}`, async () => {
    const compiled = await compileAnalytics([c.analytic]);
    const r = compiled.evaluate(c.analytic.name, c.scope);
    if (c.approx && c.value !== undefined && r.value !== undefined) {
      assert.ok(Math.abs(r.value - c.value) < 1e-12, `${r.value} ≈ ${c.value}`);
    } else {
      assert.equal(r.value, c.value);
    }
    if (c.reason === undefined) {
      assert.equal(r.reason, undefined);
    } else {
      assert.ok(r.reason?.includes(c.reason), `reason ${JSON.stringify(r.reason)}`);
    }
  });
}

Deno.test("evaluate: accepts exactly what validation accepts", async () => {
  const exprs = [
    "(M1 + M2) / 2",
    "M1 ** 2",
    "M1 ^ 2",
    "evaluate(M1)",
    "M1 + X",
    "[M1, M2]",
    "M1 = 2",
    "f(x) = x",
    "M1; M2",
    "M1 ? M2 : 0",
    "abs(M1) + mean(M1, M2)",
    "M1.x",
  ];
  for (const expr of exprs) {
    const a = analytic("a", expr, ["M1", "M2"]);
    const report = await analyzeExpression(expr);
    const valid = report.syntaxError === undefined && report.forbidden.length === 0 &&
      report.unknownFunctions.length === 0 &&
      report.symbols.every((s) => a.metrics.includes(s) || a.constraints.includes(s));
    const compiled = await compileAnalytics([a]);
    assert.equal(compiled.problem("a") === undefined, valid, expr);
  }
});

Deno.test("evaluate: unknown analytic name", async () => {
  const compiled = await compileAnalytics([]);
  assert.deepEqual(compiled.evaluate("nope", {}), {
    value: undefined,
    reason: "unknown analytic nope",
  });
  assert.equal(compiled.has("nope"), false);
});

Deno.test("compileAnalytics: names, symbols, last definition wins", async () => {
  const compiled = await compileAnalytics([
    analytic("x", "M1", ["M1"]),
    analytic("y", "M2 / C1 + M2", ["M2"], ["C1"]),
    analytic("x", "M3 * 0", ["M3"]),
  ]);
  assert.deepEqual(compiled.names, ["y", "x"]);
  assert.deepEqual(compiled.symbols("y"), ["M2", "C1"]);
  assert.equal(compiled.analytic("x")?.expr, "M3 * 0");
  assert.equal(compiled.evaluate("x", { M3: 5 }).value, 0);
});

Deno.test("evaluate: compiled once, 10 000 evaluations are fast", async () => {
  const compiled = await compileAnalytics([
    analytic("a", "M1 / C1 + M2 / C2", ["M1", "M2"], ["C1", "C2"]),
  ]);
  const start = performance.now();
  let sum = 0;
  for (let i = 0; i < 10_000; i++) {
    sum += compiled.evaluate("a", { M1: (i % 10) / 10, M2: 0.2, C1: 2, C2: 4 }).value ?? 0;
  }
  const elapsed = performance.now() - start;
  assert.ok(sum > 0);
  // Parsing each time costs ~50 µs; compiled evaluation is a few µs. Generous bound for CI.
  assert.ok(elapsed < 500, `10 000 evaluations took ${elapsed.toFixed(1)} ms`);
});
