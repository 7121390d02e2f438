import assert from "node:assert/strict";
import {
  countProblems,
  describeValue,
  formatPath,
  formatProblem,
  hasErrors,
  problem,
} from "./problem.ts";

Deno.test("formatPath() uses dots for identifiers and quotes other keys", () => {
  const cases = [
    { path: [], text: "$" },
    { path: ["configuration", "ports", "80"], text: `$.configuration.ports["80"]` },
    { path: ["analytics", 0], text: "$.analytics[0]" },
    { path: ["env", "MY VAR"], text: `$.env["MY VAR"]` },
    { path: ["volumes", "/data"], text: `$.volumes["/data"]` },
    { path: ["a_b", "$c"], text: "$.a_b.$c" },
  ];
  for (const c of cases) assert.equal(formatPath(c.path), c.text);
});

Deno.test("describeValue() quotes strings, shortens long values and names a missing one", () => {
  assert.equal(describeValue("8080-8000"), `"8080-8000"`);
  assert.equal(describeValue(12), "12");
  assert.equal(describeValue(false), "false");
  assert.equal(describeValue(null), "null");
  assert.equal(describeValue(undefined), "nothing");
  assert.equal(describeValue({ a: [1] }), `{"a":[1]}`);
  const long = describeValue("x".repeat(200));
  assert.equal(long.length, 60);
  assert.ok(long.endsWith("…"));
});

Deno.test("formatProblem() names the file, the path, what was expected and found", () => {
  const p = problem({ file: "services/web.json", path: `$.configuration.ports["80"]` }, {
    expected: "an ascending port range in 1..65535",
    found: describeValue("8080-8000"),
  });
  assert.equal(
    formatProblem(p),
    `services/web.json: $.configuration.ports["80"]: expected an ascending port range in 1..65535, found "8080-8000"`,
  );
  assert.equal(p.severity, "error");
  const w = problem({ file: "config.json", path: "$.x" }, {
    expected: "a known key",
    found: `"x"`,
    severity: "warning",
    note: "ignored",
  });
  assert.equal(
    formatProblem(w),
    `config.json: $.x: warning: expected a known key, found "x" (ignored)`,
  );
});

Deno.test("countProblems() and hasErrors() count by severity", () => {
  const e = problem({ file: "f", path: "$" }, { expected: "a", found: "b" });
  const w = problem({ file: "f", path: "$" }, { expected: "a", found: "b", severity: "warning" });
  assert.equal(countProblems([]), "0 errors, 0 warnings");
  assert.equal(countProblems([e, w, w]), "1 error, 2 warnings");
  assert.equal(hasErrors([w]), false);
  assert.equal(hasErrors([w, e]), true);
});
