import assert from "node:assert/strict";
import type { MetricPoint } from "../../ports/metric_sink.ts";
import { encodeLines, encodePoint, encodePoints } from "./line_protocol.ts";

const T = 1_700_000_000_123;

function p(
  measurement: string,
  fields: MetricPoint["fields"],
  tags: Record<string, string> = {},
  time = T,
): MetricPoint {
  return { measurement, tags, fields, time };
}

const cases: { name: string; point: MetricPoint; line: string | undefined }[] = [
  { name: "plain float", point: p("cpu", { v: 0.5 }), line: `cpu v=0.5 ${T}` },
  { name: "integer as float", point: p("cpu", { v: 3 }), line: `cpu v=3 ${T}` },
  { name: "negative zero", point: p("cpu", { v: -0 }), line: `cpu v=0 ${T}` },
  { name: "exponent", point: p("cpu", { v: 1e21 }), line: `cpu v=1e+21 ${T}` },
  { name: "booleans", point: p("m", { a: true, b: false }), line: `m a=true,b=false ${T}` },
  { name: "string field", point: p("m", { s: "hello" }), line: `m s="hello" ${T}` },
  {
    name: "string quotes and backslashes",
    point: p("m", { s: `a "q" \\ b` }),
    line: `m s="a \\"q\\" \\\\ b" ${T}`,
  },
  {
    name: "string with commas, equals and spaces unescaped",
    point: p("m", { s: "a,b=c d" }),
    line: `m s="a,b=c d" ${T}`,
  },
  {
    name: "measurement commas and spaces",
    point: p("my m,x=y", { v: 1 }),
    line: `my\\ m\\,x=y v=1 ${T}`,
  },
  {
    name: "tag key and value escaping",
    point: p("m", { v: 1 }, { "a b": "c,d=e f" }),
    line: `m,a\\ b=c\\,d\\=e\\ f v=1 ${T}`,
  },
  {
    name: "field key escaping",
    point: p("m", { "x,y=z w": 1 }),
    line: `m x\\,y\\=z\\ w=1 ${T}`,
  },
  {
    name: "tags sorted, empty tag values skipped",
    point: p("m", { v: 1 }, { z: "1", a: "2", e: "" }),
    line: `m,a=2,z=1 v=1 ${T}`,
  },
  {
    name: "non-finite fields skipped",
    point: p("m", { a: NaN, b: Infinity, c: -Infinity, d: 2 }),
    line: `m d=2 ${T}`,
  },
  { name: "no field left", point: p("m", { a: NaN }), line: undefined },
  { name: "no fields", point: p("m", {}), line: undefined },
  { name: "empty measurement", point: p("", { v: 1 }), line: undefined },
  { name: "non-finite time", point: p("m", { v: 1 }, {}, NaN), line: undefined },
  { name: "fractional time truncated", point: p("m", { v: 1 }, {}, 12.9), line: `m v=1 12` },
  {
    name: "line breaks never raw",
    point: p("m\n", { s: "a\nb" }, { t: "x\ny" }),
    line: `m\\n,t=x\\ny s="a\\nb" ${T}`,
  },
];

for (const c of cases) {
  Deno.test(`line protocol: ${c.name}`, () => {
    assert.equal(encodePoint(c.point), c.line);
  });
}

Deno.test("line protocol: encodeLines skips bad points, encodePoints joins with newlines", () => {
  const points = [p("a", { v: 1 }), p("b", {}), p("c", { v: 2 })];
  assert.deepEqual(encodeLines(points), [`a v=1 ${T}`, `c v=2 ${T}`]);
  assert.equal(encodePoints(points), `a v=1 ${T}\nc v=2 ${T}`);
  assert.equal(encodePoints([]), "");
});
