/**
 * The key-value store port: what Gru needs from etcd. Two adapters implement it, etcd
 * (`adapters/etcd/`) and an embedded in-process store, optionally persisted to a file
 * (`adapters/memory/`); `tests/contract/kv_store_contract.ts` runs the same suite on both.
 *
 * Every method may throw `UnavailableError` when the store cannot be reached in time; none
 * blocks longer than the adapter's request timeout.
 *
 * @module
 */

/** One key and its value. */
export interface KvEntry {
  key: string;
  value: string;
}

/** A compare in a transaction: the key exists (or not), or holds exactly `value`. */
export type KvCompare =
  | { key: string; exists: boolean }
  | { key: string; value: string };

/** A write in a transaction. */
export type KvOp =
  | { put: string; value: string; lease?: string | undefined }
  | { delete: string }
  | { deletePrefix: string };

/** A change seen by a watch. */
export interface KvEvent {
  type: "put" | "delete";
  key: string;
  /** The new value for `put`. */
  value?: string | undefined;
}

/** A granted lease, kept alive automatically until revoked or the store closes. */
export interface KvLease {
  /** Opaque lease id, usable in `put` and transactions. */
  readonly id: string;
  /** The lease's time to live, in seconds. */
  readonly ttl: number;
  /**
   * Registers a callback for when the lease is lost (it expired because keep-alives failed, or
   * it was revoked elsewhere). The keys attached to it are then gone: grant a new lease and write
   * them again. Called at most once per lease.
   */
  onLost(callback: (err: Error) => void): void;
  /** Revokes the lease, deleting every key attached to it. Idempotent. */
  revoke(): Promise<void>;
  /** Stops keeping the lease alive without revoking it (its keys expire after the TTL). */
  release(): void;
}

/** A running watch. */
export interface KvWatch {
  close(): Promise<void>;
}

/** The store. Keys are plain strings such as `/gru/c1/services/web`. */
export interface KvStore {
  /** The value at `key`, or `undefined`. */
  get(key: string): Promise<string | undefined>;
  /** Every entry whose key starts with `prefix`, sorted by key. */
  getPrefix(prefix: string): Promise<KvEntry[]>;
  /** Writes `value` at `key`, attached to `lease` when given. */
  put(key: string, value: string, options?: { lease?: string | undefined }): Promise<void>;
  /** Deletes `key`; true when it existed. */
  delete(key: string): Promise<boolean>;
  /** Deletes every key under `prefix`; returns how many. */
  deletePrefix(prefix: string): Promise<number>;
  /**
   * Applies `ops` atomically if every compare holds; returns whether they held. Nothing is
   * written when they do not.
   */
  txn(compares: KvCompare[], ops: KvOp[]): Promise<boolean>;
  /** Grants a lease of `ttlSeconds` (>= 1) and keeps it alive. */
  grantLease(ttlSeconds: number): Promise<KvLease>;
  /**
   * Calls `onEvent` for each change under `prefix` from now on. Events for one key arrive in
   * order. The watch survives store outages, resuming when the store returns.
   */
  watchPrefix(prefix: string, onEvent: (event: KvEvent) => void): Promise<KvWatch>;
  /** Releases connections and stops keep-alives (leases are not revoked). */
  close(): Promise<void>;
}
