/**
 * Cluster membership from etcd: the live nodes, kept current by a watch on
 * `/gru/<cluster>/nodes/` instead of the original's N reads per gossip round (docs/compat.md#d36). A full
 * listing is taken at start and again whenever the watch may have missed something (store
 * errors), so the view heals by itself after an etcd outage.
 *
 * @module
 */

import { getLogger } from "@logtape/logtape";
import type { ClusterStore } from "../cluster/cluster_store.ts";
import type { KvWatch } from "../ports/kv_store.ts";
import type { NodeRecord } from "../domain/model.ts";
import type { Clock } from "../domain/clock.ts";
import { clusterKeys } from "../cluster/keys.ts";
import { errorMessage } from "../domain/errors.ts";

const log = getLogger(["gru", "agent", "membership"]);

/** The live nodes of a cluster. */
export class Membership {
  #store: ClusterStore;
  #cluster: string;
  #clock: Clock;
  #nodes = new Map<string, NodeRecord>();
  #watch: KvWatch | undefined;
  #abort = new AbortController();
  #task: Promise<void> | undefined;
  #dirty = true;
  #lastSync = 0;
  #healthy = false;

  #onError: (() => void) | undefined;

  constructor(
    options: { store: ClusterStore; cluster: string; clock: Clock; onError?: () => void },
  ) {
    this.#onError = options.onError;
    this.#store = options.store;
    this.#cluster = options.cluster;
    this.#clock = options.clock;
  }

  /** Live nodes by name (including this one). */
  get nodes(): ReadonlyMap<string, NodeRecord> {
    return this.#nodes;
  }

  /** Whether the last listing or watch event came from a reachable store. */
  get healthy(): boolean {
    return this.#healthy;
  }

  /** Starts watching; returns at once. */
  start(): void {
    this.#task ??= this.#run();
  }

  /** Stops watching. */
  async stop(): Promise<void> {
    this.#abort.abort(new Error("stopped"));
    await this.#task?.catch(() => {});
    await this.#watch?.close().catch(() => {});
  }

  async #run(): Promise<void> {
    const signal = this.#abort.signal;
    const prefix = clusterKeys(this.#cluster).nodes;
    while (!signal.aborted) {
      try {
        if (!this.#watch) {
          this.#watch = await this.#store.kv.watchPrefix(prefix, () => {
            this.#dirty = true;
          });
        }
        // Re-list when the watch saw a change, and every 10 s in case it missed one.
        if (this.#dirty || this.#clock.now() - this.#lastSync > 10_000) {
          this.#dirty = false;
          const list = await this.#store.listNodes(this.#cluster);
          this.#nodes = new Map(list.map((n) => [n.config.name, n]));
          this.#lastSync = this.#clock.now();
          if (!this.#healthy) log.debug("Membership: {n} live nodes", { n: list.length });
          this.#healthy = true;
        }
      } catch (err) {
        this.#onError?.();
        this.#dirty = true;
        if (this.#healthy) {
          log.warn("Cannot read the cluster's nodes: {error}", { error: errorMessage(err) });
        }
        this.#healthy = false;
      }
      try {
        await this.#clock.sleep(250, signal);
      } catch {
        return;
      }
    }
  }
}
