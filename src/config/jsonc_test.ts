import assert from "node:assert/strict";
import { parseJsonc, positionAt } from "./jsonc.ts";
import { formatProblem } from "./problem.ts";

Deno.test("parseJsonc() accepts comments and trailing commas", () => {
  const text = `// leading comment
{
  /* block */ "a": 1, // trailing comment
  "b": [1, 2,],
}`;
  assert.deepEqual(parseJsonc(text, "f.json"), { value: { a: 1, b: [1, 2] }, problems: [] });
});

Deno.test("parseJsonc() reports the first syntax error with its line and column", () => {
  const cases = [
    {
      name: "missing comma",
      text: `{\n  "a": 1\n  "b": 2\n}`,
      line: `f.json: $: invalid JSON at line 3, column 3: expected ",", found "b"`,
    },
    {
      name: "unclosed object",
      text: `{"a": 1`,
      line:
        `f.json: $: invalid JSON at line 1, column 8: expected "}", found the end of the document`,
    },
    {
      name: "empty file",
      text: ``,
      line:
        `f.json: $: invalid JSON at line 1, column 1: expected a value, found the end of the document`,
    },
    {
      name: "bare word",
      text: `{"a": yes}`,
      line: `f.json: $: invalid JSON at line 1, column 7: expected a JSON value, found "yes"`,
    },
    {
      name: "two documents",
      text: `{} {}`,
      line:
        `f.json: $: invalid JSON at line 1, column 4: expected the end of the document, found "{"`,
    },
  ];
  for (const c of cases) {
    const r = parseJsonc(c.text, "f.json");
    assert.equal(r.value, undefined, c.name);
    assert.deepEqual(r.problems.map(formatProblem), [c.line], c.name);
  }
});

Deno.test("positionAt() counts lines and columns from 1", () => {
  assert.deepEqual(positionAt("ab\ncd", 0), { line: 1, column: 1 });
  assert.deepEqual(positionAt("ab\ncd", 4), { line: 2, column: 2 });
});
