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
  {
    name: "field key ending in a backslash cannot escape the equals sign",
    point: p("m", { "a\\": 1, b: 2 }),
    line: `m a\\\\=1,b=2 ${T}`,
  },
  {
    name: "tag key and value ending in a backslash",
    point: p("m", { v: 1 }, { "k\\": "v\\", z: "1" }),
    line: `m,k\\\\=v\\\\,z=1 v=1 ${T}`,
  },
  {
    name: "measurement ending in a backslash",
    point: p("m\\", { v: 1 }),
    line: `m\\\\ v=1 ${T}`,
  },
  {
    name: "lone backslash before an ordinary character is kept",
    point: p("m", { v: 1 }, { path: "C:\\dir" }),
    line: `m,path=C:\\dir v=1 ${T}`,
  },
  {
    name: "backslash before a delimiter is doubled, the delimiter escaped",
    point: p("m", { "a\\,b\\=c\\ d": 1 }),
    line: `m a\\\\\\,b\\\\\\=c\\\\\\ d=1 ${T}`,
  },
  {
    name: "runs of backslashes are doubled",
    point: p("m", { v: 1 }, { t: "a\\\\b" }),
    line: `m,t=a\\\\\\\\b v=1 ${T}`,
  },
  {
    name: "equals sign in a measurement is kept, a backslash before it too",
    point: p("a=b\\=c", { v: 1 }),
    line: `a=b\\=c v=1 ${T}`,
  },
  {
    name: "control characters become visible text",
    point: p("m", { "k\u0000\u001b\t": 1 }, { t: "\r\u007f" }),
    line: `m,t=\\r\\u007f k\\u0000\\u001b\\t=1 ${T}`,
  },
  {
    name: "backslash before a line break",
    point: p("m", { "a\\\n": 1 }),
    line: `m a\\\\\\\\n=1 ${T}`,
  },
];

for (const c of cases) {
  Deno.test(`line protocol: ${c.name}`, () => {
    assert.equal(encodePoint(c.point), c.line);
  });
}

Deno.test("line protocol: no name can add a token, a field or a line", () => {
  const nasty = [
    "\\",
    "\\\\",
    "a\\",
    " ",
    ",",
    "=",
    "\\ ",
    "\\,",
    "\\=",
    "\n",
    '"',
    "\\\n",
    "x y,z=w\\",
  ];
  for (const n of nasty) {
    const line = encodePoint(p(n, { [n]: 1 }, { [n]: n }))!;
    assert.ok(!line.includes("\n"), JSON.stringify(n));
    // the unescaped delimiters: exactly one comma (tags), two spaces, two equals signs
    const bare = line.replace(/\\./g, "__");
    assert.equal(bare.split(" ").length, 3, `${JSON.stringify(n)} → ${line}`);
    assert.equal(bare.split(",").length, 2, `${JSON.stringify(n)} → ${line}`);
    // after the measurement: one equals sign in the tag, one in the field
    assert.equal(
      bare.slice(bare.indexOf(",")).split("=").length,
      3,
      `${JSON.stringify(n)} → ${line}`,
    );
  }
});

const v1Cases: { name: string; point: MetricPoint; line: string }[] = [
  {
    name: "trailing backslashes become _",
    point: p("m\\", { "f\\\\": 1 }, { "k\\": "v\\" }),
    line: `m_,k_=v_ f__=1 ${T}`,
  },
  {
    name: "a backslash before an escaped delimiter is written as it is",
    point: p("m\\,x", { "a\\=b": 1 }, { "c\\ d": "e\\,f" }),
    line: `m\\\\,x,c\\\\ d=e\\\\,f a\\\\=b=1 ${T}`,
  },
  {
    name: "backslashes inside a name are kept",
    point: p("m", { v: 1 }, { path: "C:\\dir\\\\x" }),
    line: `m,path=C:\\dir\\\\x v=1 ${T}`,
  },
  {
    name: "line breaks never raw",
    point: p("m", { v: 1 }, { t: "x\ny\\" }),
    line: `m,t=x\\ny_ v=1 ${T}`,
  },
];

for (const c of v1Cases) {
  Deno.test(`line protocol v1: ${c.name}`, () => {
    assert.equal(encodePoint(c.point, "v1"), c.line);
  });
}

Deno.test("line protocol v1: no name can add a token, a field or a line (1.x reads a delimiter after a backslash as escaped)", () => {
  const nasty = ["\\", "\\\\", "a\\", " ", ",", "=", "\\ ", "\\,", "\\=", "\n", '"', "x y,z=w\\"];
  for (const n of nasty) {
    const line = encodePoint(p(n, { [n]: 1 }, { [n]: n }), "v1")!;
    assert.ok(!line.includes("\n"), JSON.stringify(n));
    // a delimiter is unescaped when the byte before it is not a backslash
    const bare = [...line].map((c, i) => (i > 0 && line[i - 1] === "\\" ? "_" : c)).join("");
    assert.ok(!line.endsWith("\\"));
    assert.equal(bare.split(" ").length, 3, `${JSON.stringify(n)} → ${line}`);
    assert.equal(bare.split(",").length, 2, `${JSON.stringify(n)} → ${line}`);
    assert.equal(
      bare.slice(bare.indexOf(",")).split("=").length,
      3,
      `${JSON.stringify(n)} → ${line}`,
    );
  }
});

Deno.test("line protocol: encodeLines skips bad points, encodePoints joins with newlines", () => {
  const points = [p("a", { v: 1 }), p("b", {}), p("c", { v: 2 })];
  assert.deepEqual(encodeLines(points), [`a v=1 ${T}`, `c v=2 ${T}`]);
  assert.equal(encodePoints(points), `a v=1 ${T}\nc v=2 ${T}`);
  assert.equal(encodePoints([]), "");
});
