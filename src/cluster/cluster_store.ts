/**
 * Cluster-level operations over the key-value store: create a cluster, import and export its
 * configuration documents in one transaction, register nodes on leases, list what is there, read
 * and rotate its tokens (through `tokens.ts`). Both the CLI and the agent go through this class;
 * it never talks to etcd directly.
 *
 * @module
 */

import type { KvEntry, KvOp, KvStore } from "../ports/kv_store.ts";
import type {
  AgentConfig,
  Analytic,
  ClusterDocs,
  NodeConstraints,
  NodeDesiredState,
  NodeRecord,
  PolicyConfig,
  ServiceDescriptor,
} from "../domain/model.ts";
import { ConflictError, NotFoundError, ValidationError } from "../domain/errors.ts";
import { assertName, clusterKeys, EMPTY_DOCUMENT, GRU_ROOT } from "./keys.ts";
import { parseDesiredState } from "./node_desired.ts";
import {
  type ClusterTokens,
  readClusterTokens,
  rotateClusterToken,
  type TokenRotation,
} from "./tokens.ts";
import {
  defaultAgentConfig,
  defaultPolicyConfig,
  parseAgentConfig,
  parseAnalytic,
  parseNodeConfig,
  parseNodeConstraints,
  parseNodeResources,
  parsePolicyConfig,
  parseServiceDescriptor,
} from "../config/documents.ts";

/** One stored document read on its own: its value, or why it was refused. */
export type CheckedDocument<T> =
  & { key: string; name: string }
  & ({ value: T; error?: undefined } | { value?: undefined; error: string });

/** A cluster as listed. */
export interface ClusterSummary {
  name: string;
  uuid: string;
}

function parseStored<T>(
  raw: string,
  key: string,
  parse: (input: unknown, source: string) => T,
): T {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch (err) {
    throw new ValidationError(`Cannot parse etcd key ${key}: not JSON`, { cause: err });
  }
  return parse(value, `etcd:${key}`);
}

function checkEach<T>(
  entries: KvEntry[],
  parse: (input: unknown, source: string) => T,
): CheckedDocument<T>[] {
  return entries.map(({ key, value }) => {
    const name = key.slice(key.lastIndexOf("/") + 1);
    try {
      return { key, name, value: parseStored(value, key, parse) };
    } catch (err) {
      if (!(err instanceof ValidationError)) throw err;
      return { key, name, error: err.message };
    }
  });
}

/** Cluster operations over a `KvStore`. */
export class ClusterStore {
  readonly kv: KvStore;

  constructor(kv: KvStore) {
    this.kv = kv;
  }

  /** Every cluster under `/gru/` that has a uuid. */
  async listClusters(): Promise<ClusterSummary[]> {
    const entries = await this.kv.getPrefix(GRU_ROOT);
    const out: ClusterSummary[] = [];
    for (const e of entries) {
      const rest = e.key.slice(GRU_ROOT.length);
      const parts = rest.split("/");
      if (parts.length === 2 && parts[1] === "uuid" && parts[0]) {
        out.push({ name: parts[0], uuid: e.value });
      }
    }
    return out;
  }

  /** The cluster's uuid, or `undefined` when it does not exist. */
  clusterUuid(cluster: string): Promise<string | undefined> {
    return this.kv.get(clusterKeys(cluster).uuid);
  }

  /** The cluster's uuid; throws `NotFoundError` when it does not exist. */
  async requireCluster(cluster: string): Promise<string> {
    const uuid = await this.clusterUuid(cluster);
    if (uuid === undefined) {
      throw new NotFoundError(`Cluster "${cluster}" does not exist: run "gru create ${cluster}"`);
    }
    return uuid;
  }

  /**
   * Creates the cluster's tree. Throws `ConflictError` when the cluster exists already: an
   * existing cluster is never overwritten (docs/compat.md#d24).
   */
  async createCluster(cluster: string, ids: { uuid: string; token: string }): Promise<void> {
    assertName("cluster", cluster);
    const k = clusterKeys(cluster);
    const ok = await this.kv.txn([{ key: k.uuid, exists: false }], [
      { put: k.uuid, value: ids.uuid },
      { put: k.token, value: ids.token },
      { put: k.config, value: EMPTY_DOCUMENT },
      { put: k.policy, value: EMPTY_DOCUMENT },
    ]);
    if (!ok) {
      throw new ConflictError(`Cluster "${cluster}" already exists: nothing was changed`);
    }
  }

  /** The cluster's shared API token, if any. */
  token(cluster: string): Promise<string | undefined> {
    return this.kv.get(clusterKeys(cluster).token);
  }

  /** The cluster's tokens in one read (see {@linkcode readClusterTokens}). */
  readTokens(cluster: string): Promise<ClusterTokens> {
    return readClusterTokens(this.kv, cluster);
  }

  /**
   * Replaces the cluster token, keeping the old one accepted for `graceSeconds` (see
   * {@linkcode rotateClusterToken}). Throws `NotFoundError` when the cluster does not exist.
   */
  rotateToken(
    cluster: string,
    options: TokenRotation,
  ): Promise<{ previousUntil: number | undefined }> {
    return rotateClusterToken(this.kv, cluster, options, () => this.requireCluster(cluster));
  }

  /** The agent configuration; defaults when none was uploaded. */
  async getConfig(cluster: string): Promise<AgentConfig> {
    const key = clusterKeys(cluster).config;
    const raw = await this.kv.get(key);
    if (raw === undefined || raw.trim() === EMPTY_DOCUMENT || raw.trim() === "") {
      return defaultAgentConfig();
    }
    return parseStored(raw, key, parseAgentConfig);
  }

  /** The policy configuration; defaults when none was uploaded. */
  async getPolicy(cluster: string): Promise<PolicyConfig> {
    const key = clusterKeys(cluster).policy;
    const raw = await this.kv.get(key);
    if (raw === undefined || raw.trim() === EMPTY_DOCUMENT || raw.trim() === "") {
      return defaultPolicyConfig();
    }
    return parseStored(raw, key, parsePolicyConfig);
  }

  /** Every service descriptor, sorted by name. */
  async listServices(cluster: string): Promise<ServiceDescriptor[]> {
    const entries = await this.kv.getPrefix(clusterKeys(cluster).services);
    return entries.map((e) => parseStored(e.value, e.key, parseServiceDescriptor));
  }

  /** One service descriptor, or `undefined`. */
  async getService(cluster: string, name: string): Promise<ServiceDescriptor | undefined> {
    const key = clusterKeys(cluster).service(name);
    const raw = await this.kv.get(key);
    return raw === undefined ? undefined : parseStored(raw, key, parseServiceDescriptor);
  }

  /**
   * Every service descriptor read one by one: a document that does not parse comes back with
   * its error instead of failing the others. Store errors still throw.
   */
  async checkServices(cluster: string): Promise<CheckedDocument<ServiceDescriptor>[]> {
    return checkEach(
      await this.kv.getPrefix(clusterKeys(cluster).services),
      parseServiceDescriptor,
    );
  }

  /** Every analytic read one by one, as {@linkcode checkServices} does. */
  async checkAnalytics(cluster: string): Promise<CheckedDocument<Analytic>[]> {
    return checkEach(await this.kv.getPrefix(clusterKeys(cluster).analytics), parseAnalytic);
  }

  /** Every analytic, sorted by name. */
  async listAnalytics(cluster: string): Promise<Analytic[]> {
    const entries = await this.kv.getPrefix(clusterKeys(cluster).analytics);
    return entries.map((e) => parseStored(e.value, e.key, parseAnalytic));
  }

  /** Every configuration document (absent config or policy stay undefined). */
  async exportDocs(cluster: string): Promise<ClusterDocs> {
    await this.requireCluster(cluster);
    const k = clusterKeys(cluster);
    const [config, policy] = await Promise.all([this.kv.get(k.config), this.kv.get(k.policy)]);
    const present = (raw: string | undefined) =>
      raw !== undefined && raw.trim() !== EMPTY_DOCUMENT && raw.trim() !== "";
    return {
      config: present(config) ? await this.getConfig(cluster) : undefined,
      policy: present(policy) ? await this.getPolicy(cluster) : undefined,
      services: await this.listServices(cluster),
      analytics: await this.listAnalytics(cluster),
    };
  }

  /**
   * Writes the documents in one transaction, all or nothing. Present parts replace what is
   * stored: `services` and `analytics` are mirrored (stored ones missing from `docs` are
   * deleted). Absent parts are left unchanged. Throws `NotFoundError` if the cluster does not
   * exist (checked inside the transaction). With `upsert`, present services and analytics are
   * written without deleting the others, and `remove` names ones to delete (the console's edits).
   */
  async importDocs(
    cluster: string,
    docs: ClusterDocs,
    options: { upsert?: boolean; remove?: { services?: string[]; analytics?: string[] } } = {},
  ): Promise<void> {
    const k = clusterKeys(cluster);
    const uuid = await this.requireCluster(cluster);
    const ops: KvOp[] = [];
    if (docs.config) ops.push({ put: k.config, value: JSON.stringify(docs.config) });
    if (docs.policy) ops.push({ put: k.policy, value: JSON.stringify(docs.policy) });
    if (docs.services) {
      if (!options.upsert) ops.push({ deletePrefix: k.services });
      for (const s of docs.services) {
        assertName("service", s.name);
        const remote = s.remote || k.service(s.name);
        ops.push({ put: k.service(s.name), value: JSON.stringify({ ...s, remote }) });
      }
    }
    if (docs.analytics) {
      if (!options.upsert) ops.push({ deletePrefix: k.analytics });
      for (const a of docs.analytics) {
        assertName("analytic", a.name);
        ops.push({ put: k.analytic(a.name), value: JSON.stringify(a) });
      }
    }
    for (const n of options.remove?.services ?? []) ops.push({ delete: k.service(n) });
    for (const n of options.remove?.analytics ?? []) ops.push({ delete: k.analytic(n) });
    const ok = await this.kv.txn([{ key: k.uuid, value: uuid }], ops);
    if (!ok) throw new ConflictError(`Cluster "${cluster}" changed during the import: retry`);
  }

  /** Raw entries: the whole cluster tree, or one key (relative to the cluster root). */
  async getRaw(cluster: string, key?: string): Promise<KvEntry[]> {
    const root = clusterKeys(cluster).root;
    if (key === undefined || key === "") return this.kv.getPrefix(root);
    const full = root + key.replace(/^\/+/, "");
    const value = await this.kv.get(full);
    if (value !== undefined) return [{ key: full, value }];
    return this.kv.getPrefix(full.endsWith("/") ? full : full + "/");
  }

  /** Every live node, sorted by name. Incomplete or unreadable records are skipped. */
  async listNodes(cluster: string): Promise<NodeRecord[]> {
    const k = clusterKeys(cluster);
    const entries = await this.kv.getPrefix(k.nodes);
    const byNode = new Map<string, Map<string, string>>();
    for (const e of entries) {
      const [name, field] = e.key.slice(k.nodes.length).split("/");
      if (!name || !field) continue;
      let m = byNode.get(name);
      if (!m) byNode.set(name, m = new Map());
      m.set(field, e.value);
    }
    const out: NodeRecord[] = [];
    for (const [name, m] of [...byNode].sort(([a], [b]) => a.localeCompare(b))) {
      const rec = this.#toRecord(cluster, name, m);
      if (rec) out.push(rec);
    }
    return out;
  }

  /** One live node, or `undefined`. */
  async getNode(cluster: string, name: string): Promise<NodeRecord | undefined> {
    const k = clusterKeys(cluster);
    const entries = await this.kv.getPrefix(k.node(name));
    const m = new Map(entries.map((e) => [e.key.slice(k.node(name).length), e.value]));
    return this.#toRecord(cluster, name, m);
  }

  #toRecord(cluster: string, name: string, m: Map<string, string>): NodeRecord | undefined {
    const k = clusterKeys(cluster);
    const config = m.get("config");
    if (config === undefined) return undefined;
    try {
      return {
        config: parseStored(config, k.nodeConfig(name), parseNodeConfig),
        constraints: m.has("constraints")
          ? parseStored(m.get("constraints")!, k.nodeConstraints(name), parseNodeConstraints)
          : { cpuMin: 0, cpuMax: 0, baseServices: [] },
        resources: m.has("resources")
          ? parseStored(m.get("resources")!, k.nodeResources(name), parseNodeResources)
          : { totalCpus: 0, totalMemory: 0 },
        active: m.get("active") === "true",
      };
    } catch {
      return undefined;
    }
  }

  /**
   * Writes the node's four keys on `lease`. Throws `ConflictError` when a live node of the same
   * name has another uuid: a taken name is refused, never silently replaced
   * (docs/compat.md#d28).
   */
  async registerNode(cluster: string, record: NodeRecord, lease: string): Promise<void> {
    const k = clusterKeys(cluster);
    const name = record.config.name;
    assertName("node", name);
    const ops: KvOp[] = [
      { put: k.nodeConfig(name), value: JSON.stringify(record.config), lease },
      { put: k.nodeConstraints(name), value: JSON.stringify(record.constraints), lease },
      { put: k.nodeResources(name), value: JSON.stringify(record.resources), lease },
      { put: k.nodeActive(name), value: String(record.active), lease },
    ];
    for (let attempt = 0; attempt < 3; attempt++) {
      const current = await this.kv.get(k.nodeConfig(name));
      if (current === undefined) {
        if (await this.kv.txn([{ key: k.nodeConfig(name), exists: false }], ops)) return;
        continue;
      }
      const holder = parseStored(current, k.nodeConfig(name), parseNodeConfig);
      if (holder.uuid !== record.config.uuid) {
        throw new ConflictError(
          `Node name "${name}" is held by a live node (uuid ${holder.uuid}, ${holder.address}): ` +
            `choose another name or stop that agent`,
        );
      }
      if (await this.kv.txn([{ key: k.nodeConfig(name), value: current }], ops)) return;
    }
    throw new ConflictError(`Node name "${name}" is changing hands: retry`);
  }

  /** Rewrites the node's constraints on `lease`. */
  async putNodeConstraints(
    cluster: string,
    name: string,
    constraints: NodeConstraints,
    lease: string,
  ): Promise<void> {
    await this.kv.put(clusterKeys(cluster).nodeConstraints(name), JSON.stringify(constraints), {
      lease,
    });
  }

  /** Rewrites the node's `active` flag on `lease`. */
  async putNodeActive(cluster: string, name: string, active: boolean, lease: string) {
    await this.kv.put(clusterKeys(cluster).nodeActive(name), String(active), { lease });
  }

  /**
   * The node's desired state (a Gru addition, outside its lease: it outlives the agent), or
   * `undefined` when none is stored. Throws `ValidationError` naming the key when it is invalid.
   */
  async getNodeDesired(
    cluster: string,
    name: string,
  ): Promise<Partial<NodeDesiredState> | undefined> {
    const key = clusterKeys(cluster).nodeDesired(name);
    const raw = await this.kv.get(key);
    return raw === undefined ? undefined : parseDesiredState(raw, `etcd key ${key}`);
  }

  /** Writes the node's desired state (no lease). Absent fields mean their defaults. */
  async putNodeDesired(
    cluster: string,
    name: string,
    state: Partial<NodeDesiredState>,
  ): Promise<void> {
    assertName("node", name);
    await this.kv.put(clusterKeys(cluster).nodeDesired(name), JSON.stringify(state));
  }
}
