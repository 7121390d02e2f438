/**
 * Enforces Gru's layering: which folder may import which, which external packages each layer
 * may use, no import cycles, and which ambient globals (I/O, clock, randomness, timers) each
 * layer may touch. The folder map and its rules are the tables {@linkcode LAYERS} and
 * {@linkcode LAYER_RULES} below.
 *
 * Nothing here lexes source text:
 *
 * - Imports come from the module graph Deno itself computes (`deno info --json` over one entry
 *   that imports every production file), so every static, type-only, `export … from`,
 *   `@ts-types` and literal dynamic import is an edge, resolved through `deno.json`'s import map
 *   exactly as Deno resolves it. npm packages show up as `npm:` specifiers and node builtins as
 *   `node:` ones; `--no-npm --no-remote` keeps the run offline (their names are all the check
 *   needs).
 * - Globals come from `deno lint` running the AST plugin `scripts/purity_lint_plugin.ts` over
 *   sanitized copies of the production files (any `deno-lint-ignore` directive is neutralized, so
 *   a comment cannot switch the check off). Comments and strings never count.
 *
 * A dynamic import with a computed specifier is invisible to the module graph, so it is a
 * violation in every layer.
 *
 * Production files are `main.ts` and every TypeScript or JavaScript file of `src/` (declaration
 * files aside) except test files (`*_test.ts`, `*_bench.ts`) and test-support modules
 * (`_testing.ts`, anything under `tests/`). Those are exempt from the rules, but production code
 * may never import them.
 *
 * Usage: `deno task imports`, i.e.
 * `deno run --allow-read --allow-write --allow-run scripts/check_imports.ts [--verbose] [root]`.
 * Exit 0 when clean, 1 on any violation or cycle. Warnings (a value import in `ports/`) are
 * printed but do not fail.
 *
 * @module
 */

// deno-lint-ignore-file no-console

import {
  COMPUTED_IMPORT,
  DATE_NOW,
  GLOBAL_KEYS,
  MATH_RANDOM,
  PLUGIN_NAME,
  RULE_NAME,
} from "./purity_lint_plugin.ts";

// ───────────────────────────────────── The rules ─────────────────────────────────────────────

/**
 * The folder map: a file's layer is the one of its most specific (longest) matching folder.
 * `main.ts` is layer "main". A folder of `src/` that no entry covers fails the check: a new
 * layer is a design decision, so the tables must name it first.
 */
export const LAYERS: readonly { readonly folder: string; readonly layer: string }[] = [
  { folder: "src/domain/", layer: "domain" },
  { folder: "src/config/", layer: "config" },
  { folder: "src/ports/", layer: "ports" },
  { folder: "src/cluster/", layer: "cluster" },
  { folder: "src/agent/planner/", layer: "planner" },
  { folder: "src/agent/analyzer/", layer: "analyzer" },
  { folder: "src/agent/", layer: "agent" },
  { folder: "src/adapters/", layer: "adapters" },
  { folder: "src/api/", layer: "api" },
  { folder: "src/cli/", layer: "cli" },
  { folder: "src/app/", layer: "app" },
];

/** One layer's rule. */
export interface LayerRule {
  /** Why the rule exists (printed with each violation). */
  why: string;
  /** Layers this layer may import (itself included explicitly). Absent: all but `deny`. */
  allow?: readonly string[];
  /** Layers this layer must not import (used when `allow` is absent). */
  deny?: readonly string[];
  /** Files (repo-relative) of layers outside `allow` (or in `deny`) that stay importable. */
  except?: readonly string[];
  /**
   * External modules allowed: npm package names, `node:x` or `node:*`. Absent: all but
   * `externalDeny`.
   */
  external?: readonly string[];
  /** External modules forbidden (used when `external` is absent). */
  externalDeny?: readonly string[];
  /** Imports from other layers should be type-only (violations are warnings). */
  typeOnly?: boolean;
  /** Global keys (see `scripts/purity_lint_plugin.ts`) this layer must not reference. */
  globals?: readonly string[];
}

/** Third-party SDKs: only adapters talk to Docker, etcd and InfluxDB. */
export const SDKS: readonly string[] = [
  "dockerode",
  "@types/dockerode",
  "etcd3",
  "@influxdata/influxdb-client",
];

/** Every global the plugin knows: I/O, clock, randomness, timers, and the escape hatches. */
const PURE_GLOBALS: readonly string[] = GLOBAL_KEYS;

/**
 * The globals config/ must not touch. The escape hatches are included because without them the
 * ban is one `globalThis.` away from void.
 */
const CONFIG_GLOBALS: readonly string[] = [
  "Deno",
  "fetch",
  "globalThis",
  "self",
  "window",
  "eval",
  "Function",
  COMPUTED_IMPORT,
];

/** What every layer is denied: a computed `import()` escapes the module graph. */
const ANY_LAYER_GLOBALS: readonly string[] = [COMPUTED_IMPORT];

/** The rules, per layer. */
export const LAYER_RULES: Readonly<Record<string, LayerRule>> = {
  domain: {
    why: "domain/ is the pure vocabulary: it imports only itself (no npm:, no node:) and " +
      "reaches no I/O, clock, randomness or timer except through injected ports",
    allow: ["domain"],
    external: [],
    globals: PURE_GLOBALS,
  },
  config: {
    why: "config/ is schemas, defaults and parsing of configuration text over the domain; " +
      "reading files is an adapter's job",
    allow: ["domain", "config"],
    external: ["zod", "jsonc-parser", "mathjs"],
    globals: CONFIG_GLOBALS,
  },
  ports: {
    why: "ports/ are interfaces in Gru's own vocabulary (no SDK types leak), ideally types only",
    allow: ["domain", "ports"],
    external: [],
    typeOnly: true,
    globals: ANY_LAYER_GLOBALS,
  },
  cluster: {
    why: "cluster/ is cluster-state logic over the KvStore port, below agent, api and cli",
    allow: ["domain", "config", "ports", "cluster"],
    external: [],
    globals: ANY_LAYER_GLOBALS,
  },
  planner: {
    why: "the planner is pure: it sees the domain only and reaches no I/O, clock, randomness " +
      "or timer (time and randomness come in its input)",
    allow: ["domain", "planner"],
    external: [],
    globals: PURE_GLOBALS,
  },
  analyzer: {
    why: "the analyzer is pure: domain plus mathjs expressions (checked by the same code as " +
      "config validation, itself pure), no I/O, clock, randomness or timer",
    allow: ["domain", "config", "analyzer"],
    external: ["mathjs"],
    globals: PURE_GLOBALS,
  },
  agent: {
    why: "agent/ depends on ports; adapters are injected by app/, and the edges (api, cli) " +
      "sit above it",
    deny: ["adapters", "api", "cli", "app", "main"],
    externalDeny: SDKS,
    globals: ANY_LAYER_GLOBALS,
  },
  adapters: {
    why: "adapters/ implement ports (and are the only home of the SDKs); they never reach up " +
      "into the agent, the CLI or the wiring",
    deny: ["agent", "planner", "analyzer", "cli", "app", "main"],
    globals: ANY_LAYER_GLOBALS,
  },
  api: {
    why: "api/ is a thin HTTP edge over the agent facade; app/ wires it to adapters",
    deny: ["adapters", "cli", "app", "main"],
    externalDeny: SDKS,
    globals: ANY_LAYER_GLOBALS,
  },
  cli: {
    why: "cli/ gets adapters through injection from app/ (CliDeps), never directly",
    deny: ["adapters", "app", "main"],
    externalDeny: SDKS,
    globals: ANY_LAYER_GLOBALS,
  },
  app: {
    why: "app/ is the composition root: it may import every layer (the SDKs stay wrapped in " +
      "adapters/)",
    deny: ["main"],
    externalDeny: SDKS,
    globals: ANY_LAYER_GLOBALS,
  },
  main: {
    why: "main.ts is the thin entry point (the SDKs stay wrapped in adapters/)",
    externalDeny: SDKS,
    globals: ANY_LAYER_GLOBALS,
  },
};

/** A named, justified exception to a layer's global rule. */
export interface GlobalException {
  /** Repo-relative file. */
  file: string;
  /** The global key allowed there. */
  key: string;
  /** Why this file may use it. */
  why: string;
}

/** The only places a pure layer may touch a forbidden global. Keep it short. */
export const GLOBAL_EXCEPTIONS: readonly GlobalException[] = [
  {
    file: "src/domain/clock.ts",
    key: DATE_NOW,
    why: "systemClock is the real time source behind the injectable Clock",
  },
  {
    file: "src/domain/clock.ts",
    key: "setTimeout",
    why: "systemClock.sleep is the real sleeper behind the injectable Clock",
  },
  {
    file: "src/domain/random.ts",
    key: "crypto",
    why: "newUuidHex is the one cryptographic id source (crypto.randomUUID)",
  },
  {
    file: "src/domain/random.ts",
    key: MATH_RANDOM,
    why: "the default Prng (Math.random) sits next to the seeded one it stands in for",
  },
];

// ──────────────────────────────────── Classification ─────────────────────────────────────────

/** A file's layer (`src/agent/planner/x.ts` → "planner", `main.ts` → "main"), if any. */
export function layerOf(path: string): string | undefined {
  if (path === "main.ts") return "main";
  let best: { folder: string; layer: string } | undefined;
  for (const l of LAYERS) {
    if (path.startsWith(l.folder) && (best === undefined || l.folder.length > best.folder.length)) {
      best = l;
    }
  }
  return best?.layer;
}

/** TypeScript and JavaScript sources (a `.js` file next to `.ts` ones is code like any other). */
const SOURCE = /\.(ts|tsx|mts|cts|js|jsx|mjs|cjs)$/;

/** Whether a path is a test or bench file, or a test-support module. */
export function isTestFile(path: string): boolean {
  const base = path.replace(SOURCE, "");
  return (SOURCE.test(path) && /([_.](test|bench)|(^|\/)_testing)$/.test(base)) ||
    path.startsWith("tests/");
}

/** Whether a repo-relative path is a production source file. */
export function isProductionFile(path: string): boolean {
  if (path === "main.ts") return true;
  return path.startsWith("src/") && SOURCE.test(path) && !/\.d\.[cm]?ts$/.test(path) &&
    !isTestFile(path);
}

// ─────────────────────────────────────── Results ─────────────────────────────────────────────

/** One problem found. */
export interface Finding {
  file: string;
  /** 1-based. */
  line: number;
  /**
   * Which rule: layer, external, sdk, test-import, outside-src, unresolved, parse, no-layer,
   * globals, cycle, or type-only (a warning).
   */
  rule: string;
  message: string;
}

/** One import edge of a production file, as Deno resolved it. */
export interface Edge {
  from: string;
  /** 1-based line of the specifier. */
  line: number;
  /** The specifier as written. */
  specifier: string;
  target: Target;
  typeOnly: boolean;
  dynamic: boolean;
}

/** Where an import leads. */
export type Target =
  | { kind: "file"; path: string } // repo-relative, or absolute when outside the root
  | { kind: "npm"; name: string }
  | { kind: "node"; name: string }
  | { kind: "remote"; name: string } // jsr:, https:, data: …
  | { kind: "error"; message: string };

/** One reference to a watched global in a production file. */
export interface GlobalRef {
  file: string;
  line: number;
  /** The plugin's key (e.g. "Date.now"). */
  key: string;
  /** The code as written (e.g. "new Date() (the current time)"). */
  text: string;
}

/** The outcome of a check. */
export interface CheckResult {
  /** Production files checked. */
  files: string[];
  edges: Edge[];
  references: GlobalRef[];
  /** Violations, cycles included (rule "cycle"). */
  violations: Finding[];
  warnings: Finding[];
  /** Each cycle as a list of files, first file repeated at the end. */
  cycles: string[][];
  /** Exceptions of {@linkcode GLOBAL_EXCEPTIONS} that nothing used. */
  unusedExceptions: GlobalException[];
}

// ───────────────────────────────────── Subprocesses ──────────────────────────────────────────

function toFileUrl(abs: string): string {
  return "file://" + abs.split("/").map(encodeURIComponent).join("/");
}

function fromFileUrl(url: string): string {
  return decodeURIComponent(new URL(url).pathname);
}

/** `abs` relative to `root` with forward slashes, or `abs` itself when outside the root. */
function relative(root: string, abs: string): string {
  return abs.startsWith(`${root}/`) ? abs.slice(root.length + 1) : abs;
}

function configArgs(root: string): string[] {
  for (const name of ["deno.json", "deno.jsonc"]) {
    try {
      if (Deno.statSync(`${root}/${name}`).isFile) return ["--config", `${root}/${name}`];
    } catch {
      // Not there: try the next name.
    }
  }
  return ["--no-config"];
}

async function runDeno(args: string[], cwd: string): Promise<{ code: number; out: string }> {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args,
    cwd,
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  const out = new TextDecoder().decode(stdout);
  if (out.trim() === "") {
    throw new Error(
      `deno ${args[0]} failed (exit ${code}): ${new TextDecoder().decode(stderr).trim()}`,
    );
  }
  return { code, out };
}

interface InfoResolution {
  specifier?: string;
  error?: string;
  span?: { start: { line: number } };
}
interface InfoDependency {
  specifier: string;
  code?: InfoResolution;
  type?: InfoResolution;
  isDynamic?: boolean;
}
interface InfoModule {
  specifier: string;
  error?: string;
  dependencies?: InfoDependency[];
}
interface InfoJson {
  modules: InfoModule[];
  redirects?: Record<string, string>;
}

/** Runs `deno info --json` over one synthetic entry that imports every given file. */
export async function denoInfo(root: string, files: readonly string[]): Promise<InfoJson> {
  const entry = files.map((f) => `import ${JSON.stringify(toFileUrl(`${root}/${f}`))};\n`)
    .join("");
  const bytes = new TextEncoder().encode(entry);
  const url = `data:application/typescript;base64,${btoa(String.fromCharCode(...bytes))}`;
  const { out } = await runDeno(
    ["info", "--json", "--no-npm", "--no-remote", "--no-lock", ...configArgs(root), url],
    root,
  );
  return JSON.parse(out) as InfoJson;
}

function npmName(spec: string): string {
  // npm:@scope/name@1.2.3/sub → @scope/name ; npm:/name@1/sub → name
  const m = /^npm:\/?((?:@[^/@]+\/)?[^/@]+)/.exec(spec);
  return m ? m[1]! : spec;
}

function targetOf(root: string, spec: string): Target {
  if (spec.startsWith("file:")) return { kind: "file", path: relative(root, fromFileUrl(spec)) };
  if (spec.startsWith("npm:")) return { kind: "npm", name: npmName(spec) };
  if (spec.startsWith("node:")) return { kind: "node", name: spec };
  return { kind: "remote", name: spec };
}

/** The import edges of each production file, and the files Deno could not load. */
export function edgesFromInfo(
  root: string,
  info: InfoJson,
  files: readonly string[],
): { edges: Edge[]; broken: Map<string, string> } {
  const wanted = new Set(files);
  const broken = new Map<string, string>(); // repo-relative path → error
  const edges: Edge[] = [];
  const follow = (s: string) => info.redirects?.[s] ?? s;
  for (const m of info.modules) {
    if (!m.specifier.startsWith("file:")) continue;
    const path = relative(root, fromFileUrl(m.specifier));
    if (m.error !== undefined) broken.set(path, m.error);
    if (!wanted.has(path)) continue;
    for (const dep of m.dependencies ?? []) {
      const seen = new Set<string>();
      for (const kind of ["code", "type"] as const) {
        const res = dep[kind];
        if (res === undefined) continue;
        const line = (res.span?.start.line ?? 0) + 1;
        const target: Target = res.error !== undefined || res.specifier === undefined
          ? { kind: "error", message: res.error ?? "unresolved" }
          : targetOf(root, follow(res.specifier));
        const id = JSON.stringify(target);
        if (seen.has(id)) continue;
        seen.add(id);
        edges.push({
          from: path,
          line,
          specifier: dep.specifier,
          target,
          typeOnly: kind === "type" && dep.code === undefined,
          dynamic: dep.isDynamic === true,
        });
      }
    }
  }
  return { edges, broken };
}

/**
 * Runs the purity plugin over sanitized copies of the given files and returns every reference
 * it reports, plus the files `deno lint` could not parse.
 */
export async function globalReferences(
  root: string,
  files: readonly string[],
): Promise<{ references: GlobalRef[]; errors: Finding[] }> {
  if (files.length === 0) return { references: [], errors: [] };
  const tmp = await Deno.makeTempDir({ prefix: "check_imports_" });
  try {
    const plugin = new URL("./purity_lint_plugin.ts", import.meta.url).href;
    await Deno.writeTextFile(
      `${tmp}/deno.json`,
      JSON.stringify({ lock: false, lint: { plugins: [plugin], rules: { tags: [] } } }),
    );
    for (const f of files) {
      const text = await Deno.readTextFile(`${root}/${f}`);
      await Deno.mkdir(`${tmp}/${f.split("/").slice(0, -1).join("/")}`, { recursive: true });
      // Same length, so lines and columns stay put; no directive can silence the plugin.
      await Deno.writeTextFile(
        `${tmp}/${f}`,
        text.replaceAll("deno-lint-ignore", "purity-no-ignore"),
      );
    }
    const { out } = await runDeno(
      ["lint", "--json", "--config", `${tmp}/deno.json`, ...files],
      tmp,
    );
    const json = JSON.parse(out) as {
      diagnostics: {
        filename: string;
        range: { start: { line: number } };
        code: string;
        message: string;
        hint?: string;
      }[];
      errors: { file_path: string; message: string }[];
    };
    const realTmp = await Deno.realPath(tmp);
    const rel = (name: string) => {
      const abs = name.startsWith("file:") ? fromFileUrl(name) : name;
      return abs.startsWith(`${realTmp}/`) ? relative(realTmp, abs) : relative(tmp, abs);
    };
    const references: GlobalRef[] = json.diagnostics
      .filter((d) => d.code === `${PLUGIN_NAME}/${RULE_NAME}`)
      .map((d) => ({
        file: rel(d.filename),
        line: d.range.start.line,
        key: d.hint ?? "",
        text: d.message,
      }));
    const errors: Finding[] = json.errors.map((e) => ({
      file: rel(e.file_path),
      line: 1,
      rule: "parse",
      message: `deno lint cannot parse it: ${e.message}`,
    }));
    return { references, errors };
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
}

// ────────────────────────────────────── Checking ─────────────────────────────────────────────

function externalAllowed(rule: LayerRule, name: string, isNode: boolean): boolean {
  if (rule.external !== undefined) {
    return rule.external.some((e) => e === name || (e === "node:*" && isNode));
  }
  return !(rule.externalDeny ?? []).includes(name);
}

function describeAllowed(list: readonly string[] | undefined): string {
  return list === undefined || list.length === 0 ? "none" : list.join(", ");
}

/** Checks import edges against the layer rules; returns findings and the src/ graph. */
export function checkEdges(
  edges: readonly Edge[],
  broken: ReadonlyMap<string, string>,
  rules: Readonly<Record<string, LayerRule>> = LAYER_RULES,
): { violations: Finding[]; warnings: Finding[]; graph: Map<string, Set<string>> } {
  const violations: Finding[] = [];
  const warnings: Finding[] = [];
  const graph = new Map<string, Set<string>>();
  for (const e of edges) {
    const layer = layerOf(e.from);
    if (e.from.startsWith("src/") && !graph.has(e.from)) graph.set(e.from, new Set());
    const rule = layer === undefined ? undefined : rules[layer];
    if (layer === undefined || rule === undefined) continue; // reported as "no-layer"
    const at = { file: e.from, line: e.line };
    const quoted = `"${e.specifier}"`;
    const t = e.target;
    if (t.kind === "error") {
      violations.push({
        ...at,
        rule: "unresolved",
        message: `${quoted} cannot be resolved: ${t.message}`,
      });
      continue;
    }
    if (t.kind === "file") {
      const error = broken.get(t.path);
      if (error !== undefined) {
        violations.push({
          ...at,
          rule: "unresolved",
          message: `${quoted} (${t.path}) cannot be loaded: ${error}`,
        });
        continue;
      }
      if (isTestFile(t.path)) {
        violations.push({
          ...at,
          rule: "test-import",
          message: `production code must not import the test file ${t.path}`,
        });
        continue;
      }
      const toLayer = layerOf(t.path);
      if (toLayer === undefined) {
        if (layer !== "main") {
          violations.push({
            ...at,
            rule: "outside-src",
            message: `${quoted} resolves to ${t.path}: src/ imports only the layers of src/`,
          });
        }
        continue;
      }
      if (e.from.startsWith("src/") && t.path.startsWith("src/") && isProductionFile(t.path)) {
        graph.get(e.from)!.add(t.path);
      }
      if (toLayer === layer) continue;
      const allowed = (rule.except ?? []).includes(t.path) ||
        (rule.allow !== undefined
          ? rule.allow.includes(toLayer)
          : !(rule.deny ?? []).includes(toLayer));
      if (!allowed) {
        const may = rule.allow !== undefined
          ? `may import only ${rule.allow.join(", ")}`
          : `must not import ${rule.deny!.join(", ")}`;
        violations.push({
          ...at,
          rule: "layer",
          message: `${layer} → ${toLayer}: ${quoted} resolves to ${t.path}; ${layer} ${may}. ` +
            `Why: ${rule.why}`,
        });
      } else if (rule.typeOnly && !e.typeOnly) {
        warnings.push({
          ...at,
          rule: "type-only",
          message: `${layer} should import ${t.path} with \`import type\`. Why: ${rule.why}`,
        });
      }
      continue;
    }
    const name = t.name;
    if (t.kind === "npm" && SDKS.includes(name) && layer !== "adapters") {
      violations.push({
        ...at,
        rule: "sdk",
        message: `${layer} must not import the SDK ${name} (${quoted}): only adapters talk to ` +
          `Docker, etcd and InfluxDB. Why: ${rule.why}`,
      });
      continue;
    }
    if (!externalAllowed(rule, name, t.kind === "node")) {
      const allowedText = rule.external !== undefined
        ? `allowed: ${describeAllowed(rule.external)}`
        : `forbidden: ${describeAllowed(rule.externalDeny)}`;
      violations.push({
        ...at,
        rule: "external",
        message: `${layer} must not import ${name} (${quoted}; ${allowedText}). Why: ${rule.why}`,
      });
    }
  }
  return { violations, warnings, graph };
}

/** Checks global references against the layers' `globals` and {@linkcode GLOBAL_EXCEPTIONS}. */
export function checkGlobals(
  refs: readonly GlobalRef[],
  exceptions: readonly GlobalException[] = GLOBAL_EXCEPTIONS,
  rules: Readonly<Record<string, LayerRule>> = LAYER_RULES,
): { violations: Finding[]; used: Set<GlobalException> } {
  const violations: Finding[] = [];
  const used = new Set<GlobalException>();
  for (const r of refs) {
    const layer = layerOf(r.file);
    const rule = layer === undefined ? undefined : rules[layer];
    if (rule === undefined || !(rule.globals ?? []).includes(r.key)) continue;
    const exception = exceptions.find((x) => x.file === r.file && x.key === r.key);
    if (exception !== undefined) {
      used.add(exception);
      continue;
    }
    violations.push({
      file: r.file,
      line: r.line,
      rule: "globals",
      message: `${layer} must not use ${r.key} (found: ${r.text}). Why: ${rule.why}`,
    });
  }
  return { violations, used };
}

/** Tarjan's strongly connected components; returns one witness cycle per non-trivial SCC. */
export function findCycles(graph: ReadonlyMap<string, ReadonlySet<string>>): string[][] {
  let index = 0;
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const sccs: string[][] = [];

  // Iterative DFS, so deep graphs cannot overflow the call stack.
  for (const root of [...graph.keys()].sort()) {
    if (idx.has(root)) continue;
    const work: { v: string; it: Iterator<string> }[] = [];
    const enter = (v: string) => {
      idx.set(v, index);
      low.set(v, index);
      index++;
      stack.push(v);
      onStack.add(v);
      work.push({ v, it: [...(graph.get(v) ?? [])].sort()[Symbol.iterator]() });
    };
    enter(root);
    while (work.length > 0) {
      const top = work[work.length - 1]!;
      const nx = top.it.next();
      if (!nx.done) {
        const w = nx.value;
        if (!idx.has(w)) enter(w);
        else if (onStack.has(w)) low.set(top.v, Math.min(low.get(top.v)!, idx.get(w)!));
        continue;
      }
      work.pop();
      if (work.length > 0) {
        const parent = work[work.length - 1]!.v;
        low.set(parent, Math.min(low.get(parent)!, low.get(top.v)!));
      }
      if (low.get(top.v) === idx.get(top.v)) {
        const scc: string[] = [];
        let w: string;
        do {
          w = stack.pop()!;
          onStack.delete(w);
          scc.push(w);
        } while (w !== top.v);
        const selfLoop = graph.get(top.v)?.has(top.v) ?? false;
        if (scc.length > 1 || selfLoop) sccs.push(scc);
      }
    }
  }
  return sccs.map((scc) => witnessCycle(graph, new Set(scc)));
}

/** A shortest cycle through the smallest member of an SCC, by BFS inside the SCC. */
function witnessCycle(graph: ReadonlyMap<string, ReadonlySet<string>>, scc: Set<string>): string[] {
  const start = [...scc].sort()[0]!;
  const prev = new Map<string, string>();
  const queue = [start];
  while (queue.length > 0) {
    const v = queue.shift()!;
    for (const w of [...(graph.get(v) ?? [])].sort()) {
      if (!scc.has(w)) continue;
      if (w === start) {
        const path = [start];
        for (let u = v; u !== start; u = prev.get(u)!) path.splice(1, 0, u);
        return [...path, start];
      }
      if (!prev.has(w)) {
        prev.set(w, v);
        queue.push(w);
      }
    }
  }
  return [start, start];
}

/** Lists `src/` recursively: files (repo-relative) and the top folders of src/. */
function listSrc(root: string): { files: string[]; topFolders: string[] } {
  const files: string[] = [];
  const topFolders: string[] = [];
  const walk = (rel: string) => {
    let entries: Deno.DirEntry[];
    try {
      entries = [...Deno.readDirSync(`${root}/${rel}`)];
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return;
      throw e;
    }
    for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) {
      const path = `${rel}/${e.name}`;
      if (e.isDirectory) {
        if (rel === "src") topFolders.push(path);
        walk(path);
      } else if (e.isFile) files.push(path);
    }
  };
  walk("src");
  return { files, topFolders };
}

/** What {@linkcode checkRoot} checks against (tests substitute their own tables). */
export interface CheckOptions {
  /** Default: {@linkcode LAYER_RULES}. */
  rules?: Readonly<Record<string, LayerRule>>;
  /** Default: {@linkcode GLOBAL_EXCEPTIONS}. */
  globalExceptions?: readonly GlobalException[];
}

/** Checks the tree under `root` (a folder with `src/`, and optionally `main.ts`, `deno.json`). */
export async function checkRoot(rootDir: string, options: CheckOptions = {}): Promise<CheckResult> {
  const rules = options.rules ?? LAYER_RULES;
  const exceptions = options.globalExceptions ?? GLOBAL_EXCEPTIONS;
  const root = Deno.realPathSync(rootDir);
  const { files: all, topFolders } = listSrc(root);
  try {
    if (Deno.statSync(`${root}/main.ts`).isFile) all.push("main.ts");
  } catch {
    // No main.ts: nothing to add.
  }
  const files = all.filter(isProductionFile);
  const violations: Finding[] = [];

  for (const folder of topFolders) {
    const layer = layerOf(`${folder}/`);
    if (layer === undefined || rules[layer] === undefined) {
      violations.push({
        file: `${folder}/`,
        line: 1,
        rule: "no-layer",
        message: `${folder}/ maps to no layer: add it to LAYERS and LAYER_RULES ` +
          `(scripts/check_imports.ts) with what it may import`,
      });
    }
  }
  const unruled = new Set<string>();
  for (const f of files) {
    const layer = layerOf(f);
    if (layer !== undefined && rules[layer] === undefined && !unruled.has(layer)) {
      unruled.add(layer);
      violations.push({
        file: f,
        line: 1,
        rule: "no-layer",
        message: `layer ${layer} has no rule: add it to LAYER_RULES (scripts/check_imports.ts)`,
      });
    }
    if (f !== "main.ts" && f.split("/").length === 2) {
      violations.push({
        file: f,
        line: 1,
        rule: "no-layer",
        message: `${f} sits directly in src/: every production file belongs to a layer folder`,
      });
    }
  }

  const info = await denoInfo(root, files);
  const { edges, broken } = edgesFromInfo(root, info, files);
  for (const f of files) {
    const error = broken.get(f);
    if (error !== undefined) {
      violations.push({ file: f, line: 1, rule: "unresolved", message: `deno info: ${error}` });
    }
  }
  const imports = checkEdges(edges, broken, rules);
  violations.push(...imports.violations);

  const cycles = findCycles(imports.graph);
  const lineOf = new Map<string, number>();
  for (const e of edges) {
    if (e.target.kind !== "file") continue;
    const key = `${e.from}\n${e.target.path}`;
    if (!lineOf.has(key)) lineOf.set(key, e.line);
  }
  for (const c of cycles) {
    const hops = c.slice(0, -1).map((f, i) => `${f}:${lineOf.get(`${f}\n${c[i + 1]}`) ?? 1}`);
    violations.push({
      file: c[0]!,
      line: lineOf.get(`${c[0]}\n${c[1]}`) ?? 1,
      rule: "cycle",
      message: `import cycle: ${[...hops, c[0]].join(" → ")}`,
    });
  }

  const { references, errors } = await globalReferences(root, files);
  violations.push(...errors.filter((e) => !broken.has(e.file))); // deno info said it already
  const globals = checkGlobals(references, exceptions, rules);
  violations.push(...globals.violations);

  return {
    files,
    edges,
    references,
    violations,
    warnings: imports.warnings,
    cycles,
    unusedExceptions: exceptions.filter((x) => !globals.used.has(x)),
  };
}

/** A finding as one line: `file:line: [rule] message`. */
export function formatFinding(f: Finding): string {
  return `${f.file}:${f.line}: [${f.rule}] ${f.message}`;
}

function describeTarget(t: Target): string {
  switch (t.kind) {
    case "file":
      return t.path;
    case "error":
      return `(error: ${t.message})`;
    default:
      return t.name;
  }
}

async function main(): Promise<number> {
  const verbose = Deno.args.includes("--verbose") || Deno.args.includes("-v");
  const rootArg = Deno.args.find((a) => !a.startsWith("-"));
  const root = rootArg ?? new URL("..", import.meta.url).pathname.replace(/\/$/, "");
  const result = await checkRoot(root);

  if (verbose) {
    for (const e of result.edges) {
      const flags = [e.typeOnly ? "type" : "", e.dynamic ? "dynamic" : ""].filter((s) => s);
      const suffix = flags.length > 0 ? ` (${flags.join(", ")})` : "";
      console.log(`import: ${e.from}:${e.line} → ${describeTarget(e.target)}${suffix}`);
    }
    for (const r of result.references) {
      console.log(`global: ${r.file}:${r.line} ${r.key} (${r.text})`);
    }
    for (const x of result.unusedExceptions) {
      console.log(`note: unused exception ${x.file} ${x.key} (${x.why})`);
    }
  }
  for (const w of result.warnings) console.log(`warning: ${formatFinding(w)}`);
  for (const v of result.violations) console.log(`violation: ${formatFinding(v)}`);
  const failed = result.violations.length;
  console.log(
    `check_imports: ${result.files.length} files, ${result.edges.length} imports, ` +
      `${result.references.length} global references, ` +
      `${failed - result.cycles.length} violations, ${result.cycles.length} cycles, ` +
      `${result.warnings.length} warnings${failed === 0 ? ": ok" : ""}`,
  );
  return failed === 0 ? 0 : 1;
}

if (import.meta.main) Deno.exit(await main());
