/**
 * A `deno lint` plugin that finds every reference to an ambient global that breaks purity
 * (I/O, the clock, randomness, timers) or reaches such globals indirectly (`globalThis`, `eval`,
 * the `Function` constructor), plus dynamic imports whose specifier is computed (the module graph
 * cannot see where they lead).
 *
 * The plugin has no policy: it reports every such reference, in every file it is given, with the
 * catalogue key of what was reached in the diagnostic's `hint` (see {@linkcode GLOBAL_KEYS}) and
 * the code as written in its `message`. The architecture check (`scripts/check_imports.ts`) runs
 * it over the production files and decides, per layer, which keys are violations.
 *
 * It works on the parsed AST, so names in comments, strings and templates never count, and
 * property names (`o.fetch`, `{ window: 1 }`, `interface I { performance: number }`) are not
 * references. There is no scope analysis: a local binding named like a watched global
 * (`const fetch = …`, a parameter `window`) is reported too, since the name hides whether the
 * global is used; rename the binding.
 *
 * Used by the check through a generated lint configuration (`lint.plugins`); tests call it with
 * `Deno.lint.runPlugin`.
 *
 * @module
 */

/** The plugin's name; diagnostics carry the code `<PLUGIN_NAME>/<RULE_NAME>`. */
export const PLUGIN_NAME = "gru-purity";
/** The plugin's only rule. */
export const RULE_NAME = "global-reference";

/** Globals of which every reference is reported (the key is the name itself). */
export const WATCHED_NAMES: readonly string[] = [
  // The runtime namespace: files, network, environment, processes.
  "Deno",
  // Network and other ambient I/O.
  "fetch",
  "WebSocket",
  "EventSource",
  "BroadcastChannel",
  "Worker",
  "navigator",
  "localStorage",
  "sessionStorage",
  "caches",
  "prompt",
  "alert",
  "confirm",
  // Timers and scheduling.
  "setTimeout",
  "setInterval",
  "queueMicrotask",
  // Clock and randomness beyond Date and Math (crypto.getRandomValues, crypto.randomUUID).
  "performance",
  "crypto",
  // Escape hatches that reach any global without naming it.
  "globalThis",
  "self",
  "window",
  "eval",
  "Function",
];

/** `Date.now`, `new Date()` with no argument, `Date()`, or `Date` escaping as a value. */
export const DATE_NOW = "Date.now";
/** `Math.random`, a computed member of `Math`, or `Math` escaping as a value. */
export const MATH_RANDOM = "Math.random";
/** `import(x)` where `x` is not a string literal. */
export const COMPUTED_IMPORT = "import()";

/** Every key the plugin reports in a diagnostic's `hint`. */
export const GLOBAL_KEYS: readonly string[] = [
  ...WATCHED_NAMES,
  DATE_NOW,
  MATH_RANDOM,
  COMPUTED_IMPORT,
];

type Node = Deno.lint.Node;
type Identifier = Deno.lint.Identifier;

/** Whether two nodes are the same source node (node objects are not identity-stable). */
function same(a: Node | null | undefined, b: Node): boolean {
  return a !== null && a !== undefined && a.range[0] === b.range[0] &&
    a.range[1] === b.range[1];
}

/**
 * Whether an identifier is a name rather than a reference: a property or member name, a key of
 * an object, class or interface member, an enum member, the right side of a qualified type name,
 * a label, or the external name of an import/export specifier.
 */
export function isNamePosition(node: Identifier): boolean {
  const p = node.parent;
  switch (p.type) {
    case "MemberExpression":
      return !p.computed && same(p.property, node);
    case "Property":
      // `{ fetch }` is both key and value: the value is a reference (or a binding).
      return !p.shorthand && !p.computed && same(p.key, node);
    case "MethodDefinition":
    case "PropertyDefinition":
    case "TSAbstractMethodDefinition":
    case "TSAbstractPropertyDefinition":
    case "TSPropertySignature":
    case "TSMethodSignature":
      return !p.computed && same(p.key, node);
    case "TSEnumMember":
      return same(p.id, node);
    case "TSQualifiedName":
      return same(p.right, node);
    case "TSImportType":
      return same(p.qualifier, node);
    case "TSNamedTupleMember":
      return same(p.label, node);
    case "LabeledStatement":
    case "BreakStatement":
    case "ContinueStatement":
    case "MetaProperty":
    case "ImportAttribute":
      return true;
    case "ImportSpecifier":
      // Without `as`, `imported` and `local` are one identifier: a local binding.
      return same(p.imported, node) && !same(p.local, node);
    case "ExportSpecifier":
      return same(p.exported, node) && !same(p.local, node);
    case "ExportAllDeclaration":
      return same(p.exported, node);
    default:
      return false;
  }
}

/** Whether an identifier names a type (`Date` in `d: Date`, `typeof Math` in a type). */
function isTypePosition(node: Identifier): boolean {
  switch (node.parent.type) {
    case "TSTypeReference":
    case "TSQualifiedName":
    case "TSTypeQuery":
    case "TSInterfaceHeritage":
    case "TSClassImplements":
      return true;
    default:
      return false;
  }
}

/** The name a member access reads, when it is statically known (`o.x`, `o["x"]`, ``o[`x`]``). */
function staticMemberName(m: Deno.lint.MemberExpression): string | undefined {
  const prop = m.property;
  if (!m.computed) return prop.type === "Identifier" ? prop.name : undefined;
  if (prop.type === "Literal" && typeof prop.value === "string") return prop.value;
  if (prop.type === "TemplateLiteral" && prop.expressions.length === 0) {
    return prop.quasis[0]?.cooked;
  }
  return undefined;
}

/** What a use of `Date` or `Math` reaches: a key and the code as written, or nothing harmless. */
function dateOrMath(node: Identifier): { key: string; text: string } | undefined {
  const isDate = node.name === "Date";
  const key = isDate ? DATE_NOW : MATH_RANDOM;
  const member = isDate ? "now" : "random";
  const p = node.parent;
  if (isTypePosition(node)) return undefined;
  if (p.type === "MemberExpression" && same(p.object, node)) {
    const name = staticMemberName(p);
    if (name === undefined) return { key, text: `${node.name}[…] (a computed member)` };
    return name === member ? { key, text: `${node.name}.${member}` } : undefined;
  }
  if (isDate && p.type === "NewExpression" && same(p.callee, node)) {
    const noArgs = p.arguments.length === 0 || p.arguments.some((a) => a.type === "SpreadElement");
    return noArgs ? { key, text: "new Date() (the current time)" } : undefined;
  }
  if (isDate && p.type === "CallExpression" && same(p.callee, node)) {
    return { key, text: "Date() (the current time as a string)" };
  }
  if (p.type === "BinaryExpression" && p.operator === "instanceof" && same(p.right, node)) {
    return undefined;
  }
  return { key, text: `${node.name} used as a value (an alias reaches ${key})` };
}

/** The code as written for a watched name: `Deno.readTextFileSync`, `fetch`, `globalThis.x`. */
function describe(node: Identifier): string {
  const p = node.parent;
  if (p.type === "MemberExpression" && same(p.object, node)) {
    const name = staticMemberName(p);
    return name === undefined ? `${node.name}[…]` : `${node.name}.${name}`;
  }
  if (p.type === "TSQualifiedName" && same(p.left, node) && p.right.type === "Identifier") {
    return `${node.name}.${p.right.name} (a type)`;
  }
  return node.name;
}

const watched = new Set(WATCHED_NAMES);

/** The plugin: one rule that reports every watched reference (key in `hint`). */
const plugin: Deno.lint.Plugin = {
  name: PLUGIN_NAME,
  rules: {
    [RULE_NAME]: {
      create(ctx) {
        // `{ fetch }` visits one source identifier twice (as key and as value).
        const seen = new Set<string>();
        const report = (node: Node, key: string, text: string) => {
          const at = `${node.range[0]}:${node.range[1]}`;
          if (seen.has(at)) return;
          seen.add(at);
          ctx.report({ node, message: text, hint: key });
        };
        return {
          Identifier(node) {
            const name = node.name;
            if (name === "Date" || name === "Math") {
              if (isNamePosition(node)) return;
              const hit = dateOrMath(node);
              if (hit) report(node, hit.key, hit.text);
              return;
            }
            if (!watched.has(name) || isNamePosition(node)) return;
            report(node, name, describe(node));
          },
          ImportExpression(node) {
            const s = node.source;
            const literal = (s.type === "Literal" && typeof s.value === "string") ||
              (s.type === "TemplateLiteral" && s.expressions.length === 0);
            if (!literal) report(node, COMPUTED_IMPORT, "import() with a computed specifier");
          },
          // `f.constructor("code")` reaches the Function constructor without naming it.
          CallExpression(node) {
            const c = node.callee;
            if (c.type === "MemberExpression" && staticMemberName(c) === "constructor") {
              report(node, "Function", "….constructor(…) (reaches the Function constructor)");
            }
          },
        };
      },
    },
  },
};

export default plugin;
