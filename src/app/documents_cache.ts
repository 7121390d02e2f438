/**
 * The local cache of the cluster documents an agent runs on: the configuration, the policy, the
 * services and the analytics, exactly as etcd held them at the last good read. An agent that
 * starts while etcd is unreachable runs on them, so the base services of its node are kept from
 * the first second, and reads etcd again as soon as it answers (docs/concurrency.md).
 *
 * The file sits beside the identity file (`<identity without .json>.documents.json`), is
 * written atomically with mode 0600 (a service's `Env` may hold a secret) and never holds the
 * cluster token or anything under `nodes/`.
 *
 * @module
 */

import { getLogger } from "@logtape/logtape";
import { ClusterStore } from "../cluster/cluster_store.ts";
import { clusterKeys } from "../cluster/keys.ts";
import { errorMessage } from "../domain/errors.ts";
import type { KvEntry } from "../ports/kv_store.ts";
import { MemoryKvStore } from "../adapters/memory/memory_kv_store.ts";

const log = getLogger(["gru", "agent", "documents"]);

/** Where the cache of the node whose identity file is `identityPath` lives. */
export function documentsCachePath(identityPath: string): string {
  return `${identityPath.replace(/\.json$/, "")}.documents.json`;
}

/** The file's content. */
interface CacheFile {
  version: 1;
  cluster: string;
  /** When it was written (ISO time), shown when an agent starts on it. */
  savedAt: string;
  entries: KvEntry[];
}

/** The keys cached: what the agent's documents are read from, nothing else. */
function cachedPrefixes(cluster: string): string[] {
  const k = clusterKeys(cluster);
  return [k.uuid, k.config, k.policy, k.services, k.analytics];
}

/** Writes atomically with mode 0600. */
async function writePrivate(path: string, text: string): Promise<void> {
  const dir = path.includes("/") ? path.slice(0, path.lastIndexOf("/")) : "";
  if (dir) await Deno.mkdir(dir, { recursive: true });
  const tmp = `${path}.tmp-${Deno.pid}`;
  await Deno.writeTextFile(tmp, text, { mode: 0o600 });
  await Deno.chmod(tmp, 0o600);
  await Deno.rename(tmp, path);
}

/** A cache of one cluster's documents in one file. */
export class DocumentsCache {
  readonly path: string;
  #cluster: string;

  constructor(path: string, cluster: string) {
    this.path = path;
    this.#cluster = cluster;
  }

  /**
   * Copies the documents from `store` into the file. Reads the five places separately; a
   * failure leaves the previous file as it was.
   */
  async save(store: ClusterStore, now: Date): Promise<void> {
    const entries: KvEntry[] = [];
    for (const key of cachedPrefixes(this.#cluster)) {
      const value = key.endsWith("/") ? undefined : await store.kv.get(key);
      if (value !== undefined) entries.push({ key, value });
      else if (key.endsWith("/")) entries.push(...await store.kv.getPrefix(key));
    }
    const file: CacheFile = {
      version: 1,
      cluster: this.#cluster,
      savedAt: now.toISOString(),
      entries,
    };
    await writePrivate(this.path, JSON.stringify(file));
  }

  /**
   * A read-only store over the cached documents, or undefined when there is no usable cache (a
   * damaged file is reported and ignored). The caller closes it with `store.kv.close()`.
   */
  async open(): Promise<{ store: ClusterStore; savedAt: string } | undefined> {
    let text: string;
    try {
      text = await Deno.readTextFile(this.path);
    } catch (err) {
      if (!(err instanceof Deno.errors.NotFound)) {
        log.warn("Cannot read the documents cache {path}: {error}", {
          path: this.path,
          error: errorMessage(err),
        });
      }
      return undefined;
    }
    const file = parseCache(text, this.#cluster);
    if (typeof file === "string") {
      log.warn("Ignoring the documents cache {path}: {why}", { path: this.path, why: file });
      return undefined;
    }
    const kv = await MemoryKvStore.open();
    const allowed = cachedPrefixes(this.#cluster);
    for (const e of file.entries) {
      if (allowed.some((p) => e.key === p || (p.endsWith("/") && e.key.startsWith(p)))) {
        await kv.put(e.key, e.value);
      }
    }
    return { store: new ClusterStore(kv), savedAt: file.savedAt };
  }
}

/** The cache file, or why it cannot be used. */
function parseCache(text: string, cluster: string): CacheFile | string {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return "not JSON";
  }
  const f = value as Partial<CacheFile> | null;
  if (!f || typeof f !== "object" || f.version !== 1) return "expected version 1";
  if (f.cluster !== cluster) return `it holds cluster "${String(f.cluster).slice(0, 40)}"`;
  if (
    !Array.isArray(f.entries) ||
    !f.entries.every((e) => typeof e?.key === "string" && typeof e?.value === "string")
  ) return "expected entries: [{key, value}] of strings";
  return { version: 1, cluster, savedAt: String(f.savedAt ?? "unknown"), entries: f.entries };
}
