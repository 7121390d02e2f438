/**
 * Enforces Gru's layering: which folder may import which, which external packages each layer
 * may use, no import cycles, and which ambient globals (I/O, clock, randomness, timers) each
 * layer may touch. The folder map and its rules are the tables `LAYERS` and `LAYER_RULES` of
 * `scripts/architecture/rules.ts`; the rest of the check lives in that folder too.
 *
 * Nothing here lexes source text:
 *
 * - Imports come from the module graph Deno itself computes (`deno info --json` over one entry
 *   that imports every production file), so every static, type-only, `export … from`,
 *   `@ts-types` and literal dynamic import is an edge, resolved through `deno.json`'s import map
 *   exactly as Deno resolves it. npm packages show up as `npm:` specifiers and node builtins as
 *   `node:` ones; `--no-npm --no-remote` keeps the run offline (their names are all the check
 *   needs).
 * - Globals come from `deno lint` running the AST plugin
 *   `scripts/architecture/purity_lint_plugin.ts` over sanitized copies of the production files
 *   (any `deno-lint-ignore` directive is neutralized, so a comment cannot switch the check off).
 *   Comments and strings never count.
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

import { checkRoot } from "./architecture/check.ts";
import { formatFinding } from "./architecture/findings.ts";
import type { Target } from "./architecture/graph.ts";

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
