import assert from "node:assert/strict";
import { escapeControl, excerpt } from "./excerpt.ts";

Deno.test("excerpt() quotes at most 80 characters of a string, then …", () => {
  const e = excerpt("x".repeat(5000));
  assert.equal(e, `"${"x".repeat(80)}…"`);
  assert.equal(excerpt("short"), '"short"');
});

Deno.test("excerpt() escapes control characters, quotes and bidi overrides", () => {
  assert.equal(excerpt("a\nb\u0000c\u001b[2J\u202e"), '"a\\nb\\u0000c\\u001b[2J\\u202e"');
  assert.equal(excerpt('say "hi"'), '"say \\"hi\\""');
  assert.equal(excerpt("\u0085\u2028"), '"\\u0085\\u2028"');
});

Deno.test("excerpt() shows other values as the start of their JSON", () => {
  assert.equal(excerpt({ a: 1 }), '{"a":1}');
  assert.equal(excerpt(undefined), "undefined");
  const big = excerpt({ values: Array.from({ length: 1000 }, (_, i) => i) });
  assert.equal(big.length, 81);
  assert.ok(big.endsWith("…"));
  const cyclic: Record<string, unknown> = {};
  cyclic.self = cyclic;
  assert.equal(excerpt(cyclic), "[object Object]");
});

Deno.test("excerpt() never splits a surrogate pair", () => {
  const e = excerpt("a" + "😀".repeat(50), 4);
  assert.equal(e, '"a😀…"');
});

Deno.test("escapeControl() keeps ordinary text", () => {
  assert.equal(escapeControl("héllo wörld → ✓"), "héllo wörld → ✓");
  assert.equal(escapeControl("x\r\ty\u007f"), "x\\r\\ty\\u007f");
});
