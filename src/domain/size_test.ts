import assert from "node:assert/strict";
import { isSize, memoryLimitBytes, parseSize } from "./size.ts";

Deno.test("parseSize() accepts digits with an optional binary suffix and b", () => {
  const cases: { name: string; text: string; bytes: number }[] = [
    { name: "plain bytes", text: "32", bytes: 32 },
    { name: "b suffix", text: "32b", bytes: 32 },
    { name: "upper-case K", text: "32K", bytes: 32 * 1024 },
    { name: "kb", text: "32kb", bytes: 32 * 1024 },
    { name: "m", text: "512m", bytes: 512 * 1024 ** 2 },
    { name: "MB", text: "64MB", bytes: 64 * 1024 ** 2 },
    { name: "g", text: "1g", bytes: 1024 ** 3 },
    { name: "G", text: "2G", bytes: 2 * 1024 ** 3 },
    { name: "t", text: "1t", bytes: 1024 ** 4 },
    { name: "p", text: "1p", bytes: 1024 ** 5 },
    { name: "zero", text: "0", bytes: 0 },
  ];
  for (const c of cases) assert.equal(parseSize(c.text), c.bytes, c.name);
});

Deno.test("parseSize() rejects what the original rejects", () => {
  for (
    const text of ["", "-32", "32.3", " 32", "32 ", "3 2", "32bm", "m", "32x", "1e3", "99999999p"]
  ) {
    assert.throws(() => parseSize(text), RangeError, text);
    assert.equal(isSize(text), false, text);
  }
});

Deno.test("memoryLimitBytes() maps an empty memory to 0 (no limit)", () => {
  assert.equal(memoryLimitBytes(""), 0);
  assert.equal(memoryLimitBytes("64m"), 64 * 1024 * 1024);
  assert.throws(() => memoryLimitBytes("lots"), RangeError);
});
