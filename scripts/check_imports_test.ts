import { deepStrictEqual, match, ok, strictEqual } from "node:assert/strict";
import { type CheckOptions, type CheckResult, checkRoot } from "./architecture/check.ts";
import { findCycles } from "./architecture/cycles.ts";
import { formatFinding } from "./architecture/findings.ts";
import plugin, { GLOBAL_KEYS } from "./architecture/purity_lint_plugin.ts";
import {
  GLOBAL_EXCEPTIONS,
  isProductionFile,
  LAYER_RULES,
  layerOf,
  LAYERS,
} from "./architecture/rules.ts";

// ───────────────────────────────────── Fixtures ──────────────────────────────────────────────

const DENO_JSON = JSON.stringify({
  imports: {
    dockerode: "npm:dockerode@4.0.8",
    mathjs: "npm:mathjs@15.2.0",
    zod: "npm:zod@4.1.12",
  },
});

/** A small tree that follows every rule, exercising the allowed edges and the exceptions. */
const CLEAN: Readonly<Record<string, string>> = {
  "src/domain/model.ts": `
/** A service. */
export interface Service { name: string; window: number; fetch?: string }
export const MAX = 3;
`,
  "src/domain/clock.ts": `
export interface Clock { now(): number }
export const systemClock: Clock = { now: () => Date.now() };
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
`,
  "src/config/schema.ts": `
import { z } from "zod";
import { MAX } from "../domain/model.ts";
export const schema = z.object({ max: z.number().default(MAX) });
`,
  "src/ports/kv.ts": `
import type { Service } from "../domain/model.ts";
export interface Kv { get(s: Service): Promise<string> }
`,
  "src/agent/planner/plan.ts": `
import { MAX, type Service } from "../../domain/model.ts";
export function plan(now: number, s: Service): number {
  const d = new Date(now);
  return Math.max(d.getTime(), MAX, s.window);
}
`,
  "src/agent/analyzer/analyze.ts": `
import type { EvalFunction } from "mathjs";
import type { Service } from "../../domain/model.ts";
export const analyze = (s: Service, f: EvalFunction): unknown => f.evaluate({ w: s.window });
`,
  "src/agent/loop.ts": `
import type { Kv } from "../ports/kv.ts";
import { plan } from "./planner/plan.ts";
export function loop(kv: Kv): void {
  setTimeout(() => kv.get({ name: "x", window: plan(Date.now(), { name: "y", window: 1 }) }), 1);
}
`,
  "src/agent/_testing.ts": `
import { runtime } from "../adapters/docker/runtime.ts";
export const fake = runtime;
`,
  "src/agent/loop_test.ts": `
import { strictEqual } from "node:assert/strict";
import { runtime } from "../adapters/docker/runtime.ts";
import { fake } from "./_testing.ts";
Deno.test("x", () => strictEqual(fake, runtime));
`,
  "src/adapters/docker/runtime.ts": `
import Docker from "dockerode";
import type { Kv } from "../../ports/kv.ts";
export const runtime = () => new Docker();
export const kv = (): Kv | undefined => undefined;
`,
  "src/app/mod.ts": `
import { runtime } from "../adapters/docker/runtime.ts";
import { loop } from "../agent/loop.ts";
export const start = () => loop({ get: () => Promise.resolve(String(runtime)) });
`,
  "main.ts": `
import { start } from "./src/app/mod.ts";
if (import.meta.main) start();
`,
};

/** Writes `CLEAN` with `changes` applied (a `null` removes a file) and checks it. */
async function checkFixture(
  changes: Readonly<Record<string, string | null>> = {},
  options: CheckOptions = {},
): Promise<CheckResult> {
  const root = await Deno.makeTempDir({ prefix: "check_imports_fixture_" });
  try {
    await writeTree(root, changes);
    return await checkRoot(root, options);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
}

async function writeTree(root: string, changes: Readonly<Record<string, string | null>>) {
  await Deno.writeTextFile(`${root}/deno.json`, DENO_JSON);
  for (const [path, text] of Object.entries({ ...CLEAN, ...changes })) {
    if (text === null) continue;
    await Deno.mkdir(`${root}/${path.split("/").slice(0, -1).join("/")}`, { recursive: true });
    await Deno.writeTextFile(`${root}/${path}`, text);
  }
}

/** The violations as `file:line: [rule] message`. */
function lines(r: CheckResult): string[] {
  return r.violations.map(formatFinding);
}

/** Asserts exactly one violation, of `rule`, in `file:line`, whose message matches `pattern`. */
function assertOnly(r: CheckResult, where: string, rule: string, pattern: RegExp) {
  strictEqual(r.violations.length, 1, `expected one violation, got:\n${lines(r).join("\n")}`);
  const v = r.violations[0]!;
  strictEqual(`${v.file}:${v.line}`, where);
  strictEqual(v.rule, rule);
  match(v.message, pattern);
}

// ────────────────────────────────────── Checks ───────────────────────────────────────────────

Deno.test("checkRoot() passes a clean tree, with the exceptions of domain/clock.ts", async () => {
  const r = await checkFixture();
  deepStrictEqual(lines(r), []);
  deepStrictEqual(r.cycles, []);
  deepStrictEqual(r.warnings, []);
  ok(!r.files.some((f) => f.endsWith("_test.ts") || f.endsWith("_testing.ts")));
  ok(r.files.includes("main.ts"));
  // The graph saw value, type-only and npm edges.
  ok(r.edges.some((e) => e.from === "src/agent/loop.ts" && e.typeOnly));
  ok(r.edges.some((e) => e.target.kind === "npm" && e.target.name === "dockerode"));
  // clock.ts and the agent use Date.now and setTimeout: seen, but not violations.
  ok(r.references.some((x) => x.file === "src/domain/clock.ts" && x.key === "Date.now"));
  ok(r.references.some((x) => x.file === "src/agent/loop.ts" && x.key === "setTimeout"));
});

Deno.test("checkRoot() fails Deno.readTextFileSync in the planner", async () => {
  const r = await checkFixture({
    "src/agent/planner/read.ts": `export const read = () =>\n  Deno.readTextFileSync("x");\n`,
  });
  assertOnly(
    r,
    "src/agent/planner/read.ts:2",
    "globals",
    /planner must not use Deno .*Deno\.readTextFileSync/,
  );
});

Deno.test("checkRoot() fails fetch( in the planner", async () => {
  const r = await checkFixture({
    "src/agent/planner/net.ts": `export const get = () => fetch("http://x.invalid");\n`,
  });
  assertOnly(r, "src/agent/planner/net.ts:1", "globals", /planner must not use fetch/);
});

Deno.test("checkRoot() fails Math.random() in the domain", async () => {
  const r = await checkFixture({
    "src/domain/dice.ts": `export const roll = () => Math.floor(Math.random() * 6);\n`,
  });
  assertOnly(r, "src/domain/dice.ts:1", "globals", /domain must not use Math\.random/);
});

Deno.test("checkRoot() fails Date.now() in the analyzer", async () => {
  const r = await checkFixture({
    "src/agent/analyzer/age.ts": `\nexport const age = (t: number) => Date.now() - t;\n`,
  });
  assertOnly(r, "src/agent/analyzer/age.ts:2", "globals", /analyzer must not use Date\.now/);
});

Deno.test("checkRoot() fails globalThis.fetch in the domain", async () => {
  const r = await checkFixture({
    "src/domain/sneaky.ts": `export const f = globalThis.fetch;\n`,
  });
  assertOnly(
    r,
    "src/domain/sneaky.ts:1",
    "globals",
    /domain must not use globalThis .*globalThis\.fetch/,
  );
});

Deno.test("checkRoot() checks JavaScript files too", async () => {
  const r = await checkFixture({
    "src/domain/legacy.js": `export const t = () => setInterval(() => {}, 1);\n`,
    "src/domain/uses.ts": `import { t } from "./legacy.js";\nexport const u = t;\n`,
  });
  assertOnly(r, "src/domain/legacy.js:1", "globals", /domain must not use setInterval/);
});

Deno.test("checkRoot() fails an alias of Deno and a Deno file read in config/", async () => {
  const r = await checkFixture({
    "src/config/load.ts": `const D = Deno;\nexport const load = () => D.readTextFileSync("x");\n`,
  });
  assertOnly(r, "src/config/load.ts:1", "globals", /config must not use Deno/);
});

Deno.test("checkRoot() fails an adapter import in the planner", async () => {
  const r = await checkFixture({
    "src/agent/planner/plan.ts": `import { runtime } from "../../adapters/docker/runtime.ts";\n` +
      `export const plan = () => runtime;\n`,
  });
  assertOnly(
    r,
    "src/agent/planner/plan.ts:1",
    "layer",
    /^planner → adapters: .*docker\/runtime\.ts; planner may import only domain, planner/,
  );
});

Deno.test("checkRoot() fails a type-only import across layers too", async () => {
  const r = await checkFixture({
    "src/agent/planner/types.ts": `export type K = import("../../ports/kv.ts").Kv;\n`,
  });
  assertOnly(r, "src/agent/planner/types.ts:1", "layer", /^planner → ports/);
});

Deno.test("checkRoot() fails an npm SDK import in the agent", async () => {
  const r = await checkFixture({
    "src/agent/docker.ts":
      `import Docker from "dockerode";\nexport const d = () => new Docker();\n`,
  });
  assertOnly(r, "src/agent/docker.ts:1", "sdk", /agent must not import the SDK dockerode/);
});

Deno.test("checkRoot() fails an npm package outside a layer's list", async () => {
  const r = await checkFixture({
    "src/domain/schema.ts": `import { z } from "zod";\nexport const s = z.string();\n`,
  });
  assertOnly(r, "src/domain/schema.ts:1", "external", /domain must not import zod .*allowed: none/);
});

Deno.test("checkRoot() reports an import cycle with the line of each hop", async () => {
  const r = await checkFixture({
    "src/agent/a.ts": `import { b } from "./b.ts";\nexport const a = () => b;\n`,
    "src/agent/b.ts": `\nimport { a } from "./a.ts";\nexport const b = () => a;\n`,
  });
  deepStrictEqual(r.cycles, [["src/agent/a.ts", "src/agent/b.ts", "src/agent/a.ts"]]);
  assertOnly(
    r,
    "src/agent/a.ts:1",
    "cycle",
    /^import cycle: src\/agent\/a\.ts:1 → src\/agent\/b\.ts:2 → src\/agent\/a\.ts$/,
  );
});

Deno.test("checkRoot() fails an import of a test file from production code", async () => {
  const r = await checkFixture({
    "src/agent/helper.ts": `import { fake } from "./_testing.ts";\nexport const h = fake;\n`,
    "src/agent/uses_test.ts": `export const x = 1;\n`,
    "src/agent/other.ts": `\nimport { x } from "./uses_test.ts";\nexport const y = x;\n`,
  });
  deepStrictEqual(lines(r), [
    "src/agent/helper.ts:1: [test-import] production code must not import the test file " +
    "src/agent/_testing.ts",
    "src/agent/other.ts:2: [test-import] production code must not import the test file " +
    "src/agent/uses_test.ts",
  ]);
});

Deno.test("checkRoot() ignores globals in comments, strings, templates and names", async () => {
  const r = await checkFixture({
    "src/agent/planner/doc.ts": `
/**
 * Never calls fetch(), Deno.readTextFileSync, Math.random() or Date.now().
 * import { x } from "../../adapters/docker/runtime.ts";
 */
// globalThis.fetch("x"); setTimeout(() => {}, 1);
export const text = "fetch(Deno.env) Math.random() Date.now() globalThis";
export const tpl = \`setTimeout \${1 + 1} performance.now() crypto\`;
export const o = { fetch: 1, window: 2, Deno: 3 };
export const p = o.fetch + o.window;
export interface I { performance: number; crypto(): void }
export class K { eval(): number { return 1; } self = 2; }
export const when = new Date(0);
export const isDate = (x: unknown) => x instanceof Date;
export const big = Math.max(1, 2) + Date.UTC(2020, 0);
`,
  });
  deepStrictEqual(lines(r), []);
});

Deno.test("checkRoot() cannot be silenced by a deno-lint-ignore directive", async () => {
  const r = await checkFixture({
    "src/domain/quiet.ts":
      `// deno-lint-ignore-file\n// deno-lint-ignore gru-purity/global-reference\n` +
      `export const t = performance.now();\n`,
  });
  assertOnly(r, "src/domain/quiet.ts:3", "globals", /domain must not use performance/);
});

Deno.test("checkRoot() fails a dynamic import with a computed specifier in any layer", async () => {
  const r = await checkFixture({
    "src/app/plugins.ts": `export const load = (name: string) => import(\`./\${name}.ts\`);\n`,
  });
  assertOnly(r, "src/app/plugins.ts:1", "globals", /app must not use import\(\)/);
});

Deno.test("checkRoot() follows literal dynamic imports", async () => {
  const r = await checkFixture({
    "src/agent/analyzer/lazy.ts": `export const load = () => import("../loop.ts");\n`,
  });
  assertOnly(r, "src/agent/analyzer/lazy.ts:1", "layer", /^analyzer → agent/);
});

Deno.test("checkRoot() fails a src/ folder that maps to no layer, and missing files", async () => {
  const r = await checkFixture({
    "src/weird/x.ts": `export const x = 1;\n`,
    "src/agent/missing.ts": `import { y } from "./nowhere.ts";\nexport const z = y;\n`,
  });
  deepStrictEqual(r.violations.map((v) => `${v.file}:${v.rule}`), [
    "src/weird/:no-layer",
    "src/agent/missing.ts:unresolved",
  ]);
});

Deno.test("checkRoot() lets a layer import the named exception files of other layers", async () => {
  const rules = {
    ...LAYER_RULES,
    ports: { ...LAYER_RULES.ports!, except: ["src/cluster/store.ts"] },
  };
  const r = await checkFixture({
    "src/ports/deps.ts": `import type { S } from "../cluster/store.ts";\n` +
      `import type { K } from "../cluster/keys.ts";\nexport type D = S | K;\n`,
    "src/cluster/store.ts": `export type S = string;\n`,
    "src/cluster/keys.ts": `export type K = number;\n`,
  }, { rules });
  assertOnly(r, "src/ports/deps.ts:2", "layer", /^ports → cluster: .*src\/cluster\/keys\.ts;/);
  deepStrictEqual(r.warnings, []);
});

Deno.test("checkRoot() honours only the named file+global exceptions", async () => {
  const r = await checkFixture({
    "src/domain/random.ts": `export const systemPrng = Math.random;\n`,
    "src/domain/ids.ts": `export const id = () => crypto.randomUUID();\n`,
  }, {
    globalExceptions: [{ file: "src/domain/random.ts", key: "Math.random", why: "the default" }],
  });
  deepStrictEqual(lines(r), [
    "src/domain/clock.ts:3: [globals] domain must not use Date.now (found: Date.now). Why: " +
    LAYER_RULES.domain!.why,
    "src/domain/clock.ts:4: [globals] domain must not use setTimeout (found: setTimeout). Why: " +
    LAYER_RULES.domain!.why,
    "src/domain/ids.ts:1: [globals] domain must not use crypto (found: crypto.randomUUID). Why: " +
    LAYER_RULES.domain!.why,
  ]);
  deepStrictEqual(r.unusedExceptions, []);
});

Deno.test("checkRoot() warns about a value import in ports/", async () => {
  const r = await checkFixture({
    "src/ports/limits.ts": `import { MAX } from "../domain/model.ts";\nexport const LIMIT = MAX;\n`,
  });
  deepStrictEqual(lines(r), []);
  deepStrictEqual(r.warnings.map(formatFinding), [
    "src/ports/limits.ts:1: [type-only] ports should import src/domain/model.ts with " +
    "`import type`. Why: " + LAYER_RULES.ports!.why,
  ]);
});

Deno.test("the script exits 1 with file:line messages on a violation, 0 when clean", async () => {
  const root = await Deno.makeTempDir({ prefix: "check_imports_fixture_" });
  const script = new URL("./check_imports.ts", import.meta.url).pathname;
  const run = async () => {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-read", "--allow-write", "--allow-run", script, root],
      stdout: "piped",
      stderr: "piped",
    }).output();
    return { code: out.code, text: new TextDecoder().decode(out.stdout) };
  };
  try {
    await writeTree(root, {});
    const clean = await run();
    strictEqual(clean.code, 0, clean.text);
    match(clean.text, /0 violations, 0 cycles, 0 warnings: ok/);
    await writeTree(root, { "src/agent/planner/net.ts": `export const f = () => fetch("x");\n` });
    const dirty = await run();
    strictEqual(dirty.code, 1, dirty.text);
    match(dirty.text, /^violation: src\/agent\/planner\/net\.ts:1: \[globals\] planner must not/m);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

// ─────────────────────────────────────── Tables ──────────────────────────────────────────────

Deno.test("every layer has a rule, and every exception names a known global", () => {
  for (const { layer } of LAYERS) ok(LAYER_RULES[layer], `no rule for ${layer}`);
  ok(LAYER_RULES.main);
  for (const x of GLOBAL_EXCEPTIONS) ok(GLOBAL_KEYS.includes(x.key), x.key);
  for (const rule of Object.values(LAYER_RULES)) {
    for (const key of rule.globals ?? []) ok(GLOBAL_KEYS.includes(key), key);
  }
});

Deno.test("layerOf() picks the most specific folder; isProductionFile() skips tests", () => {
  strictEqual(layerOf("src/agent/planner/plan.ts"), "planner");
  strictEqual(layerOf("src/agent/analyzer/x/y.ts"), "analyzer");
  strictEqual(layerOf("src/agent/executor/execute.ts"), "agent");
  strictEqual(layerOf("src/adapters/prometheus/p.ts"), "adapters");
  strictEqual(layerOf("main.ts"), "main");
  strictEqual(layerOf("src/weird/x.ts"), undefined);
  strictEqual(layerOf("tests/e2e/x.ts"), undefined);
  ok(isProductionFile("src/agent/loop.ts"));
  ok(!isProductionFile("src/agent/loop_test.ts"));
  ok(!isProductionFile("src/agent/loop_bench.ts"));
  ok(!isProductionFile("src/agent/_testing.ts"));
  ok(!isProductionFile("src/adapters/x.d.ts"));
  ok(!isProductionFile("tests/helpers/x.ts"));
  ok(isProductionFile("src/domain/legacy.js"));
  ok(!isProductionFile("src/domain/legacy_test.js"));
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

// ─────────────────────────────────────── Plugin ──────────────────────────────────────────────

/** The plugin's findings on `source`: `line:key:text`. */
function lint(source: string): string[] {
  return Deno.lint.runPlugin(plugin, "probe.ts", source).map((d) => {
    const line = source.slice(0, d.range[0]).split("\n").length;
    return `${line}:${d.hint}:${d.message}`;
  });
}

Deno.test("the plugin reports references, aliases and escape hatches", () => {
  deepStrictEqual(
    lint(`Deno.readTextFileSync("x");
const D = Deno;
globalThis.fetch("x"); self.fetch; window["fetch"];
fetch("y");
Math.random(); Math["random"](); const M = Math; Math[D as never];
Date.now(); new Date(); new Date(...[]); Date();
crypto.getRandomValues(new Uint8Array(1)); performance.now(); queueMicrotask(() => {});
setTimeout(() => {}, 1); setInterval(() => {}, 1);
eval("1"); new Function("return 1"); (() => {}).constructor("return 1");
await import(D as never);
const { random } = Math;
function f(fetch: number) { return fetch; }
`),
    [
      "1:Deno:Deno.readTextFileSync",
      "2:Deno:Deno",
      "3:globalThis:globalThis.fetch",
      "3:self:self.fetch",
      "3:window:window.fetch",
      "4:fetch:fetch",
      "5:Math.random:Math.random",
      "5:Math.random:Math.random",
      "5:Math.random:Math used as a value (an alias reaches Math.random)",
      "5:Math.random:Math[…] (a computed member)",
      "6:Date.now:Date.now",
      "6:Date.now:new Date() (the current time)",
      "6:Date.now:new Date() (the current time)",
      "6:Date.now:Date() (the current time as a string)",
      "7:crypto:crypto.getRandomValues",
      "7:performance:performance.now",
      "7:queueMicrotask:queueMicrotask",
      "8:setTimeout:setTimeout",
      "8:setInterval:setInterval",
      "9:eval:eval",
      "9:Function:Function",
      "9:Function:….constructor(…) (reaches the Function constructor)",
      "10:import():import() with a computed specifier",
      "11:Math.random:Math used as a value (an alias reaches Math.random)",
      "12:fetch:fetch",
      "12:fetch:fetch",
    ],
  );
});

Deno.test("the plugin ignores comments, strings, property names and harmless Date/Math", () => {
  deepStrictEqual(
    lint(`// fetch("x"); Deno.exit(1);
/* Math.random() */ const s = "Date.now() globalThis";
const t = \`setTimeout \${s} crypto\`;
const o = { fetch: 1, Deno: 2, window: 3 }; o.fetch; o.Deno; o["setTimeout"];
interface I { performance: number; crypto(): void; self: string }
class K { eval() {} Function = 1; static setInterval = 2 }
enum E { fetch, window }
type T = { Deno: number };
import { fetch as f2 } from "./x.ts";
export { o as globalThis };
const d: Date = new Date(0); d instanceof Date; Date.UTC(1, 2); Date.parse("x");
Math.max(1); Math.PI; Math["floor"](1.5);
await import("./lazy.ts"); await import(\`./lazy.ts\`);
label: for (;;) break label;
`),
    [],
  );
});
