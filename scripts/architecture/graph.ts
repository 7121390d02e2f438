/**
 * The facts the architecture check judges, gathered by running Deno: the import edges of the
 * production files (`deno info --json` over one entry that imports them all) and their
 * references to watched globals (`deno lint` with the purity plugin over sanitized copies).
 *
 * @module
 */

import type { Finding } from "./findings.ts";
import { PLUGIN_NAME, RULE_NAME } from "./purity_lint_plugin.ts";

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
