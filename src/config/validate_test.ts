import assert from "node:assert/strict";
import type { Analytic, ClusterDocs, ServiceDescriptor } from "../domain/model.ts";
import { defaultPolicyConfig, parseServiceDescriptor } from "./documents.ts";
import { analyzeExpression, validateClusterDocs } from "./validate.ts";
import { formatProblem } from "./problem.ts";

Deno.test("analyzeExpression() lists symbols, unknown functions and forbidden constructs", async () => {
  const cases = [
    {
      expr: "execution_time / MAX_RESP_TIME",
      symbols: ["execution_time", "MAX_RESP_TIME"],
      unknownFunctions: [],
      forbidden: [],
    },
    {
      expr: "max(a, b) / min(c, 2) + abs(d) * sqrt(a) ^ 2",
      symbols: ["a", "b", "c", "d"],
      unknownFunctions: [],
      forbidden: [],
    },
    { expr: "a > b ? 1 : 0", symbols: ["a", "b"], unknownFunctions: [], forbidden: [] },
    { expr: "foo(a)", symbols: ["a"], unknownFunctions: ["foo"], forbidden: [] },
    { expr: "a = 1", symbols: ["a"], unknownFunctions: [], forbidden: ["an assignment"] },
    {
      expr: "f(x) = x",
      symbols: ["x"],
      unknownFunctions: [],
      forbidden: ["a function definition"],
    },
    { expr: "[a, 1]", symbols: ["a"], unknownFunctions: [], forbidden: ["an array"] },
    { expr: `"text"`, symbols: [], unknownFunctions: [], forbidden: [`the constant "text"`] },
  ];
  for (const c of cases) {
    const { expr, ...expected } = c;
    assert.deepEqual(await analyzeExpression(expr), expected, expr);
  }
  const bad = await analyzeExpression("a / (b +");
  assert.match(bad.syntaxError ?? "", /Unexpected end of expression/);
});

function service(over: Partial<ServiceDescriptor>): ServiceDescriptor {
  return { ...parseServiceDescriptor({ name: "web", image: "img" }, "s"), ...over };
}

const ratio: Analytic = {
  name: "resp_time_ratio",
  expr: "response_time / MAX_RESP_TIME",
  metrics: ["response_time"],
  constraints: ["MAX_RESP_TIME"],
};

Deno.test("validateClusterDocs() accepts consistent documents", async () => {
  const policy = defaultPolicyConfig();
  policy.scaleout.analytics = ["resp_time_ratio"];
  const docs: ClusterDocs = {
    policy,
    analytics: [ratio],
    services: [service({ analytics: ["resp_time_ratio"], constraints: { MAX_RESP_TIME: 200 } })],
  };
  assert.deepEqual(await validateClusterDocs(docs), []);
});

Deno.test("validateClusterDocs() reports each cross-document problem", async () => {
  const cases: { name: string; docs: ClusterDocs; lines: string[] }[] = [
    {
      name: "undeclared symbol",
      docs: { analytics: [{ ...ratio, expr: "response_time / MAX_RESP_TIME * load" }] },
      lines: [
        `analytics/resp_time_ratio: $.expr: expected a name declared in metrics (response_time) or constraints (MAX_RESP_TIME), found "load"`,
      ],
    },
    {
      name: "unused declarations",
      docs: { analytics: [{ name: "a", expr: "2", metrics: ["m"], constraints: ["C"] }] },
      lines: [
        `analytics/a: $.metrics[0]: warning: expected a name the expression uses, found "m" (not used by "2")`,
        `analytics/a: $.constraints[0]: warning: expected a name the expression uses, found "C" (not used by "2")`,
      ],
    },
    {
      name: "power operator of the original",
      docs: { analytics: [{ name: "p", expr: "m ** 2", metrics: ["m"], constraints: [] }] },
      lines: [
        `analytics/p: $.expr: expected an expression mathjs can parse, found "m ** 2" (Value expected (char 4); use "^" for powers)`,
      ],
    },
    {
      name: "service names an unknown analytic",
      docs: { analytics: [ratio], services: [service({ analytics: ["resp_time_ratoi"] })] },
      lines: [
        `services/web: $.analytics[0]: expected the name of a defined analytic (resp_time_ratio), found "resp_time_ratoi" (did you mean "resp_time_ratio"?)`,
      ],
    },
    {
      name: "service lacks a constraint",
      docs: { analytics: [ratio], services: [service({ analytics: ["resp_time_ratio"] })] },
      lines: [
        `services/web: $.constraints: expected a "MAX_RESP_TIME" constraint, which analytic "resp_time_ratio" uses, found no constraints`,
      ],
    },
    {
      name: "policy names an unknown analytic",
      docs: {
        analytics: [],
        policy: {
          ...defaultPolicyConfig(),
          swap: { ...defaultPolicyConfig().swap, analytics: ["x"] },
        },
      },
      lines: [
        `policy: $.swap.analytics[0]: expected the name of a defined analytic (none), found "x"`,
      ],
    },
    {
      name: "two services may share an image (instances are matched by label)",
      docs: { services: [service({}), service({ name: "api" })] },
      lines: [],
    },
  ];
  for (const c of cases) {
    const problems = await validateClusterDocs(c.docs);
    assert.deepEqual(problems.map(formatProblem), c.lines, c.name);
  }
});

Deno.test("validateClusterDocs() leaves references unchecked without analytics", async () => {
  const docs: ClusterDocs = {
    services: [service({ analytics: ["stored_elsewhere"] })],
    policy: {
      ...defaultPolicyConfig(),
      scalein: { ...defaultPolicyConfig().scalein, analytics: ["x"] },
    },
  };
  assert.deepEqual(await validateClusterDocs(docs), []);
});

Deno.test("validateClusterDocs() does not repeat problems of analytics that failed to load", async () => {
  const docs: ClusterDocs = { analytics: [], services: [service({ analytics: ["broken"] })] };
  assert.deepEqual(await validateClusterDocs(docs, { unloadedAnalytics: new Set(["broken"]) }), []);
  assert.equal((await validateClusterDocs(docs)).length, 1);
});
