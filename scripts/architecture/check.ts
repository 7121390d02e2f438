/**
 * The check itself: import edges and global references judged against the layer rules, import
 * cycles, and {@linkcode checkRoot}, which runs all of it over a tree.
 *
 * @module
 */

import { findCycles } from "./cycles.ts";
import type { Finding } from "./findings.ts";
import { denoInfo, type Edge, edgesFromInfo, type GlobalRef, globalReferences } from "./graph.ts";
import {
  GLOBAL_EXCEPTIONS,
  type GlobalException,
  isProductionFile,
  isTestFile,
  LAYER_RULES,
  layerOf,
  type LayerRule,
  SDKS,
} from "./rules.ts";

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
          `(scripts/architecture/rules.ts) with what it may import`,
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
        message:
          `layer ${layer} has no rule: add it to LAYER_RULES (scripts/architecture/rules.ts)`,
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
