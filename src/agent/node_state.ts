/**
 * The node's desired state (base services, `cpumin`, `cpumax`, whether the loop should run),
 * kept where a restarted agent finds it again: in etcd at `/gru/<cluster>/desired/<node>`,
 * outside the node's lease, and in a local cache file beside the identity file for a start with
 * etcd down (docs/compat.md#desired-node-state).
 *
 * Each field's value comes, in this order, from: a local change not yet written to etcd (kept
 * in the cache as "dirty"), the etcd record when etcd answers and has one (it wins), the cache,
 * else the default. Every change is written to etcd and then to the cache; a change made while
 * etcd is away stays dirty and is written when it returns ({@linkcode NodeState.sync}).
 *
 * @module
 */

import { getLogger } from "@logtape/logtape";
import type { ClusterStore } from "../cluster/cluster_store.ts";
import {
  checkDesiredState,
  defaultDesiredState,
  DESIRED_FIELDS,
  type DesiredField,
} from "../cluster/node_desired.ts";
import { errorMessage, ValidationError } from "../domain/errors.ts";
import type { NodeConstraints, NodeDesiredState } from "../domain/model.ts";

const log = getLogger(["gru", "agent", "node-state"]);

/** Where a value of the desired state came from. */
export type StateSource = "etcd" | "cache" | "default";

/**
 * The local cache file. The composition root implements it (the agent does no file I/O): an
 * atomic write with mode 0600.
 */
export interface NodeStateCacheFile {
  /** Its path, for messages. */
  readonly path: string;
  /** Its text, or `undefined` when there is no file. */
  read(): Promise<string | undefined>;
  /** Replaces its text. */
  write(text: string): Promise<void>;
}

/** What `NodeState` needs. */
export interface NodeStateOptions {
  store: ClusterStore;
  cluster: string;
  node: string;
  /** Absent: no local cache (etcd only). */
  cache?: NodeStateCacheFile | undefined;
}

/** The desired state with where each value came from (`GET /gru/v1/node`, `show node`). */
export interface NodeStateView {
  state: NodeDesiredState;
  sources: Record<DesiredField, StateSource>;
  /** Fields changed here and not yet written to etcd. */
  pending: DesiredField[];
  /** Why etcd could not be read or written last time, until it works again. */
  etcdError?: string | undefined;
}

/** The cache file's content. */
interface CacheContent {
  cluster: string;
  node: string;
  state: Partial<NodeDesiredState>;
  dirty: DesiredField[];
}

function allSources(source: StateSource): Record<DesiredField, StateSource> {
  return { baseServices: source, cpuMin: source, cpuMax: source, active: source };
}

function copy(s: NodeDesiredState): NodeDesiredState {
  return { ...s, baseServices: [...s.baseServices] };
}

/** One node's desired state. */
export class NodeState {
  #o: NodeStateOptions;
  #state = defaultDesiredState();
  #sources = allSources("default");
  #dirty = new Set<DesiredField>();
  /** Restored without reaching etcd: etcd is read again when it answers. */
  #unconfirmed = false;
  #etcdError: string | undefined;
  #cacheError: string | undefined;
  /** The text last written to the cache (an unchanged state is not written again). */
  #cached: string | undefined;
  #queue: Promise<unknown> = Promise.resolve();

  constructor(options: NodeStateOptions) {
    this.#o = options;
  }

  /** The desired state (a copy). */
  get state(): NodeDesiredState {
    return copy(this.#state);
  }

  /** The desired constraints (a copy). */
  get constraints(): NodeConstraints {
    const { cpuMin, cpuMax, baseServices } = this.#state;
    return { cpuMin, cpuMax, baseServices: [...baseServices] };
  }

  /** Whether etcd still has to be read (restored without it) or written (changes pending). */
  get needsSync(): boolean {
    return this.#unconfirmed || this.#dirty.size > 0;
  }

  /** The state, each value's source, and what is pending. */
  view(): NodeStateView {
    return {
      state: this.state,
      sources: { ...this.#sources },
      pending: DESIRED_FIELDS.filter((f) => this.#dirty.has(f)),
      etcdError: this.#etcdError,
    };
  }

  /** Restores the state: dirty cached changes, else etcd (it wins), else the cache, else defaults. */
  restore(): Promise<void> {
    return this.#exclusive(() => this.#restore());
  }

  /**
   * Changes some fields, writing them to etcd and the cache.
   *
   * @returns Whether etcd has the change (false: it is kept in the cache, written on `sync`).
   */
  set(patch: Partial<NodeDesiredState>): Promise<boolean> {
    const checked = checkDesiredState(patch, "node state");
    return this.#exclusive(async () => {
      for (const f of DESIRED_FIELDS) {
        if (checked[f] === undefined) continue;
        this.#put(f, checked[f], "cache");
        this.#dirty.add(f);
      }
      return await this.#push();
    });
  }

  /**
   * Brings etcd and this node together after an outage: reads etcd if the state was restored
   * without it (etcd's values win over every field not changed here since), then writes the
   * pending changes.
   *
   * @returns Whether the state changed (the caller applies it).
   */
  sync(): Promise<boolean> {
    return this.#exclusive(async () => {
      const before = JSON.stringify(this.#state);
      await this.#push();
      return JSON.stringify(this.#state) !== before;
    });
  }

  async #restore(): Promise<void> {
    const cached = await this.#readCache();
    let etcd: Partial<NodeDesiredState> | undefined;
    let reached = false;
    try {
      etcd = await this.#readEtcd();
      reached = true;
      this.#etcdError = undefined;
    } catch (err) {
      this.#etcdFailed(err);
    }
    this.#state = defaultDesiredState();
    this.#sources = allSources("default");
    this.#dirty.clear();
    for (const f of DESIRED_FIELDS) {
      const local = cached?.state[f];
      if (local !== undefined && cached!.dirty.includes(f)) {
        this.#put(f, local, "cache");
        this.#dirty.add(f);
      } else if (!etcd && local !== undefined) this.#put(f, local, "cache");
    }
    this.#unconfirmed = !reached;
    if (reached) this.#merge(etcd);
    const from = reached
      ? (etcd ? "etcd" : cached ? "the local cache" : "defaults")
      : cached
      ? "the local cache (etcd unreachable)"
      : "defaults (etcd unreachable, no local cache)";
    log.info("Node state restored from {from}: {state}", { from, state: this.#describe() });
    if (this.#dirty.size > 0 && reached) await this.#push();
    else await this.#saveCache();
  }

  /**
   * Takes etcd's record (or its absence) for every field not changed here: etcd wins. With no
   * record, the values from the cache are written back to etcd.
   */
  #merge(etcd: Partial<NodeDesiredState> | undefined): void {
    const defaults = defaultDesiredState();
    for (const f of DESIRED_FIELDS) {
      if (this.#dirty.has(f)) continue;
      if (etcd) {
        const v = etcd[f];
        if (v !== undefined) this.#put(f, v, "etcd");
        else this.#put(f, defaults[f], "default");
      } else if (this.#sources[f] === "cache") this.#dirty.add(f);
    }
  }

  #put<F extends DesiredField>(f: F, value: NodeDesiredState[F], source: StateSource): void {
    this.#state[f] = (Array.isArray(value) ? [...value] : value) as NodeDesiredState[F];
    this.#sources[f] = source;
  }

  /**
   * Reads etcd first when the state was restored without it (its values win over every field
   * not changed here), writes the fields changed here, then the cache.
   *
   * @returns Whether etcd is in step now.
   */
  async #push(): Promise<boolean> {
    let ok = false;
    try {
      if (this.#unconfirmed) {
        const etcd = await this.#readEtcd();
        this.#unconfirmed = false;
        this.#merge(etcd);
        log.info("Node state confirmed with etcd: {state}", { state: this.#describe() });
      }
      if (this.#dirty.size > 0) {
        await this.#o.store.putNodeDesired(this.#o.cluster, this.#o.node, this.#explicit());
        for (const f of DESIRED_FIELDS) if (this.#sources[f] === "cache") this.#sources[f] = "etcd";
        this.#dirty.clear();
      }
      this.#etcdError = undefined;
      ok = true;
    } catch (err) {
      this.#etcdFailed(err);
    }
    await this.#saveCache();
    return ok;
  }

  /** The fields that are not defaults. */
  #explicit(): Partial<NodeDesiredState> {
    const out: Partial<NodeDesiredState> = {};
    for (const f of DESIRED_FIELDS) {
      if (this.#sources[f] !== "default") {
        (out as Record<string, unknown>)[f] = this.state[f];
      }
    }
    return out;
  }

  async #readCache(): Promise<CacheContent | undefined> {
    const file = this.#o.cache;
    if (!file) return undefined;
    try {
      const text = await file.read();
      if (text === undefined) return undefined;
      return this.#parseCache(text, file.path);
    } catch (err) {
      log.warn("Ignoring the node-state cache {path}: {error}", {
        path: file.path,
        error: errorMessage(err),
      });
      return undefined;
    }
  }

  #parseCache(text: string, path: string): CacheContent | undefined {
    let v: Record<string, unknown>;
    try {
      v = JSON.parse(text);
    } catch (err) {
      throw new ValidationError(`${path}: not JSON`, { cause: err });
    }
    if (typeof v !== "object" || v === null || Array.isArray(v)) {
      throw new ValidationError(`${path}: $: expected an object`);
    }
    if (v.cluster !== this.#o.cluster || v.node !== this.#o.node) {
      log.warn("The node-state cache {path} is of another node ({cluster}/{node}): ignored", {
        path,
        cluster: String(v.cluster).slice(0, 63),
        node: String(v.node).slice(0, 63),
      });
      return undefined;
    }
    const state = checkDesiredState(v.state, path);
    const dirty = Array.isArray(v.dirty) ? v.dirty : [];
    return {
      cluster: this.#o.cluster,
      node: this.#o.node,
      state,
      dirty: DESIRED_FIELDS.filter((f) => dirty.includes(f)),
    };
  }

  async #saveCache(): Promise<void> {
    const file = this.#o.cache;
    if (!file) return;
    const content: CacheContent = {
      cluster: this.#o.cluster,
      node: this.#o.node,
      state: this.#explicit(),
      dirty: DESIRED_FIELDS.filter((f) => this.#dirty.has(f)),
    };
    const text = JSON.stringify(content, null, 2) + "\n";
    if (text === this.#cached) return;
    try {
      await file.write(text);
      this.#cached = text;
      if (this.#cacheError) log.info("Node-state cache {path} written again", { path: file.path });
      this.#cacheError = undefined;
    } catch (err) {
      const msg = errorMessage(err);
      if (msg !== this.#cacheError) {
        log.warn("Cannot write the node-state cache {path}: {error}", {
          path: file.path,
          error: msg,
        });
      }
      this.#cacheError = msg;
    }
  }

  /** etcd's record; an invalid one counts as none (the local state is written over it). */
  async #readEtcd(): Promise<Partial<NodeDesiredState> | undefined> {
    try {
      return await this.#o.store.getNodeDesired(this.#o.cluster, this.#o.node);
    } catch (err) {
      if (!(err instanceof ValidationError)) throw err;
      log.error("Invalid desired state in etcd, replaced by this node's: {error}", {
        error: errorMessage(err),
      });
      return undefined;
    }
  }

  #etcdFailed(err: unknown): void {
    const msg = errorMessage(err);
    if (msg !== this.#etcdError) {
      log.warn("Cannot reach the node's desired state in etcd: {error}", { error: msg });
    }
    this.#etcdError = msg;
  }

  #describe(): string {
    const s = this.#state;
    const src = this.#sources;
    return `active ${s.active} (${src.active}), base services [${s.baseServices.join(" ")}] ` +
      `(${src.baseServices}), cpumin ${s.cpuMin} (${src.cpuMin}), cpumax ${s.cpuMax} ` +
      `(${src.cpuMax})`;
  }

  #exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(fn, fn);
    this.#queue = run.catch(() => {});
    return run;
  }
}
