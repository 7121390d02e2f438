/**
 * Enforces Gru's dependency rules (see the "Dependency rules" of the design's style anchors):
 *
 *     domain ← config ← ports ← agent ← app → adapters (→ ports, domain)
 *                                      app → api, cli
 *
 * It reads every `src/**\/*.ts` file (and `main.ts`), extracts its static `import … from`,
 * `export … from`, side-effect `import "…"` and dynamic `import("…")` specifiers with a small
 * lexer (comments, strings, template literals and regex literals are skipped, so examples in
 * JSDoc do not count), resolves them (relative paths, and bare names through `deno.json`'s import
 * map), then checks every edge against {@linkcode LAYER_RULES} and {@linkcode GLOBAL_RULES} and
 * looks for import cycles among the files of `src/`. Type-only imports (`import type`, or
 * `import { type A, type B }`) are edges too: a layer may not even name another layer's types.
 *
 * Test files (`*_test.ts`, `*.test.ts`, `*_bench.ts`) and test-support modules (`_testing.ts`,
 * `testing.ts`, anything under a `testing/` or `testdata/` folder) are exempt from the layer rules
 * (a unit test of the agent may use the in-memory adapters and `node:assert`), but production code
 * may never import them, and they take part in the cycle check.
 *
 * Usage: `deno task imports` (`deno run --allow-read scripts/check_imports.ts [--verbose]`).
 * Exit 0 when clean, 1 on any violation or cycle. Warnings (e.g. a value import in `ports/`)
 * are printed but do not fail.
 *
 * @module
 */

// deno-lint-ignore-file no-console

// ───────────────────────────────────── The rules ─────────────────────────────────────────────
//
// A file's layer is its first folder under src/ (src/agent/planner/x.ts → "agent"); main.ts is
// layer "main". A layer's rule says which layers it may import (`allow`: an allow-list; absent
// means every layer but those in `deny`), which external packages it may import (`external`:
// npm package names and `node:` modules; absent means any), and exceptions (`except`: files of a
// denied layer that stay allowed). Every folder of src/ needs a rule: a new layer is a design
// decision, so the check fails until the table names it.

/** One layer's import rule. */
interface LayerRule {
  /** Why the rule exists (printed with each violation). */
  why: string;
  /** Layers this layer may import (itself included explicitly). Absent: all but `deny`. */
  allow?: readonly string[];
  /** Layers this layer must not import (used when `allow` is absent). */
  deny?: readonly string[];
  /** Files (repo-relative) of a denied layer that may still be imported. */
  except?: readonly string[];
  /** External modules allowed: npm package names, `node:x` or `node:*`. Absent: any. */
  external?: readonly string[];
  /** Imports from other layers should be `import type` (violations are warnings only). */
  typeOnly?: boolean;
}

/** Third-party SDKs: only adapters talk to Docker, etcd and InfluxDB. */
const SDKS = ["dockerode", "@types/dockerode", "etcd3", "@influxdata/influxdb-client"] as const;

/** The dependency rules, per layer of src/. */
export const LAYER_RULES: Readonly<Record<string, LayerRule>> = {
  domain: {
    why: "domain/ is pure: it imports nothing but itself (no npm:, no node:)",
    allow: ["domain"],
    external: [],
  },
  config: {
    why: "config/ is pure schema/defaults/merge/validate over the domain",
    allow: ["domain", "config"],
    external: ["zod", "jsonc-parser", "mathjs"],
  },
  ports: {
    why: "ports/ are interfaces in Gru's own vocabulary (no SDK types leak)",
    allow: ["domain", "ports"],
    external: [],
    typeOnly: true,
  },
  cluster: {
    why: "cluster/ is cluster-state logic over the KvStore port, below agent, api and cli",
    allow: ["domain", "config", "ports", "cluster"],
    external: [],
  },
  agent: {
    why: "agent/ depends on ports only; adapters are injected by app/",
    deny: ["adapters", "api", "cli", "app"],
    except: ["src/api/protocol.ts", "src/api/client.ts"],
  },
  adapters: {
    why: "adapters/ implement ports; they never reach up into the agent, the CLI or the wiring",
    deny: ["agent", "cli", "app"],
  },
  api: {
    why: "api/ is a thin HTTP edge over an AgentHandle facade; app/ wires it",
    deny: ["adapters", "cli", "app"],
  },
  cli: {
    why: "cli/ gets adapters through injection from app/ (CliDeps), never directly",
    deny: ["adapters"],
  },
  app: {
    why: "app/ is the composition root: it may import every layer",
  },
  main: {
    why: "main.ts is the thin entry point",
  },
};

/** Rules that hold for every production file of src/. */
export const GLOBAL_RULES = {
  /** Only these layers may import the third-party SDKs. */
  sdkLayers: ["adapters"] as readonly string[],
  /** src/ never imports tests/, scripts/ or main.ts; production code never imports test files. */
  srcIsClosed: true,
} as const;

// ────────────────────────────────────── Lexing ───────────────────────────────────────────────

/** One import edge found in a file. */
export interface ImportRef {
  specifier: string;
  /** 1-based line of the `import` / `export` keyword. */
  line: number;
  typeOnly: boolean;
  dynamic: boolean;
}

const ID_CHAR = /[\w$]/;
/** Keywords after which a `/` starts a regex literal rather than a division. */
const REGEX_AFTER_WORD = new Set([
  "return",
  "typeof",
  "instanceof",
  "in",
  "of",
  "new",
  "delete",
  "void",
  "throw",
  "case",
  "do",
  "else",
  "yield",
  "await",
]);

/**
 * Returns the offsets of the `import` / `export` keywords that sit in code (not in a comment,
 * string, template or regex literal, and not a property such as `x.import`).
 */
export function keywordOffsets(src: string): number[] {
  const out: number[] = [];
  // Brace depth of each open template `${`, so `}` knows when it closes a substitution.
  const templateStack: number[] = [];
  let braceDepth = 0;
  let lastSignificant = ""; // last non-space code char, for regex detection
  let lastWord = "";
  let i = 0;
  const n = src.length;

  const skipString = (quote: string) => {
    i++;
    while (i < n && src[i] !== quote) {
      if (src[i] === "\\") i++;
      else if (src[i] === "\n") break; // unterminated: stop at end of line
      i++;
    }
    i++;
  };
  // Skips template text up to the closing backtick or a `${` (which it enters).
  const skipTemplateText = () => {
    while (i < n) {
      const c = src[i];
      if (c === "\\") {
        i += 2;
      } else if (c === "`") {
        i++;
        return;
      } else if (c === "$" && src[i + 1] === "{") {
        i += 2;
        templateStack.push(braceDepth);
        braceDepth++;
        return;
      } else {
        i++;
      }
    }
  };
  const skipRegex = () => {
    i++;
    let inClass = false;
    while (i < n) {
      const c = src[i];
      if (c === "\\") i++;
      else if (c === "[") inClass = true;
      else if (c === "]") inClass = false;
      else if (c === "/" && !inClass) break;
      else if (c === "\n") break;
      i++;
    }
    i++;
    while (i < n && ID_CHAR.test(src[i]!)) i++; // flags
  };

  while (i < n) {
    const c = src[i]!;
    const next = src[i + 1];
    if (c === "/" && next === "/") {
      while (i < n && src[i] !== "\n") i++;
      continue;
    }
    if (c === "/" && next === "*") {
      const end = src.indexOf("*/", i + 2);
      i = end < 0 ? n : end + 2;
      continue;
    }
    if (c === '"' || c === "'") {
      skipString(c);
      lastSignificant = c;
      lastWord = "";
      continue;
    }
    if (c === "`") {
      i++;
      skipTemplateText();
      lastSignificant = "`";
      lastWord = "";
      continue;
    }
    if (c === "/") {
      const regexAllowed = lastSignificant === "" ||
        /[(,=:[!&|?{};+\-*%<>~^]/.test(lastSignificant) ||
        REGEX_AFTER_WORD.has(lastWord);
      if (regexAllowed) {
        skipRegex();
        lastSignificant = "/";
        lastWord = "";
        continue;
      }
    }
    if (c === "{") braceDepth++;
    if (c === "}") {
      braceDepth--;
      if (templateStack.length > 0 && templateStack[templateStack.length - 1] === braceDepth) {
        templateStack.pop();
        i++;
        skipTemplateText();
        lastSignificant = "`";
        lastWord = "";
        continue;
      }
    }
    if (ID_CHAR.test(c)) {
      let j = i;
      while (j < n && ID_CHAR.test(src[j]!)) j++;
      const word = src.slice(i, j);
      if ((word === "import" || word === "export") && lastSignificant !== ".") {
        out.push(i);
      }
      lastWord = word;
      lastSignificant = src[j - 1]!;
      i = j;
      continue;
    }
    if (!/\s/.test(c)) {
      lastSignificant = c;
      lastWord = "";
    }
    i++;
  }
  return out;
}

const STATIC_IMPORT = /import\s+([^;'"`]*?)\s*\bfrom\s*(["'])([^"'\n]+)\2/y;
const SIDE_EFFECT_IMPORT = /import\s*(["'])([^"'\n]+)\1/y;
const DYNAMIC_IMPORT = /import\s*\(\s*(["'])([^"'\n]+)\1/y;
const EXPORT_FROM =
  /export\s+(type\s+)?(\*(?:\s+as\s+[\w$]+)?|\{[^}]*\})\s*from\s*(["'])([^"'\n]+)\3/y;

/** Whether an import clause (`type X`, `{ type A, type B }`, `X, { y }`) only brings types. */
function clauseIsTypeOnly(clause: string): boolean {
  const c = clause.trim();
  if (/^type\s+[^\s,]/.test(c) && !/^type\s*,/.test(c)) return true;
  const m = /^\{([^}]*)\}$/.exec(c);
  if (!m) return false;
  const names = m[1]!.split(",").map((s) => s.trim()).filter((s) => s !== "");
  return names.length > 0 && names.every((s) => /^type\s+/.test(s));
}

/** Extracts every import/export-from specifier of a TypeScript source. */
export function parseImports(src: string): ImportRef[] {
  const refs: ImportRef[] = [];
  const lineOf = (offset: number) => src.slice(0, offset).split("\n").length;
  for (const at of keywordOffsets(src)) {
    let m: RegExpExecArray | null;
    if (src.startsWith("import", at)) {
      DYNAMIC_IMPORT.lastIndex = at;
      if ((m = DYNAMIC_IMPORT.exec(src))) {
        const before = src.slice(Math.max(0, at - 12), at);
        refs.push({
          specifier: m[2]!,
          line: lineOf(at),
          typeOnly: /typeof\s+$/.test(before),
          dynamic: true,
        });
        continue;
      }
      SIDE_EFFECT_IMPORT.lastIndex = at;
      if ((m = SIDE_EFFECT_IMPORT.exec(src))) {
        refs.push({ specifier: m[2]!, line: lineOf(at), typeOnly: false, dynamic: false });
        continue;
      }
      STATIC_IMPORT.lastIndex = at;
      if ((m = STATIC_IMPORT.exec(src))) {
        refs.push({
          specifier: m[3]!,
          line: lineOf(at),
          typeOnly: clauseIsTypeOnly(m[1]!),
          dynamic: false,
        });
      }
    } else {
      EXPORT_FROM.lastIndex = at;
      if ((m = EXPORT_FROM.exec(src))) {
        const typeOnly = m[1] !== undefined || (m[2]!.startsWith("{") && clauseIsTypeOnly(m[2]!));
        refs.push({ specifier: m[4]!, line: lineOf(at), typeOnly, dynamic: false });
      }
    }
  }
  return refs;
}

// ───────────────────────────────────── Resolution ────────────────────────────────────────────

/** Where a specifier leads. */
export type Target =
  | { kind: "file"; path: string } // repo-relative, e.g. "src/domain/model.ts"
  | { kind: "npm"; name: string }
  | { kind: "node"; name: string }
  | { kind: "other"; name: string }; // jsr:, https:, unmapped bare names

function normalize(parts: string[]): string {
  const out: string[] = [];
  for (const p of parts) {
    if (p === "" || p === ".") continue;
    if (p === "..") out.pop();
    else out.push(p);
  }
  return out.join("/");
}

function npmName(spec: string): string {
  // npm:@scope/name@1.2.3/sub → @scope/name ; npm:name@1/sub → name
  const rest = spec.replace(/^npm:\/?/, "");
  const parts = rest.split("/");
  const head = rest.startsWith("@") ? `${parts[0]}/${parts[1] ?? ""}` : parts[0]!;
  return head.replace(/(.)@.*$/, "$1");
}

/** Resolves a specifier found in `from` (repo-relative) with the import map `imports`. */
export function resolveSpecifier(
  spec: string,
  from: string,
  imports: Readonly<Record<string, string>>,
): Target {
  if (spec.startsWith("./") || spec.startsWith("../")) {
    const dir = from.split("/").slice(0, -1);
    return { kind: "file", path: normalize([...dir, ...spec.split("/")]) };
  }
  if (spec.startsWith("/")) return { kind: "file", path: normalize(spec.split("/")) };
  if (spec.startsWith("npm:")) return { kind: "npm", name: npmName(spec) };
  if (spec.startsWith("node:")) return { kind: "node", name: spec };
  if (/^[a-z][a-z0-9+.-]*:/i.test(spec)) return { kind: "other", name: spec };
  // Bare specifier: longest matching import-map key ("zod" or "zod/" covers "zod/mini").
  let best = "";
  for (const key of Object.keys(imports)) {
    const hit = key === spec || (spec.startsWith(key.endsWith("/") ? key : `${key}/`));
    if (hit && key.length > best.length) best = key;
  }
  if (best !== "") {
    const mapped = imports[best]! + spec.slice(best.length);
    if (mapped.startsWith("npm:")) return { kind: "npm", name: npmName(mapped) };
    if (mapped.startsWith("node:")) return { kind: "node", name: mapped };
    if (mapped.startsWith("./") || mapped.startsWith("/")) {
      return { kind: "file", path: normalize(mapped.split("/")) };
    }
    return { kind: "other", name: mapped };
  }
  return { kind: "other", name: spec };
}

// ────────────────────────────────────── Checking ─────────────────────────────────────────────

/** A source file with its imports. */
export interface SourceFile {
  /** Repo-relative path with forward slashes. */
  path: string;
  imports: ImportRef[];
}

/** One problem found. */
export interface Finding {
  file: string;
  line: number;
  message: string;
}

/** The outcome of a check. */
export interface CheckResult {
  violations: Finding[];
  warnings: Finding[];
  /** Each cycle as a list of files, first file repeated at the end. */
  cycles: string[][];
  edges: number;
}

/** `src/agent/x.ts` → `agent`; `main.ts` → `main`; anything else → undefined. */
export function layerOf(path: string): string | undefined {
  if (path === "main.ts") return "main";
  const m = /^src\/([^/]+)\//.exec(path);
  return m ? m[1] : undefined;
}

/** Whether a path is a test, bench or test-support file (exempt from the layer rules). */
export function isTestFile(path: string): boolean {
  return /(_test|\.test|_bench|\.bench)\.(ts|tsx|mts|js)$/.test(path) ||
    /(^|\/)_?testing\.(ts|tsx|mts)$/.test(path) || /\/(testing|testdata)\//.test(path);
}

function externalAllowed(rule: LayerRule, t: Target): boolean {
  if (rule.external === undefined) return true;
  const name = t.kind === "npm" ? t.name : t.kind === "node" ? t.name : "";
  return rule.external.some((e) => e === name || (e === "node:*" && t.kind === "node"));
}

/** Checks every file against the rules; `exists` tells whether a repo-relative file exists. */
export function check(
  files: readonly SourceFile[],
  options: {
    imports: Readonly<Record<string, string>>;
    exists: (path: string) => boolean;
    rules?: Readonly<Record<string, LayerRule>>;
  },
): CheckResult {
  const rules = options.rules ?? LAYER_RULES;
  const violations: Finding[] = [];
  const warnings: Finding[] = [];
  const graph = new Map<string, Set<string>>();
  let edges = 0;
  const reportedLayers = new Set<string>();

  for (const f of files) {
    const layer = layerOf(f.path);
    if (layer === undefined) continue;
    const rule = rules[layer];
    if (rule === undefined) {
      if (!reportedLayers.has(layer)) {
        reportedLayers.add(layer);
        violations.push({
          file: f.path,
          line: 1,
          message: `src/${layer}/ has no rule in LAYER_RULES (scripts/check_imports.ts): ` +
            `add one that says what it may import`,
        });
      }
      continue;
    }
    const test = isTestFile(f.path);
    const out = new Set<string>();
    graph.set(f.path, out);
    for (const ref of f.imports) {
      edges++;
      const t = resolveSpecifier(ref.specifier, f.path, options.imports);
      const at = { file: f.path, line: ref.line };
      const quoted = `"${ref.specifier}"`;
      if (t.kind === "file") {
        if (!options.exists(t.path)) {
          violations.push({ ...at, message: `${quoted} does not exist (resolved to ${t.path})` });
          continue;
        }
        const toLayer = layerOf(t.path);
        if (t.path.startsWith("src/")) out.add(t.path);
        if (layer !== "main" && (toLayer === undefined || toLayer === "main")) {
          if (!test) {
            violations.push({ ...at, message: `src/ must not import ${t.path} (outside src/)` });
          }
          continue;
        }
        if (!test && isTestFile(t.path)) {
          violations.push({
            ...at,
            message: `production code must not import test file ${t.path}`,
          });
          continue;
        }
        if (test || toLayer === undefined || toLayer === layer) continue;
        const allowed = rule.allow !== undefined
          ? rule.allow.includes(toLayer)
          : !(rule.deny ?? []).includes(toLayer) || (rule.except ?? []).includes(t.path);
        if (!allowed) {
          violations.push({ ...at, message: `${layer}/ must not import ${t.path}: ${rule.why}` });
        } else if (rule.typeOnly && !ref.typeOnly) {
          warnings.push({
            ...at,
            message: `${layer}/ should import ${t.path} with \`import type\`: ${rule.why}`,
          });
        }
        continue;
      }
      if (test) continue;
      if (t.kind === "other") {
        violations.push({
          ...at,
          message: `${quoted} is neither relative, npm:, node: nor in deno.json's import map`,
        });
        continue;
      }
      if (!externalAllowed(rule, t)) {
        const allowed = rule.external?.length ? rule.external.join(", ") : "no external module";
        violations.push({
          ...at,
          message: `${layer}/ must not import ${t.name} (allowed: ${allowed}): ${rule.why}`,
        });
        continue;
      }
      if (
        t.kind === "npm" && (SDKS as readonly string[]).includes(t.name) &&
        !GLOBAL_RULES.sdkLayers.includes(layer)
      ) {
        violations.push({
          ...at,
          message: `${layer}/ must not import the SDK ${t.name}: only ` +
            `${GLOBAL_RULES.sdkLayers.join(", ")}/ talk to Docker, etcd and InfluxDB`,
        });
      }
    }
  }
  return { violations, warnings, cycles: findCycles(graph), edges };
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

// ─────────────────────────────────────── Main ────────────────────────────────────────────────

function walk(dir: string, rel: string, out: string[]): void {
  let entries: Deno.DirEntry[];
  try {
    entries = [...Deno.readDirSync(dir)];
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return;
    throw e;
  }
  for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    if (e.isDirectory) walk(`${dir}/${e.name}`, `${rel}/${e.name}`, out);
    else if (e.isFile && /\.(ts|tsx|mts)$/.test(e.name) && !e.name.endsWith(".d.ts")) {
      out.push(`${rel}/${e.name}`);
    }
  }
}

function fileExists(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}

async function main(): Promise<number> {
  const verbose = Deno.args.includes("--verbose") || Deno.args.includes("-v");
  const root = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
  const config = JSON.parse(await Deno.readTextFile(`${root}/deno.json`)) as {
    imports?: Record<string, string>;
  };
  const paths: string[] = [];
  walk(`${root}/src`, "src", paths);
  if (fileExists(`${root}/main.ts`)) paths.push("main.ts");

  const files: SourceFile[] = [];
  for (const p of paths) {
    files.push({ path: p, imports: parseImports(await Deno.readTextFile(`${root}/${p}`)) });
  }
  const result = check(files, {
    imports: config.imports ?? {},
    exists: (p) => fileExists(`${root}/${p}`),
  });

  if (verbose) {
    for (const f of files) {
      for (const r of f.imports) {
        console.log(`${f.path}:${r.line} → ${r.specifier}${r.typeOnly ? " (type)" : ""}`);
      }
    }
  }
  for (const w of result.warnings) console.log(`warning: ${w.file}:${w.line}: ${w.message}`);
  for (const v of result.violations) console.log(`violation: ${v.file}:${v.line}: ${v.message}`);
  for (const c of result.cycles) console.log(`cycle: ${c.join(" → ")}`);
  const failed = result.violations.length + result.cycles.length;
  console.log(
    `check_imports: ${files.length} files, ${result.edges} imports, ` +
      `${result.violations.length} violations, ${result.cycles.length} cycles, ` +
      `${result.warnings.length} warnings${failed === 0 ? ": ok" : ""}`,
  );
  return failed === 0 ? 0 : 1;
}

if (import.meta.main) Deno.exit(await main());
