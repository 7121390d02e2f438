import { deepStrictEqual, strictEqual } from "node:assert/strict";
import {
  check,
  findCycles,
  parseImports,
  resolveSpecifier,
  type SourceFile,
} from "./check_imports.ts";

const IMPORTS = { zod: "npm:zod@4.1.12", dockerode: "npm:dockerode@4.0.8" };

function run(files: Record<string, string>) {
  const parsed: SourceFile[] = Object.entries(files).map(([path, src]) => ({
    path,
    imports: parseImports(src),
  }));
  return check(parsed, { imports: IMPORTS, exists: (p) => p in files });
}

Deno.test("parseImports() finds static, type-only, side-effect, dynamic and re-exports", () => {
  const src = `
import { a } from "./a.ts";
import type { B } from "./b.ts";
import { type C, type D } from "./c.ts";
import { type E, f } from "./e.ts";
import g, {
  h,
} from "./g.ts";
import "./side.ts";
export * from "./star.ts";
export type { T } from "./t.ts";
export { x as y } from "./x.ts";
const m = await import("./dyn.ts");
type Q = typeof import("./q.ts");
`;
  deepStrictEqual(
    parseImports(src).map((r) => [r.specifier, r.typeOnly, r.dynamic, r.line]),
    [
      ["./a.ts", false, false, 2],
      ["./b.ts", true, false, 3],
      ["./c.ts", true, false, 4],
      ["./e.ts", false, false, 5],
      ["./g.ts", false, false, 6],
      ["./side.ts", false, false, 9],
      ["./star.ts", false, false, 10],
      ["./t.ts", true, false, 11],
      ["./x.ts", false, false, 12],
      ["./dyn.ts", false, true, 13],
      ["./q.ts", true, true, 14],
    ],
  );
});

Deno.test("parseImports() ignores comments, strings, templates and regex literals", () => {
  const src = `
/** @example
 * import { x } from "./in_jsdoc.ts";
 */
// import { y } from "./in_line_comment.ts";
const s = 'import { z } from "./in_string.ts"';
const t = \`\${1 + 2} import "./in_template.ts" \${"}"}\`;
const r = /import "\\.\\/in_regex.ts"/;
const u = "http://example.invalid"; import { real } from "./real.ts";
obj.import("./not_a_keyword.ts");
`;
  deepStrictEqual(parseImports(src).map((r) => r.specifier), ["./real.ts"]);
});

Deno.test("resolveSpecifier() handles relative paths, the import map, npm: and node:", () => {
  deepStrictEqual(resolveSpecifier("../domain/model.ts", "src/agent/loop.ts", IMPORTS), {
    kind: "file",
    path: "src/domain/model.ts",
  });
  deepStrictEqual(resolveSpecifier("zod/mini", "src/config/x.ts", IMPORTS), {
    kind: "npm",
    name: "zod",
  });
  deepStrictEqual(resolveSpecifier("npm:@scope/pkg@1.2.3/sub", "main.ts", IMPORTS), {
    kind: "npm",
    name: "@scope/pkg",
  });
  deepStrictEqual(resolveSpecifier("node:fs", "main.ts", IMPORTS), {
    kind: "node",
    name: "node:fs",
  });
  strictEqual(resolveSpecifier("jsr:@std/assert", "main.ts", IMPORTS).kind, "other");
});

Deno.test("check() enforces the layer rules", () => {
  const r = run({
    "src/domain/model.ts": `import { z } from "zod"; import { f } from "../ports/p.ts";`,
    "src/ports/p.ts": `import { M } from "../domain/model.ts";`,
    "src/agent/loop.ts": `import { D } from "../adapters/docker/d.ts";
      import { P } from "../api/protocol.ts"; import { S } from "../api/server.ts";`,
    "src/adapters/docker/d.ts": `import Docker from "dockerode";`,
    "src/api/protocol.ts": ``,
    "src/api/server.ts": ``,
    "src/cli/mod.ts": `import Docker from "dockerode";`,
    "src/agent/loop_test.ts": `import { D } from "../adapters/docker/d.ts"; import "node:assert";`,
    "src/weird/x.ts": ``,
  });
  deepStrictEqual(r.violations.map((v) => `${v.file}:${v.message.split(":")[0]}`), [
    "src/domain/model.ts:domain/ must not import zod (allowed",
    "src/domain/model.ts:domain/ must not import src/ports/p.ts",
    "src/agent/loop.ts:agent/ must not import src/adapters/docker/d.ts",
    "src/agent/loop.ts:agent/ must not import src/api/server.ts",
    "src/cli/mod.ts:cli/ must not import the SDK dockerode",
    "src/weird/x.ts:src/weird/ has no rule in LAYER_RULES (scripts/check_imports.ts)",
  ]);
  deepStrictEqual(r.warnings.map((w) => w.file), ["src/ports/p.ts"]);
});

Deno.test("check() lets a layer import the named exception files of other layers", () => {
  const rules = {
    ports: { why: "w", allow: ["ports"], except: ["src/cluster/store.ts"], typeOnly: true },
    cluster: { why: "w", allow: ["cluster", "ports"] },
  };
  const files: Record<string, string> = {
    "src/ports/deps.ts": `import type { S } from "../cluster/store.ts";
      import { K } from "../cluster/keys.ts";`,
    "src/cluster/store.ts": ``,
    "src/cluster/keys.ts": ``,
  };
  const r = check(
    Object.entries(files).map(([path, src]) => ({ path, imports: parseImports(src) })),
    { imports: IMPORTS, exists: (p) => p in files, rules },
  );
  deepStrictEqual(r.violations.map((v) => `${v.file}:${v.line}:${v.message.split(":")[0]}`), [
    "src/ports/deps.ts:2:ports/ must not import src/cluster/keys.ts",
  ]);
  deepStrictEqual(r.warnings, []);
});

Deno.test("check() reports missing files and imports of test files", () => {
  const r = run({
    "src/agent/a.ts": `import { x } from "./missing.ts"; import { y } from "./a_test.ts";
      import { z } from "./_testing.ts";`,
    "src/agent/a_test.ts": `import { x } from "./a.ts";`,
    "src/agent/_testing.ts": `import { M } from "../adapters/memory/m.ts";`,
    "src/adapters/memory/m.ts": ``,
  });
  deepStrictEqual(r.violations.map((v) => v.message.split(" (")[0]), [
    `"./missing.ts" does not exist`,
    "production code must not import test file src/agent/a_test.ts",
    "production code must not import test file src/agent/_testing.ts",
  ]);
});

Deno.test("findCycles() returns one witness cycle per strongly connected component", () => {
  const g = new Map<string, Set<string>>([
    ["a", new Set(["b"])],
    ["b", new Set(["c"])],
    ["c", new Set(["a", "d"])],
    ["d", new Set<string>()],
    ["e", new Set(["e"])],
  ]);
  deepStrictEqual(findCycles(g), [["a", "b", "c", "a"], ["e", "e"]]);
  deepStrictEqual(findCycles(new Map([["x", new Set(["y"])], ["y", new Set<string>()]])), []);
});
