/**
 * Keeps this node registered in the cluster: its four keys hang on a lease that the store keeps
 * alive, so a dead agent's node vanishes within the TTL (no zombies: docs/compat.md#d25). When the lease is
 * lost (etcd was away longer than the TTL) a new lease is granted and the keys written again,
 * with backoff, until it works; the agent keeps running meanwhile.
 *
 * @module
 */

import { getLogger } from "@logtape/logtape";
import type { ClusterStore } from "../cluster/cluster_store.ts";
import type { KvLease } from "../ports/kv_store.ts";
import type { NodeRecord } from "../domain/model.ts";
import type { Clock } from "../domain/clock.ts";
import { ConflictError, errorMessage } from "../domain/errors.ts";
import { Backoff } from "../domain/backoff.ts";

const log = getLogger(["gru", "agent", "registration"]);

/** Options of `NodeRegistration`. */
export interface RegistrationOptions {
  store: ClusterStore;
  cluster: string;
  /** Lease TTL in seconds. */
  ttl: number;
  clock: Clock;
  /** The record to write (read each time it is written). */
  record: () => NodeRecord;
  /** Called on every failed attempt (for the etcd error counter). */
  onError?: (() => void) | undefined;
}

/** The registration loop. */
export class NodeRegistration {
  #options: RegistrationOptions;
  #lease: KvLease | undefined;
  #abort = new AbortController();
  #loop: Promise<void> | undefined;
  #lastError: string | undefined;
  #waiters: (() => void)[] = [];

  constructor(options: RegistrationOptions) {
    this.#options = options;
  }

  /** Whether the node's keys are in the store now. */
  get registered(): boolean {
    return this.#lease !== undefined;
  }

  /** The last registration error, if the node is not registered. */
  get lastError(): string | undefined {
    return this.#lastError;
  }

  /** The current lease id. */
  get leaseId(): string | undefined {
    return this.#lease?.id;
  }

  /** Starts the loop (returns at once). */
  start(): void {
    this.#loop ??= this.#run();
  }

  /** Resolves once registered, or rejects after `ms` with the last error. */
  async waitRegistered(ms: number): Promise<void> {
    if (this.registered) return;
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      await new Promise<void>((resolve, reject) => {
        this.#waiters.push(resolve);
        timer = setTimeout(
          () => reject(new Error(`Not registered after ${ms} ms: ${this.#lastError ?? "waiting"}`)),
          ms,
        );
      });
    } finally {
      clearTimeout(timer);
    }
  }

  /** Rewrites the node's keys on the current lease (after a constraints or active change). */
  async update(): Promise<void> {
    const lease = this.#lease;
    if (!lease) return; // written at the next registration
    await this.#options.store.registerNode(this.#options.cluster, this.#options.record(), lease.id);
  }

  /** Stops the loop and revokes the lease: the node leaves the cluster at once. */
  async stop(): Promise<void> {
    this.#abort.abort(new Error("stopped"));
    await this.#loop?.catch(() => {});
    const lease = this.#lease;
    this.#lease = undefined;
    if (lease) await lease.revoke().catch(() => lease.release());
  }

  async #run(): Promise<void> {
    const signal = this.#abort.signal;
    const backoff = new Backoff(this.#options.clock);
    while (!signal.aborted) {
      let lease: KvLease | undefined;
      try {
        lease = await this.#options.store.kv.grantLease(this.#options.ttl);
        const lost = new Promise<Error>((resolve) => lease!.onLost(resolve));
        await this.#options.store.registerNode(
          this.#options.cluster,
          this.#options.record(),
          lease.id,
        );
        this.#lease = lease;
        this.#lastError = undefined;
        backoff.reset();
        log.info("Registered node {node} in cluster {cluster} (lease {lease}, ttl {ttl} s)", {
          node: this.#options.record().config.name,
          cluster: this.#options.cluster,
          lease: lease.id,
          ttl: this.#options.ttl,
        });
        for (const w of this.#waiters.splice(0)) w();
        // `stop()` may have come while the lease was granted or the keys written: an abort
        // listener added now would never fire, and the loop (and `stop()`) would wait forever.
        if (signal.aborted) return;
        const aborted = new Promise<Error>((resolve) =>
          signal.addEventListener("abort", () => resolve(new Error("stopped")), { once: true })
        );
        const why = await Promise.race([lost, aborted]);
        if (signal.aborted) return;
        this.#lease = undefined;
        log.warn("Lease lost ({reason}): registering again", { reason: why.message });
      } catch (err) {
        if (lease && this.#lease !== lease) lease.release();
        this.#options.onError?.();
        this.#lastError = errorMessage(err);
        const level = err instanceof ConflictError ? "error" : "warn";
        log[level]("Cannot register node: {error}; retrying in {ms} ms", {
          error: this.#lastError,
          ms: backoff.peek(),
        });
        try {
          await backoff.wait(signal);
        } catch {
          return;
        }
      }
    }
  }
}
