/**
 * The embedded key-value store: in-process, optionally persisted to a JSON file so that several
 * Gru processes on one machine (CLI, agents) can share it. It implements the same `KvStore`
 * contract as etcd (`tests/contract/kv_store_contract.ts`), including leases and watches.
 *
 * File mode: every operation takes an exclusive lock on `<file>.lock`, reloads the file when
 * another process changed it, applies the operation and writes the file back atomically; the
 * file, private to its owner, is handled by `memory_kv_file.ts`. Lease expiry is wall-clock
 * based, so keys of a dead process expire for everyone.
 *
 * @module
 */

import type {
  KvCompare,
  KvEntry,
  KvEvent,
  KvLease,
  KvOp,
  KvStore,
  KvWatch,
} from "../../ports/kv_store.ts";
import { type Clock, systemClock } from "../../domain/clock.ts";
import { ValidationError } from "../../domain/errors.ts";
import { emptyState, MemoryKvFile, type State } from "./memory_kv_file.ts";

/** Options of `MemoryKvStore.open`. */
export interface MemoryKvOptions {
  /** Persist to (and share through) this JSON file. */
  file?: string | undefined;
  /** @default systemClock */
  clock?: Clock;
  /** How often expiry, keep-alives and file watches are checked, in ms. @default 100 */
  tickMs?: number;
}

interface LocalLease {
  id: string;
  ttl: number;
  lastKeepAlive: number;
  lost: ((err: Error) => void)[];
  done: boolean;
}

interface Watcher {
  prefix: string;
  onEvent: (event: KvEvent) => void;
}

/** The embedded store. */
export class MemoryKvStore implements KvStore {
  #state: State = emptyState();
  #file: MemoryKvFile | undefined;
  #clock: Clock;
  #leases = new Map<string, LocalLease>();
  #watchers = new Set<Watcher>();
  #timer: ReturnType<typeof setInterval> | undefined;
  #closed = false;
  #queue: Promise<unknown> = Promise.resolve();

  private constructor(options: MemoryKvOptions) {
    this.#file = options.file ? new MemoryKvFile(options.file) : undefined;
    this.#clock = options.clock ?? systemClock;
    this.#timer = setInterval(() => {
      this.#tick().catch(() => {});
    }, options.tickMs ?? 100);
  }

  /** Opens (and, in file mode, loads) a store. */
  static async open(options: MemoryKvOptions = {}): Promise<MemoryKvStore> {
    const store = new MemoryKvStore(options);
    if (options.file) await store.#run(() => false);
    return store;
  }

  get(key: string): Promise<string | undefined> {
    return this.#run(() => false, (s) => s.entries[key]?.value);
  }

  getPrefix(prefix: string): Promise<KvEntry[]> {
    return this.#run(
      () => false,
      (s) =>
        Object.keys(s.entries).filter((k) => k.startsWith(prefix)).sort().map((key) => ({
          key,
          value: s.entries[key]!.value,
        })),
    );
  }

  async put(key: string, value: string, options?: { lease?: string | undefined }) {
    await this.txn([], [{ put: key, value, lease: options?.lease }]);
  }

  delete(key: string): Promise<boolean> {
    let existed = false;
    return this.#run((s, events) => {
      existed = key in s.entries;
      if (existed) {
        delete s.entries[key];
        events.push({ type: "delete", key });
      }
      return existed;
    }, () => existed);
  }

  deletePrefix(prefix: string): Promise<number> {
    let n = 0;
    return this.#run((s, events) => {
      for (const key of Object.keys(s.entries)) {
        if (key.startsWith(prefix)) {
          delete s.entries[key];
          events.push({ type: "delete", key });
          n++;
        }
      }
      return n > 0;
    }, () => n);
  }

  txn(compares: KvCompare[], ops: KvOp[]): Promise<boolean> {
    let ok = false;
    return this.#run((s, events) => {
      ok = compares.every((c) =>
        "exists" in c ? (c.key in s.entries) === c.exists : s.entries[c.key]?.value === c.value
      );
      if (!ok) return false;
      for (const op of ops) {
        if ("put" in op) {
          if (op.lease !== undefined && !(op.lease in s.leases)) {
            throw new ValidationError(`Cannot put ${op.put}: lease ${op.lease} not found`);
          }
        }
      }
      for (const op of ops) {
        if ("put" in op) {
          s.entries[op.put] = { value: op.value, lease: op.lease };
          events.push({ type: "put", key: op.put, value: op.value });
        } else if ("delete" in op) {
          if (op.delete in s.entries) {
            delete s.entries[op.delete];
            events.push({ type: "delete", key: op.delete });
          }
        } else {
          for (const key of Object.keys(s.entries)) {
            if (key.startsWith(op.deletePrefix)) {
              delete s.entries[key];
              events.push({ type: "delete", key });
            }
          }
        }
      }
      return ops.length > 0;
    }, () => ok);
  }

  async grantLease(ttlSeconds: number): Promise<KvLease> {
    if (!(ttlSeconds >= 1)) throw new RangeError(`Lease TTL must be >= 1 s, got ${ttlSeconds}`);
    let id = "";
    await this.#run((s) => {
      id = `${this.#clock.now().toString(36)}-${(s.nextLease++).toString(36)}`;
      s.leases[id] = { ttl: ttlSeconds, expiresAt: this.#clock.now() + ttlSeconds * 1000 };
      return true;
    });
    const local: LocalLease = {
      id,
      ttl: ttlSeconds,
      lastKeepAlive: this.#clock.now(),
      lost: [],
      done: false,
    };
    this.#leases.set(id, local);
    return {
      id,
      ttl: ttlSeconds,
      onLost: (cb) => {
        local.lost.push(cb);
      },
      revoke: async () => {
        local.done = true;
        this.#leases.delete(id);
        if (this.#closed) return;
        await this.#run((s, events) => {
          if (!(id in s.leases)) return false;
          delete s.leases[id];
          this.#dropLeaseKeys(s, id, events);
          return true;
        });
      },
      release: () => {
        local.done = true;
        this.#leases.delete(id);
      },
    };
  }

  watchPrefix(prefix: string, onEvent: (event: KvEvent) => void): Promise<KvWatch> {
    const w: Watcher = { prefix, onEvent };
    this.#watchers.add(w);
    return Promise.resolve({
      close: () => {
        this.#watchers.delete(w);
        return Promise.resolve();
      },
    });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#timer);
    this.#leases.clear();
    this.#watchers.clear();
    await this.#queue.catch(() => {});
  }

  #dropLeaseKeys(s: State, id: string, events: KvEvent[]) {
    for (const [key, e] of Object.entries(s.entries)) {
      if (e.lease === id) {
        delete s.entries[key];
        events.push({ type: "delete", key });
      }
    }
  }

  /** Drops expired leases and their keys; returns whether anything changed. */
  #expire(s: State, events: KvEvent[]): boolean {
    const now = this.#clock.now();
    let changed = false;
    for (const [id, l] of Object.entries(s.leases)) {
      if (l.expiresAt <= now) {
        delete s.leases[id];
        this.#dropLeaseKeys(s, id, events);
        changed = true;
      }
    }
    return changed;
  }

  async #tick(): Promise<void> {
    if (this.#closed) return;
    const now = this.#clock.now();
    const due = [...this.#leases.values()].filter((l) =>
      !l.done && now - l.lastKeepAlive >= (l.ttl * 1000) / 3
    );
    const lost: LocalLease[] = [];
    await this.#run((s) => {
      let changed = false;
      for (const l of due) {
        const st = s.leases[l.id];
        if (!st) {
          lost.push(l);
          continue;
        }
        st.expiresAt = now + l.ttl * 1000;
        l.lastKeepAlive = now;
        changed = true;
      }
      for (const l of this.#leases.values()) {
        if (!l.done && !(l.id in s.leases) && !lost.includes(l)) lost.push(l);
      }
      return changed;
    });
    for (const l of lost) {
      l.done = true;
      this.#leases.delete(l.id);
      const err = new Error(`Lease ${l.id} was lost`);
      for (const cb of l.lost) cb(err);
    }
  }

  /**
   * Runs one operation, in turn, under the file's lock in file mode: reload, expire, mutate,
   * persist, notify. `mutate` returns whether it changed anything; `result` reads the outcome.
   */
  #run<T>(
    mutate: (s: State, events: KvEvent[]) => boolean,
    result?: (s: State) => T,
  ): Promise<T> {
    const next = this.#queue.then(() => {
      const file = this.#file;
      return file ? file.withLock(() => this.#apply(mutate, result)) : this.#apply(mutate, result);
    });
    this.#queue = next.catch(() => {});
    return next;
  }

  async #apply<T>(
    mutate: (s: State, events: KvEvent[]) => boolean,
    result?: (s: State) => T,
  ): Promise<T> {
    const events: KvEvent[] = [];
    if (this.#file) {
      const loaded = await this.#file.load();
      if (loaded) {
        if (this.#watchers.size > 0) diffStates(this.#state, loaded, events);
        this.#state = loaded;
      }
    }
    const expired = this.#expire(this.#state, events);
    const changed = mutate(this.#state, events);
    if (this.#file && (changed || expired)) await this.#file.save(this.#state);
    const out = result ? result(this.#state) : (undefined as T);
    this.#notify(events);
    return out;
  }

  #notify(events: KvEvent[]) {
    if (events.length === 0 || this.#watchers.size === 0) return;
    for (const w of this.#watchers) {
      for (const e of events) {
        if (e.key.startsWith(w.prefix)) {
          try {
            w.onEvent(e);
          } catch {
            // a watcher's failure is its own
          }
        }
      }
    }
  }
}

function diffStates(prev: State, next: State, events: KvEvent[]) {
  for (const [key, e] of Object.entries(next.entries)) {
    if (prev.entries[key]?.value !== e.value) events.push({ type: "put", key, value: e.value });
  }
  for (const key of Object.keys(prev.entries)) {
    if (!(key in next.entries)) events.push({ type: "delete", key });
  }
}
