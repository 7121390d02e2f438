/**
 * Collects a cluster's status for `gru status`: every live node from the store and, from each
 * node's agent, its record, instances, last decisions and health. An unreachable agent is
 * reported with its error; collecting never fails because of one node.
 *
 * @module
 */

import type { ClusterStore } from "../../cluster/cluster_store.ts";
import type { Instance, NodeRecord, NodeResources } from "../../domain/model.ts";
import { tokenRetrying } from "../token_retry.ts";

/** What `collectStatus` needs of an agent client (`AgentClient` fits). */
export interface StatusAgent {
  /** GETs `path` (relative to `/gru/v1`) from the agent at `address`. */
  get<T>(address: string, path: string): Promise<T>;
}

/** Dependencies of `collectStatus`. */
export interface StatusDeps {
  store: ClusterStore;
  /** An agent client sending this cluster token. */
  agents: (token: string | undefined) => StatusAgent;
  /** Milliseconds since the epoch. @default Date.now */
  now?: () => number;
}

/** How many decisions are fetched per node. */
export const STATUS_DECISIONS = 5;

/** Health of a node as seen by `gru status`. */
export type NodeHealth = "ok" | "degraded" | "unreachable";

/** One decision, summarised. */
export interface DecisionSummary {
  seq: number;
  /** Milliseconds since the epoch. */
  time: number;
  policy: string;
  targets: string[];
  outcome: string;
  why: string;
  actions: { service: string; action: string; ok: boolean; instance?: string | undefined }[];
}

/** One node's status. */
export interface NodeStatus {
  name: string;
  address: string;
  /** Whether the autonomic loop is on (the agent's word, else the store's). */
  active: boolean;
  health: NodeHealth;
  /** Why the node is degraded (its dependencies' errors), when the agent says so. */
  problems?: string[] | undefined;
  resources: NodeResources;
  instances: Instance[];
  decisions: DecisionSummary[];
  /** Why (part of) the agent could not be read. */
  error?: string | undefined;
}

/** One service across the cluster. */
export interface ServiceStatus {
  name: string;
  image: string;
  instances: { total: number; byNode: Record<string, number> };
}

/** The whole snapshot printed by `gru status` (and, as is, by `gru status --json`). */
export interface StatusSnapshot {
  cluster: string;
  /** ISO 8601 time of the snapshot. */
  time: string;
  nodes: NodeStatus[];
  services: ServiceStatus[];
  /** Service documents in the store that do not validate (absent when none). */
  refused?: { key: string; error: string }[] | undefined;
}

interface HealthBody {
  status?: string;
  active?: boolean;
  store?: { ok?: boolean; error?: string | undefined };
  docker?: { ok?: boolean; error?: string | undefined };
  token?: { ok?: boolean; error?: string | undefined };
  documents?: { problems?: { document?: string; error?: string; inForce?: string }[] };
}

interface DecisionBody {
  seq?: number;
  time?: number;
  chosen?: { policy?: string; targets?: string[] };
  outcome?: string;
  why?: string;
  actions?: { service: string; action: string; ok: boolean; instance?: string | undefined }[];
}

interface ServiceBody {
  name: string;
  instances?: Instance[];
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function summarise(d: DecisionBody): DecisionSummary {
  return {
    seq: d.seq ?? 0,
    time: d.time ?? 0,
    policy: d.chosen?.policy ?? "",
    targets: d.chosen?.targets ?? [],
    outcome: d.outcome ?? "",
    why: d.why ?? "",
    actions: (d.actions ?? []).map((a) => ({
      service: a.service,
      action: a.action,
      ok: a.ok,
      instance: a.instance,
    })),
  };
}

/**
 * Reads one node's agent. Never throws: failures end up in `error` and `health`.
 *
 * @param agent The agent client.
 * @param record The node as registered in the store.
 * @returns The node's status.
 */
export async function collectNode(agent: StatusAgent, record: NodeRecord): Promise<NodeStatus> {
  const address = record.config.address;
  const [node, services, decisions, health] = await Promise.allSettled([
    agent.get<NodeRecord & { instances?: Instance[] }>(address, "/node"),
    agent.get<ServiceBody[]>(address, "/services"),
    agent.get<DecisionBody[]>(address, `/decisions?limit=${STATUS_DECISIONS}`),
    agent.get<HealthBody>(address, "/health"),
  ]);
  const out: NodeStatus = {
    name: record.config.name,
    address,
    active: record.active,
    health: "unreachable",
    resources: record.resources,
    instances: [],
    decisions: [],
  };
  const errors: string[] = [];
  if (node.status === "fulfilled" && node.value) {
    out.active = node.value.active ?? out.active;
    out.resources = node.value.resources ?? out.resources;
    out.instances = node.value.instances ?? [];
  } else if (node.status === "rejected") {
    errors.push(message(node.reason));
  }
  if (services.status === "fulfilled" && Array.isArray(services.value)) {
    // Instances the node listing missed (it falls back to a cached list when the engine fails).
    const known = new Set(out.instances.map((i) => i.id));
    for (const s of services.value) {
      for (const i of s.instances ?? []) if (!known.has(i.id)) out.instances.push(i);
    }
  } else if (services.status === "rejected") {
    errors.push(message(services.reason));
  }
  if (decisions.status === "fulfilled" && Array.isArray(decisions.value)) {
    out.decisions = decisions.value.map(summarise);
  } else if (decisions.status === "rejected") {
    errors.push(message(decisions.reason));
  }
  const reached = node.status === "fulfilled" || services.status === "fulfilled" ||
    decisions.status === "fulfilled";
  if (health.status === "fulfilled" && health.value) {
    const h = health.value;
    out.health = h.status === "ok" ? "ok" : "degraded";
    out.active = h.active ?? out.active;
    const problems = [
      h.store?.ok === false ? `store: ${h.store.error ?? "not ok"}` : undefined,
      h.docker?.ok === false ? `docker: ${h.docker.error ?? "not ok"}` : undefined,
      h.token?.ok === false ? `token: ${h.token.error ?? "not ok"}` : undefined,
      ...(h.documents?.problems ?? []).map((p) =>
        `document ${p.document} refused (${p.inForce ?? "?"} in force): ${p.error ?? "?"}`
      ),
    ].filter((p): p is string => p !== undefined);
    if (problems.length > 0) out.problems = problems;
  } else {
    // The health route answers 503 when the agent is degraded: reachable but not healthy.
    out.health = reached ? "degraded" : "unreachable";
    if (health.status === "rejected") {
      if (reached) out.problems = [`health: ${message(health.reason)}`];
      else errors.unshift(message(health.reason));
    }
  }
  out.instances.sort((a, b) => a.service.localeCompare(b.service) || a.name.localeCompare(b.name));
  if (errors.length > 0) out.error = [...new Set(errors)].join("; ");
  return out;
}

/**
 * Collects the status of a cluster: its live nodes (read from their agents in parallel, with
 * the cluster token) and its services with their instance counts per node.
 *
 * @param deps Store, agent client factory and clock.
 * @param cluster The cluster name; throws `NotFoundError` when it does not exist.
 * @returns The snapshot.
 *
 * @example JSON for scripts
 * ```ts ignore
 * const snap = await collectStatus({ store, agents: (t) => new AgentClient({ token: t }) }, "c1");
 * JSON.stringify(snap);
 * ```
 */
export async function collectStatus(deps: StatusDeps, cluster: string): Promise<StatusSnapshot> {
  await deps.store.requireCluster(cluster);
  const [records, checked, token] = await Promise.all([
    deps.store.listNodes(cluster),
    deps.store.checkServices(cluster),
    deps.store.token(cluster),
  ]);
  const refused = checked.flatMap((d) =>
    d.error === undefined ? [] : [{ key: d.key, error: d.error }]
  );
  const descriptors = checked.flatMap((d) => d.value === undefined ? [] : [d.value]);
  const run = tokenRetrying({
    token,
    read: () => deps.store.token(cluster),
    client: deps.agents,
  });
  const agent: StatusAgent = { get: (address, path) => run((a) => a.get(address, path)) };
  const nodes = await Promise.all(records.map((r) => collectNode(agent, r)));
  const services: ServiceStatus[] = descriptors.map((s) => ({
    name: s.name,
    image: s.image,
    instances: { total: 0, byNode: {} },
  }));
  const byName = new Map(services.map((s) => [s.name, s]));
  for (const n of nodes) {
    for (const i of n.instances) {
      let s = byName.get(i.service);
      if (!s) {
        s = { name: i.service, image: "", instances: { total: 0, byNode: {} } };
        byName.set(i.service, s);
        services.push(s);
      }
      s.instances.total++;
      s.instances.byNode[n.name] = (s.instances.byNode[n.name] ?? 0) + 1;
    }
  }
  services.sort((a, b) => a.name.localeCompare(b.name));
  return {
    cluster,
    time: new Date((deps.now ?? Date.now)()).toISOString(),
    nodes,
    services,
    ...(refused.length > 0 ? { refused } : {}),
  };
}
