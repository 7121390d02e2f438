/**
 * The architecture rules: the folder map ({@linkcode LAYERS}), what each layer may import and
 * which globals it must not touch ({@linkcode LAYER_RULES}), the justified exceptions
 * ({@linkcode GLOBAL_EXCEPTIONS}), and how a repo-relative path is classified (its layer, test
 * or production file).
 *
 * @module
 */

import { COMPUTED_IMPORT, DATE_NOW, GLOBAL_KEYS, MATH_RANDOM } from "./purity_lint_plugin.ts";

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
  { folder: "src/console/", layer: "console" },
  { folder: "src/sim/", layer: "sim" },
  { folder: "src/app/", layer: "app" },
  { folder: "src/lb/", layer: "lb" },
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
  /** Global keys (see `purity_lint_plugin.ts` next to this file) this layer must not reference. */
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
    external: ["zod", "jsonc-parser", "mathjs", "croner"],
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
    // croner only computes cron occurrences for a time passed in (schedules.ts); no timer.
    external: ["croner"],
    globals: PURE_GLOBALS,
  },
  analyzer: {
    why: "the analyzer is pure: domain plus mathjs expressions (checked by the same code as " +
      "config validation, itself pure), no I/O, clock, randomness or timer",
    allow: ["domain", "config", "analyzer"],
    external: ["mathjs"],
    globals: PURE_GLOBALS,
  },
  sim: {
    why: "sim/ is `gru simulate`'s pure core: it replays a load trace through the real planner, " +
      "guards and coordination, with time and randomness injected (the CLI reads and writes files)",
    allow: ["domain", "config", "planner", "sim"],
    // The executor's pure rules: the guards, the coordination and target tracking's share.
    except: [
      "src/agent/executor/guards.ts",
      "src/agent/executor/coordination.ts",
      "src/agent/executor/track.ts",
    ],
    external: [],
    globals: PURE_GLOBALS,
  },
  agent: {
    why: "agent/ depends on ports; adapters are injected by app/, and the edges (api, cli) " +
      "sit above it",
    deny: ["adapters", "api", "cli", "console", "app", "main"],
    externalDeny: SDKS,
    globals: ANY_LAYER_GLOBALS,
  },
  adapters: {
    why: "adapters/ implement ports (and are the only home of the SDKs); they never reach up " +
      "into the agent, the CLI or the wiring",
    deny: ["agent", "planner", "analyzer", "cli", "console", "app", "main"],
    globals: ANY_LAYER_GLOBALS,
  },
  api: {
    why: "api/ is a thin HTTP edge over the agent facade; app/ wires it to adapters",
    deny: ["adapters", "cli", "console", "app", "main"],
    externalDeny: SDKS,
    globals: ANY_LAYER_GLOBALS,
  },
  cli: {
    why: "cli/ gets adapters through injection from app/ (CliDeps), never directly",
    deny: ["adapters", "app", "main"],
    externalDeny: SDKS,
    globals: ANY_LAYER_GLOBALS,
  },
  console: {
    why: "console/ is the web console's server (`gru console`, a separate process): like cli/ " +
      "it reaches etcd and the agents through what the CLI is given, never adapters; no agent " +
      "code imports it, so serving the console adds nothing to an agent",
    deny: ["adapters", "app", "main"],
    externalDeny: SDKS,
    globals: ANY_LAYER_GLOBALS,
  },
  lb: {
    why: "lb/ is `gru lb`'s watcher (discovery keys → a load balancer's runtime API): it reads " +
      "etcd through the KvStore port it is given by the CLI, never adapters, and only the " +
      "CLI loads it",
    allow: ["domain", "ports", "lb"],
    // The discovery key layout, shared with the agent that writes the keys.
    except: ["src/agent/discovery.ts"],
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
    file: "src/domain/clock.ts",
    key: "performance",
    why: "systemClock.monotonic is the real monotonic time source behind the injectable Clock",
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
