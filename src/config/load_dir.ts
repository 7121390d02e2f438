/**
 * A cluster's configuration as a directory: `config.json`, `policy.json`, `services/*.json` and
 * `analytics/*.json`, each optional. A present `services/` (or `analytics/`) directory stands for
 * the whole set: an import mirrors it, deleting stored documents that are not in it.
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
import { errorMessage } from "../domain/errors.ts";
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

/** What `loadConfigDir` found. */
export interface LoadedConfig {
  /** The valid documents; a part is absent when its file or directory is. */
  docs: ClusterDocs;
  /** Every problem of every file, errors and warnings, in file order. */
  problems: Problem[];
  /** Where each document came from, for later checks (`validateClusterDocs`). */
  sources: DocSources;
}

/** Options of `loadConfigDir`. */
export interface LoadOptions {
  /**
   * Also run the cross-document checks of `validateClusterDocs` (loads mathjs).
   * @default true
   */
  crossCheck?: boolean;
}

/** Joins two path parts with "/" (config/ avoids node:path; Deno accepts "/" everywhere). */
function join(dir: string, name: string): string {
  return dir.endsWith("/") || dir.endsWith("\\") ? dir + name : `${dir}/${name}`;
}

type Kind = "file" | "directory" | "missing" | "other";

async function kindOf(path: string): Promise<Kind> {
  try {
    const info = await Deno.stat(path);
    return info.isFile ? "file" : info.isDirectory ? "directory" : "other";
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return "missing";
    throw err;
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Reads and parses one file; `undefined` (with a problem) when that fails. */
async function readJson(
  dir: string,
  file: string,
  problems: Problem[],
): Promise<{ ok: true; value: unknown } | { ok: false }> {
  let text: string;
  try {
    text = await Deno.readTextFile(join(dir, file));
  } catch (err) {
    problems.push(problem({ file, path: "$" }, {
      expected: "a readable file",
      found: "an unreadable file",
      note: errorMessage(err),
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

async function loadSingle<T>(
  dir: string,
  file: string,
  check: (input: unknown, source: string) => Checked<T>,
  problems: Problem[],
): Promise<{ value?: T; source?: DocSource; present: boolean }> {
  const kind = await kindOf(join(dir, file));
  if (kind === "missing") return { present: false };
  if (kind !== "file") {
    problems.push(wrongKind(file, "a JSON file", kind));
    return { present: true };
  }
  const read = await readJson(dir, file, problems);
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

/** Loads `<sub>/*.json`; names default to the file name, duplicates are errors. */
async function loadSet<T extends Named>(
  dir: string,
  sub: string,
  what: string,
  check: (input: unknown, source: string) => Checked<T>,
  problems: Problem[],
): Promise<SetResult<T>> {
  const result: SetResult<T> = {
    present: false,
    values: [],
    sources: new Map(),
    unloaded: new Set(),
  };
  const kind = await kindOf(join(dir, sub));
  if (kind === "missing") return result;
  result.present = true;
  if (kind !== "directory") {
    problems.push(wrongKind(sub, `a directory of ${what} files`, kind));
    return result;
  }
  const names: string[] = [];
  for await (const entry of Deno.readDir(join(dir, sub))) names.push(entry.name);
  names.sort();
  for (const entryName of names) {
    const file = `${sub}/${entryName}`;
    const entryKind = await kindOf(join(dir, file));
    if (!entryName.endsWith(".json") || entryKind !== "file") {
      problems.push(problem({ file, path: "$" }, {
        expected: `a ${what} file named <name>.json`,
        found: entryKind === "directory" ? "a directory" : describeValue(entryName),
        severity: "warning",
        note: "ignored",
      }));
      continue;
    }
    const stem = entryName.slice(0, -".json".length);
    const read = await readJson(dir, file, problems);
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
 * Loads a configuration directory, collecting the problems of every file (and, unless disabled,
 * of the cross-document checks) instead of stopping at the first.
 *
 * @param dir The directory holding `config.json`, `policy.json`, `services/`, `analytics/`.
 * @param options Whether to run the cross-document checks.
 * @returns The valid documents, every problem, and where each document came from.
 */
export async function loadConfigDir(dir: string, options: LoadOptions = {}): Promise<LoadedConfig> {
  const problems: Problem[] = [];
  const docs: ClusterDocs = {};
  const sources: DocSources = {};
  const kind = await kindOf(dir);
  if (kind !== "directory") {
    problems.push(problem({ file: dir, path: "$" }, {
      expected: "a configuration directory",
      found: kind === "missing" ? "nothing" : "a file",
    }));
    return { docs, problems, sources };
  }

  const config = await loadSingle<AgentConfig>(dir, CONFIG_FILE, checkAgentConfig, problems);
  const policy = await loadSingle<PolicyConfig>(dir, POLICY_FILE, checkPolicyConfig, problems);
  const services = await loadSet<ServiceDescriptor>(
    dir,
    SERVICES_DIR,
    "service",
    checkServiceDescriptor,
    problems,
  );
  const analytics = await loadSet<Analytic>(
    dir,
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

/** Writes a directory of `<name>.json` files, removing `.json` files of documents not in it. */
async function writeSet(dir: string, sub: string, docs: readonly Named[]): Promise<string[]> {
  const path = join(dir, sub);
  await Deno.mkdir(path, { recursive: true });
  const keep = new Set(docs.map((d) => `${d.name}.json`));
  for await (const entry of Deno.readDir(path)) {
    if (entry.isFile && entry.name.endsWith(".json") && !keep.has(entry.name)) {
      await Deno.remove(join(path, entry.name));
    }
  }
  const written: string[] = [];
  for (const doc of docs) {
    await Deno.writeTextFile(join(path, `${doc.name}.json`), pretty(doc));
    written.push(`${sub}/${doc.name}.json`);
  }
  return written;
}

/**
 * Writes documents as a configuration directory (pretty JSON, 2 spaces) that `loadConfigDir`
 * reads back to the same documents. Absent parts are not written. Because a `services/` or
 * `analytics/` directory stands for the whole set, `.json` files there that do not belong to an
 * exported document are deleted.
 *
 * @param dir The directory; created when missing.
 * @param docs The documents.
 * @returns The files written, relative to `dir`.
 */
export async function writeConfigDir(dir: string, docs: ClusterDocs): Promise<string[]> {
  await Deno.mkdir(dir, { recursive: true });
  const written: string[] = [];
  if (docs.config) {
    await Deno.writeTextFile(join(dir, CONFIG_FILE), pretty(docs.config));
    written.push(CONFIG_FILE);
  }
  if (docs.policy) {
    await Deno.writeTextFile(join(dir, POLICY_FILE), pretty(docs.policy));
    written.push(POLICY_FILE);
  }
  if (docs.services) written.push(...await writeSet(dir, SERVICES_DIR, docs.services));
  if (docs.analytics) written.push(...await writeSet(dir, ANALYTICS_DIR, docs.analytics));
  return written;
}
