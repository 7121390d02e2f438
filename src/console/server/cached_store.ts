/**
 * The cluster store as the console reads it: the reads every view repeats (clusters, nodes,
 * services, configuration, policy, tokens) answered from a short-lived cache, so a live overview
 * per loop interval and per cluster costs etcd a few reads, not one per view and viewer. The
 * console's own writes clear it; `fresh` is the store without cache, for the configuration
 * manager, which must diff and validate against what is in force.
 *
 * @module
 */

import { ClusterStore } from "../../cluster/cluster_store.ts";

/** How long a read is reused by default. */
export const READ_CACHE_MS = 2000;

/** A `ClusterStore` whose common reads are cached for a short time. */
export class CachedStore extends ClusterStore {
  /** The same store, uncached. */
  readonly fresh: ClusterStore;
  #ttlMs: number;
  #now: () => number;
  #cache = new Map<string, { at: number; value: Promise<unknown> }>();

  constructor(store: ClusterStore, options: { ttlMs?: number; now?: () => number } = {}) {
    super(store.kv);
    this.fresh = store;
    this.#ttlMs = options.ttlMs ?? READ_CACHE_MS;
    this.#now = options.now ?? Date.now;
  }

  #read<T>(key: string, read: () => Promise<T>): Promise<T> {
    const now = this.#now();
    const hit = this.#cache.get(key);
    if (hit && now - hit.at < this.#ttlMs) return hit.value as Promise<T>;
    const value = read();
    value.catch(() => this.#cache.delete(key));
    if (this.#cache.size > 1000) this.#cache.clear();
    this.#cache.set(key, { at: now, value });
    return value;
  }

  /** Forgets every cached read. */
  forget(): void {
    this.#cache.clear();
  }

  override listClusters() {
    return this.#read("clusters", () => super.listClusters());
  }

  override requireCluster(cluster: string) {
    return this.#read(`uuid ${cluster}`, () => super.requireCluster(cluster));
  }

  override token(cluster: string) {
    return this.#read(`token ${cluster}`, () => super.token(cluster));
  }

  override readTokens(cluster: string) {
    return this.#read(`tokens ${cluster}`, () => super.readTokens(cluster));
  }

  override getConfig(cluster: string) {
    return this.#read(`config ${cluster}`, () => super.getConfig(cluster));
  }

  override getPolicy(cluster: string) {
    return this.#read(`policy ${cluster}`, () => super.getPolicy(cluster));
  }

  override listServices(cluster: string) {
    return this.#read(`services ${cluster}`, () => super.listServices(cluster));
  }

  override checkServices(cluster: string) {
    return this.#read(`checked services ${cluster}`, () => super.checkServices(cluster));
  }

  override listNodes(cluster: string) {
    return this.#read(`nodes ${cluster}`, () => super.listNodes(cluster));
  }

  override async importDocs(...args: Parameters<ClusterStore["importDocs"]>): Promise<void> {
    try {
      await super.importDocs(...args);
    } finally {
      this.forget();
    }
  }
}
