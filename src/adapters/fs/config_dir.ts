/**
 * A configuration directory on the file system: {@linkcode loadConfigDir} reads it and hands its
 * entries to `configFromFiles` (the pure loader in `src/config/config_files.ts`), and
 * {@linkcode writeConfigDir} writes what `configToFiles` produces. The CLI gets both through its
 * injected dependencies (`CliDeps`).
 *
 * @module
 */

import { errorMessage } from "../../domain/errors.ts";
import type { ClusterDocs } from "../../domain/model.ts";
import {
  type ConfigEntry,
  configFromFiles,
  type ConfigListing,
  configToFiles,
  type EntryKind,
  isDocumentPath,
  type LoadedConfig,
  type LoadOptions,
  SET_DIRS,
  SINGLE_FILES,
  staleFiles,
} from "../../config/config_files.ts";

/** Joins two path parts with "/" (Deno accepts "/" everywhere). */
function join(dir: string, name: string): string {
  return dir.endsWith("/") || dir.endsWith("\\") ? dir + name : `${dir}/${name}`;
}

/** What is at `path` (following symbolic links); errors other than "not found" propagate. */
async function kindOf(path: string): Promise<EntryKind | "missing"> {
  try {
    const info = await Deno.stat(path);
    return info.isFile ? "file" : info.isDirectory ? "directory" : "other";
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return "missing";
    throw err;
  }
}

/** The entry at `rel` (absent when missing), with its text when the loader needs it. */
async function readEntry(dir: string, rel: string): Promise<ConfigEntry | undefined> {
  const kind = await kindOf(join(dir, rel));
  if (kind === "missing") return undefined;
  if (kind !== "file" || !isDocumentPath(rel)) return { kind };
  try {
    return { kind, text: await Deno.readTextFile(join(dir, rel)) };
  } catch (err) {
    return { kind, readError: errorMessage(err) };
  }
}

/**
 * Reads what a configuration directory holds: `config.json`, `policy.json`, `services/` and
 * `analytics/` with the entries directly inside them (the texts of the document files only).
 *
 * @param dir The directory.
 * @returns The listing `configFromFiles` takes.
 */
export async function readConfigListing(dir: string): Promise<ConfigListing> {
  const entries = new Map<string, ConfigEntry>();
  const kind = await kindOf(dir);
  if (kind !== "directory") return { dir, kind, entries };
  for (const file of SINGLE_FILES) {
    const entry = await readEntry(dir, file);
    if (entry) entries.set(file, entry);
  }
  for (const sub of SET_DIRS) {
    const entry = await readEntry(dir, sub);
    if (!entry) continue;
    entries.set(sub, entry);
    if (entry.kind !== "directory") continue;
    const names: string[] = [];
    for await (const e of Deno.readDir(join(dir, sub))) names.push(e.name);
    for (const name of names.sort()) {
      const child = await readEntry(dir, `${sub}/${name}`);
      if (child) entries.set(`${sub}/${name}`, child);
    }
  }
  return { dir, kind, entries };
}

/**
 * Loads a configuration directory, collecting the problems of every file (and, unless disabled,
 * of the cross-document checks) instead of stopping at the first. Each problem names its file
 * (relative to `dir`) and JSON path.
 *
 * @param dir The directory holding `config.json`, `policy.json`, `services/`, `analytics/`.
 * @param options Whether to run the cross-document checks.
 * @returns The valid documents, every problem, and where each document came from.
 */
export async function loadConfigDir(dir: string, options: LoadOptions = {}): Promise<LoadedConfig> {
  return await configFromFiles(await readConfigListing(dir), options);
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
  const write = configToFiles(docs);
  await Deno.mkdir(dir, { recursive: true });
  for (const sub of write.mirrored) {
    const path = join(dir, sub);
    await Deno.mkdir(path, { recursive: true });
    const names: string[] = [];
    for await (const e of Deno.readDir(path)) if (e.isFile) names.push(e.name);
    for (const name of staleFiles(write, sub, names)) await Deno.remove(join(path, name));
  }
  for (const file of write.files) await Deno.writeTextFile(join(dir, file.path), file.text);
  return write.files.map((f) => f.path);
}
