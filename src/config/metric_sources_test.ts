import assert from "node:assert/strict";
import { ValidationError } from "../domain/errors.ts";
import { checkServiceDescriptor, parseServiceDescriptor } from "./documents.ts";

const base = { Name: "web", Image: "nginx" };

function problems(doc: Record<string, unknown>): string[] {
  return checkServiceDescriptor({ ...base, ...doc }, "services/web.json").problems
    .filter((p) => p.severity === "error")
    .map((p) => `${p.path}: ${p.message}`);
}

Deno.test("MetricSources and OnSourceFailure: defaults", () => {
  const s = parseServiceDescriptor({
    ...base,
    metricsources: { rps: { URL: "http://127.0.0.1:8428", QUERY: 'sum(x{s="$service"})' } },
  }, "web.json");
  assert.deepEqual(s.metricSources, {
    rps: {
      type: "prometheus",
      url: "http://127.0.0.1:8428",
      query: 'sum(x{s="$service"})',
      scope: "cluster",
      headers: {},
      timeout: 2,
      staleAfter: 60,
    },
  });
  assert.equal(s.onSourceFailure, undefined, "absent: hold (fallback.ts)");
  const plain = parseServiceDescriptor(base, "web.json");
  assert.ok(!("metricSources" in plain) && !("onSourceFailure" in plain), "nothing added");
  for (const rule of ["hold", "scale-out-only", 3]) {
    assert.equal(
      parseServiceDescriptor({ ...base, OnSourceFailure: rule }, "w").onSourceFailure,
      rule,
    );
  }
});

Deno.test("MetricSources: each mistake named by JSON path, secrets never quoted", () => {
  const found = problems({
    MetricSources: {
      rps: {
        Url: "http://admin:hunter2@prom:9090",
        Query: "",
        Scope: "everywhere",
        Headers: { "X-Org": 42, "bad header": "v" },
        BasicAuth: { Username: "gru", Password: 1234567 },
        Timeout: 0,
        StaleAfter: -1,
      },
      "1st": { Url: "http://p", Query: "up" },
    },
    OnSourceFailure: "panic",
  });
  const text = found.join("\n");
  for (const secret of ["hunter2", "1234567", "42"]) assert.ok(!text.includes(secret), text);
  for (
    const expected of [
      /^\$\.MetricSources\.rps\.Url: expected an http:\/\/ or https:\/\/ URL .*found "http:\/\/<hidden>@prom:9090"/m,
      /^\$\.MetricSources\.rps\.Query: expected a PromQL query/m,
      /^\$\.MetricSources\.rps\.Scope: expected "cluster" or "node"/m,
      /^\$\.MetricSources\.rps\.Headers\["X-Org"\]: expected a string, found "<hidden>"/m,
      /^\$\.MetricSources\.rps\.Headers\["bad header"\]: expected a header name/m,
      /^\$\.MetricSources\.rps\.BasicAuth\.Password: expected a string, found "<hidden>"/m,
      /^\$\.MetricSources\.rps\.Timeout: expected a number of seconds greater than 0 and at most 60/m,
      /^\$\.MetricSources\.rps\.StaleAfter: expected a number of seconds greater than 0/m,
      /^\$\.MetricSources\["1st"\]: expected a metric name/m,
      /^\$\.OnSourceFailure: expected "hold", "scale-out-only" or a whole number of instances >= 1/m,
    ]
  ) assert.match(text, expected);
});

Deno.test("MetricSources: placeholders must exist and fit the scope", () => {
  assert.deepEqual(
    problems({ MetricSources: { rps: { Url: "http://p", Query: 'x{n="$node"} + $foo' } } }),
    [
      '$.MetricSources.rps.Query: expected no $node in cluster scope (one node queries for all: use "Scope": "node"), found "x{n=\\"$node\\"} + $foo"',
      '$.MetricSources.rps.Query: expected only the placeholders $service, $node and $instance (not $foo), found "x{n=\\"$node\\"} + $foo"',
    ],
  );
  assert.deepEqual(
    problems({
      MetricSources: {
        rps: { Url: "http://p", Scope: "node", Query: 'x{n="$node",c=~"$instance",s="$service"}' },
      },
    }),
    [],
  );
  assert.throws(
    () => parseServiceDescriptor({ ...base, OnSourceFailure: 0 }, "services/web.json"),
    (e: unknown) =>
      e instanceof ValidationError && /services\/web\.json/.test(e.message) &&
      /OnSourceFailure/.test(e.message),
  );
});
