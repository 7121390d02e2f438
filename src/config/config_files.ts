/**
 * A cluster's configuration as a directory: `config.json`, `policy.json`, `services/*.json` and
 * `analytics/*.json`, each optional. A present `services/` (or `analytics/`) directory stands for
 * the whole set: an import mirrors it, deleting stored documents that are not in it.
 *
 * This module is pure: {@linkcode configFromFiles} turns a directory's entries (names, kinds and
 * texts, as a reader found them) into documents and problems, and {@linkcode configToFiles} turns
 * documents into the files to write. Reading and writing the directory itself is an adapter's job
 * (`src/adapters/fs/config_dir.ts`).
 *
 * @module
 */

import type {
  AgentConfig,
  Analytic,
  ClusterDocs,
  PolicyConfig,
  ServiceDescriptor,
} from "../domain/model.ts";
import {
  checkAgentConfig,
  checkAnalytic,
  type Checked,
  checkPolicyConfig,
  checkServiceDescriptor,
} from "./documents.ts";
import { parseJsonc } from "./jsonc.ts";
import { describeValue, type Problem, problem } from "./problem.ts";
import { type DocSource, type DocSources, validateClusterDocs } from "./validate.ts";

/** File of the agent configuration in a configuration directory. */
export const CONFIG_FILE = "config.json";
/** File of the policy configuration. */
export const POLICY_FILE = "policy.json";
/** Directory of the service descriptors, one `<name>.json` each. */
export const SERVICES_DIR = "services";
/** Directory of the analytics, one `<name>.json` each. */
export const ANALYTICS_DIR = "analytics";

/** What a path of a configuration directory is. */
export type EntryKind = "file" | "directory" | "other";

/** One path of a configuration directory, as the reader found it. */
export interface ConfigEntry {
  kind: EntryKind;
  /** The text of a file that {@linkcode isDocumentPath} selects, when reading it worked. */
  text?: string | undefined;
  /** Why reading a file that {@linkcode isDocumentPath} selects failed. */
  readError?: string | undefined;
}

/** A configuration directory as read: what it is, and the entries that matter. */
export interface ConfigListing {
  /** The directory as the user named it (problems about the whole directory name it). */
  dir: string;
  /** What `dir` is (`missing` when nothing is there); only a directory has entries. */
  kind: EntryKind | "missing";
  /**
   * Entries by "/"-separated path relative to `dir`: `config.json`, `policy.json`, `services`,
   * `analytics`, and the entries directly inside those two directories (`services/web.json`, …).
   * A path that does not exist is absent.
   */
  entries: ReadonlyMap<string, ConfigEntry>;
}

/** What `configFromFiles` (and so `loadConfigDir`) found. */
export interface LoadedConfig {
  /** The valid documents; a part is absent when its file or directory is. */
  docs: ClusterDocs;
  /** Every problem of every file, errors and warnings, in file order. */
  problems: Problem[];
  /** Where each document came from, for later checks (`validateClusterDocs`). */
  sources: DocSources;
}

/** Options of `configFromFiles` (and `loadConfigDir`). */
export interface LoadOptions {
  /**
   * Also run the cross-document checks of `validateClusterDocs` (loads mathjs).
   * @default true
   */
  crossCheck?: boolean;
}

/** The single-document files of a configuration directory, in load order. */
export const SINGLE_FILES: readonly string[] = [CONFIG_FILE, POLICY_FILE];
/** The set directories of a configuration directory, in load order. */
export const SET_DIRS: readonly string[] = [SERVICES_DIR, ANALYTICS_DIR];

/** A document file's name in a set directory: `<name>.json`. */
function isJsonName(name: string): boolean {
  return name.endsWith(".json");
}

/**
 * Whether a reader must give the text of the file at this relative path (when it is a file):
 * `config.json`, `policy.json`, and the `*.json` entries of `services/` and `analytics/`.
 */
export function isDocumentPath(path: string): boolean {
  if (SINGLE_FILES.includes(path)) return true;
  const slash = path.indexOf("/");
  if (slash < 0) return false;
  const name = path.slice(slash + 1);
  return SET_DIRS.includes(path.slice(0, slash)) && !name.includes("/") && isJsonName(name);
}

type Kind = EntryKind | "missing";

function kindOf(listing: ConfigListing, path: string): Kind {
  return listing.entries.get(path)?.kind ?? "missing";
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Parses one file's text; `ok: false` (with a problem) when it was unreadable or is invalid. */
function readJson(
  listing: ConfigListing,
  file: string,
  problems: Problem[],
): { ok: true; value: unknown } | { ok: false } {
  const entry = listing.entries.get(file);
  const text = entry?.text;
  if (text === undefined) {
    problems.push(problem({ file, path: "$" }, {
      expected: "a readable file",
      found: "an unreadable file",
      note: entry?.readError ?? "not read",
    }));
    return { ok: false };
  }
  const parsed = parseJsonc(text, file);
  problems.push(...parsed.problems);
  return parsed.problems.length === 0 ? { ok: true, value: parsed.value } : { ok: false };
}

function wrongKind(file: string, expected: string, found: Kind): Problem {
  return problem({ file, path: "$" }, {
    expected,
    found: found === "directory" ? "a directory" : "something else",
  });
}

function loadSingle<T>(
  listing: ConfigListing,
  file: string,
  check: (input: unknown, source: string) => Checked<T>,
  problems: Problem[],
): { value?: T; source?: DocSource; present: boolean } {
  const kind = kindOf(listing, file);
  if (kind === "missing") return { present: false };
  if (kind !== "file") {
    problems.push(wrongKind(file, "a JSON file", kind));
    return { present: true };
  }
  const read = readJson(listing, file, problems);
  if (!read.ok) return { present: true };
  const checked = check(read.value, file);
  problems.push(...checked.problems);
  return checked.value === undefined
    ? { present: true }
    : { value: checked.value, present: true, source: { file, pathOf: checked.pathOf } };
}

interface Named {
  name: string;
}

interface SetResult<T extends Named> {
  present: boolean;
  values: T[];
  sources: Map<string, DocSource>;
  /** Names of documents that exist but failed to load. */
  unloaded: Set<string>;
}

/** The names of the entries directly inside `sub`, sorted. */
function entryNames(listing: ConfigListing, sub: string): string[] {
  const prefix = `${sub}/`;
  const names: string[] = [];
  for (const path of listing.entries.keys()) {
    if (path.startsWith(prefix) && !path.slice(prefix.length).includes("/")) {
      names.push(path.slice(prefix.length));
    }
  }
  return names.sort();
}

/** Loads `<sub>/*.json`; names default to the file name, duplicates are errors. */
function loadSet<T extends Named>(
  listing: ConfigListing,
  sub: string,
  what: string,
  check: (input: unknown, source: string) => Checked<T>,
  problems: Problem[],
): SetResult<T> {
  const result: SetResult<T> = {
    present: false,
    values: [],
    sources: new Map(),
    unloaded: new Set(),
  };
  const kind = kindOf(listing, sub);
  if (kind === "missing") return result;
  result.present = true;
  if (kind !== "directory") {
    problems.push(wrongKind(sub, `a directory of ${what} files`, kind));
    return result;
  }
  for (const entryName of entryNames(listing, sub)) {
    const file = `${sub}/${entryName}`;
    const entryKind = kindOf(listing, file);
    if (!isJsonName(entryName) || entryKind !== "file") {
      problems.push(problem({ file, path: "$" }, {
        expected: `a ${what} file named <name>.json`,
        found: entryKind === "directory" ? "a directory" : describeValue(entryName),
        severity: "warning",
        note: "ignored",
      }));
      continue;
    }
    const stem = entryName.slice(0, -".json".length);
    const read = readJson(listing, file, problems);
    if (!read.ok) {
      result.unloaded.add(stem);
      continue;
    }
    let input = read.value;
    if (isObject(input) && !Object.keys(input).some((k) => k.toLowerCase() === "name")) {
      input = { name: stem, ...input };
    }
    const checked = check(input, file);
    problems.push(...checked.problems);
    const value = checked.value;
    if (value === undefined) {
      result.unloaded.add(stem);
      const rawName = isObject(input)
        ? Object.entries(input).find(([k]) => k.toLowerCase() === "name")?.[1]
        : undefined;
      if (typeof rawName === "string") result.unloaded.add(rawName);
      continue;
    }
    const previous = result.sources.get(value.name);
    if (previous) {
      problems.push(problem({ file, path: checked.pathOf(["name"]) }, {
        expected: `a ${what} name used by no other file`,
        found: describeValue(value.name),
        note: `${previous.file} defines it too`,
      }));
      continue;
    }
    result.values.push(value);
    result.sources.set(value.name, { file, pathOf: checked.pathOf });
  }
  return result;
}

/**
 * Turns a configuration directory's entries into documents, collecting the problems of every file
 * (and, unless disabled, of the cross-document checks) instead of stopping at the first. Each
 * problem names its file (relative to the directory) and JSON path.
 *
 * @example Two files of a directory, as a reader found them
 * ```ts
 * import { configFromFiles } from "./config_files.ts";
 * const { docs, problems } = await configFromFiles({
 *   dir: "conf",
 *   kind: "directory",
 *   entries: new Map([
 *     ["services", { kind: "directory" }],
 *     ["services/web.json", { kind: "file", text: `{ "image": "nginx" }` }],
 *   ]),
 * });
 * docs.services?.[0]?.name; // "web"
 * problems.length; // 0
 * ```
 *
 * @param listing The directory: what it is, and its entries (see {@linkcode ConfigListing}).
 * @param options Whether to run the cross-document checks.
 * @returns The valid documents, every problem, and where each document came from.
 */
export async function configFromFiles(
  listing: ConfigListing,
  options: LoadOptions = {},
): Promise<LoadedConfig> {
  const { dir } = listing;
  const problems: Problem[] = [];
  const docs: ClusterDocs = {};
  const sources: DocSources = {};
  const kind = listing.kind;
  if (kind !== "directory") {
    problems.push(problem({ file: dir, path: "$" }, {
      expected: "a configuration directory",
      found: kind === "missing" ? "nothing" : "a file",
    }));
    return { docs, problems, sources };
  }

  const config = loadSingle<AgentConfig>(listing, CONFIG_FILE, checkAgentConfig, problems);
  const policy = loadSingle<PolicyConfig>(listing, POLICY_FILE, checkPolicyConfig, problems);
  const services = loadSet<ServiceDescriptor>(
    listing,
    SERVICES_DIR,
    "service",
    checkServiceDescriptor,
    problems,
  );
  const analytics = loadSet<Analytic>(
    listing,
    ANALYTICS_DIR,
    "analytic",
    checkAnalytic,
    problems,
  );

  if (config.value) docs.config = config.value;
  if (policy.value) docs.policy = policy.value;
  if (services.present) docs.services = services.values;
  if (analytics.present) docs.analytics = analytics.values;
  sources.config = config.source;
  sources.policy = policy.source;
  sources.services = services.sources;
  sources.analytics = analytics.sources;
  sources.unloadedAnalytics = analytics.unloaded;

  if (!config.present && !policy.present && !services.present && !analytics.present) {
    problems.push(problem({ file: dir, path: "$" }, {
      expected: `${CONFIG_FILE}, ${POLICY_FILE}, ${SERVICES_DIR}/ or ${ANALYTICS_DIR}/`,
      found: "none of them",
      severity: "warning",
      note: "there is nothing to import",
    }));
  }
  if (options.crossCheck ?? true) problems.push(...await validateClusterDocs(docs, sources));
  return { docs, problems, sources };
}

function pretty(value: unknown): string {
  return JSON.stringify(value, null, 2) + "\n";
}

/** One file to write, relative to the configuration directory. */
export interface ConfigFileText {
  /** "/"-separated path relative to the directory, e.g. `services/web.json`. */
  path: string;
  text: string;
}

/** What writing documents as a configuration directory takes. */
export interface ConfigDirWrite {
  /** The files to write, in order. */
  files: ConfigFileText[];
  /**
   * The set directories written whole (`services`, `analytics`), in order: each is created, and
   * the `.json` files in it that {@linkcode staleFiles} names are deleted.
   */
  mirrored: string[];
}

/**
 * The files of a configuration directory (pretty JSON, 2 spaces) that {@linkcode configFromFiles}
 * reads back to the same documents. Absent parts have no files. Because a `services/` or
 * `analytics/` directory stands for the whole set, a present set is listed in `mirrored`.
 *
 * @param docs The documents.
 * @returns The files to write and the set directories to mirror.
 */
export function configToFiles(docs: ClusterDocs): ConfigDirWrite {
  const files: ConfigFileText[] = [];
  const mirrored: string[] = [];
  if (docs.config) files.push({ path: CONFIG_FILE, text: pretty(docs.config) });
  if (docs.policy) files.push({ path: POLICY_FILE, text: pretty(docs.policy) });
  const sets: [string, readonly Named[] | undefined][] = [
    [SERVICES_DIR, docs.services],
    [ANALYTICS_DIR, docs.analytics],
  ];
  for (const [sub, set] of sets) {
    if (!set) continue;
    mirrored.push(sub);
    for (const doc of set) files.push({ path: `${sub}/${doc.name}.json`, text: pretty(doc) });
  }
  return { files, mirrored };
}

/**
 * The `.json` files of a mirrored set directory that the write does not hold (to delete).
 *
 * @param write What `configToFiles` returned.
 * @param sub A set directory (`services` or `analytics`).
 * @param names The names of the files (not directories) now in `sub`.
 * @returns The names among `names` to delete.
 */
export function staleFiles(write: ConfigDirWrite, sub: string, names: readonly string[]): string[] {
  const prefix = `${sub}/`;
  const keep = new Set<string>();
  for (const f of write.files) if (f.path.startsWith(prefix)) keep.add(f.path.slice(prefix.length));
  return names.filter((name) => isJsonName(name) && !keep.has(name));
}
