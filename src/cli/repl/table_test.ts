import assert from "node:assert/strict";
import { formatBytes, formatList, formatTable } from "./table.ts";

Deno.test("formatTable() pads columns to the widest cell, two spaces apart, no trailing spaces", () => {
  const text = formatTable(["NAME", "ADDRESS", "ACTIVE"], [
    ["node-one", "http://10.0.0.1:5000", "yes"],
    ["n2", "http://10.0.0.2:5000", "no"],
  ]);
  assert.equal(
    text,
    [
      "NAME      ADDRESS               ACTIVE",
      "node-one  http://10.0.0.1:5000  yes",
      "n2        http://10.0.0.2:5000  no",
    ].join("\n"),
  );
});

Deno.test("formatTable() prints only the header without rows, and empty missing cells", () => {
  assert.equal(formatTable(["NAME", "UUID"], []), "NAME  UUID");
  assert.equal(formatTable(["A", "B", "C"], [["x"]]), "A  B  C\nx");
});

Deno.test("formatBytes() uses binary units", () => {
  assert.equal(formatBytes(0), "0 B");
  assert.equal(formatBytes(512), "512 B");
  assert.equal(formatBytes(1536), "1.5 KiB");
  assert.equal(formatBytes(8 * 1024 ** 3), "8.0 GiB");
});

Deno.test("formatList() joins with commas, dash when empty", () => {
  assert.equal(formatList([]), "-");
  assert.equal(formatList(["web"]), "web");
  assert.equal(formatList(["web", "db"]), "web,db");
});
