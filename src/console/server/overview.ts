/**
 * The console's overview of a cluster (`GET /api/overview`, and each `overview` event): built
 * with `gru status`'s own collector (`collectStatus`: every live node's `/node`, `/services`,
 * `/decisions` and `/health`), whose agent reads are recorded on the way so the console also gets
 * what `gru status` summarises away: each node's base services and free resources, the
 * decisions' reasons, and (from `/history?minutes=0`) whether the node's InfluxDB writes work.
 *
 * @module
 */

import { collectStatus, type NodeStatus } from "../../cli/status/collect.ts";
import { errorMessage } from "../../domain/errors.ts";
import type { NodeCapacity, NodeRecord } from "../../domain/model.ts";
import type { ConsoleAgent, ConsoleDeps } from "./context.ts";

/**
 * How many decisions per node are read for each overview. Overviews are built once per loop
 * interval, so eventful decisions are collected in a feed that outlives each read.
 */
export const OVERVIEW_DECISIONS = 5;
/** Most decisions an overview lists. */
export const OVERVIEW_MAX_DECISIONS = 30;

/** State of a dependency as the overview shows it. */
export type DepState = "ok" | "down" | "off";

/** One node of the overview. */
export interface OverviewNode {
  name: string;
  address: string;
  health: NodeStatus["health"];
  error?: string | undefined;
  problems?: string[] | undefined;
  active: boolean;
  cpusFree: number;
  cpusTotal: number;
  memoryFree: number;
  memoryTotal: number;
  baseServices: string[];
  deps: { etcd: DepState; docker: DepState; influx: DepState };
}

/** One service of the overview. */
export interface OverviewService {
  name: string;
  image: string;
  min: number;
  max: number;
  /** Running instances per node. */
  instances: Record<string, number>;
  pending: Record<string, number>;
  total: number;
}

/** One decision of the overview. */
export interface OverviewDecision {
  node: string;
  seq: number;
  time: number;
  service?: string | undefined;
  policy: string;
  action?: string | undefined;
  outcome: string;
  reasons: string[];
  dryRun?: true;
  blocked?: true;
}

/** `GET /api/overview`. */
export interface Overview {
  cluster: string;
  time: number;
  nodes: OverviewNode[];
  services: OverviewService[];
  decisions: OverviewDecision[];
  refused?: { key: string; error: string }[] | undefined;
}

/** How often each node is asked whether its InfluxDB writes work. */
export const INFLUX_EVERY_MS = 10_000;

/** What one cluster's overviews keep between calls. */
export interface OverviewMemo {
  feed: Map<string, OverviewDecision>;
  influx: Map<string, { at: number; value: Promise<{ influx?: string }> }>;
}

/** An empty memo. */
export function newOverviewMemo(): OverviewMemo {
  return { feed: new Map(), influx: new Map() };
}

/** The fields of an agent's decision record the overview reads (any may be missing). */
export interface RawDecision {
  seq?: number;
  time?: number;
  node?: string;
  inputs?: { node?: Partial<NodeCapacity> };
  chosen?: { policy?: string; targets?: string[]; reasons?: string[] };
  outcome?: string;
  why?: string;
  actions?: { service: string; action: string; ok: boolean; why?: string; error?: string }[];
  trigger?: { kind?: string; why?: string };
  fastPathHeld?: string[];
}

interface Recorded {
  node?: NodeRecord;
  decisions?: RawDecision[];
}

/**
 * One decision record as the overview lists it: the fast-path trigger first when there is one,
 * the chosen plan's reasons, the outcome's why, crossings the fast path held, failed actions.
 *
 * @param node The node that recorded it.
 * @param d The record as the agent served it (any field may be missing).
 * @returns The overview's entry.
 */
export function summariseDecision(node: string, d: RawDecision): OverviewDecision {
  const outcome = d.outcome ?? "none";
  const actions = d.actions ?? [];
  const reasons = [
    ...(d.trigger?.why ? [`fast path: ${d.trigger.why}`] : []),
    ...(d.chosen?.reasons ?? []),
    ...(d.why ? [d.why] : []),
    ...(d.fastPathHeld ?? []).map((held) => `fast path: ${held}`),
    ...actions.flatMap((a) =>
      a.ok ? [] : [`${a.action} ${a.service} failed: ${a.error ?? "unknown error"}`]
    ),
  ].slice(0, 12);
  const service = d.chosen?.targets?.[0] ?? actions[0]?.service;
  const verbs = [...new Set(actions.map((a) => a.action))];
  return {
    node,
    seq: d.seq ?? 0,
    time: d.time ?? 0,
    ...(service !== undefined ? { service } : {}),
    policy: d.chosen?.policy ?? "",
    ...(verbs.length > 0 ? { action: verbs.join(", ") } : {}),
    outcome,
    reasons,
    ...(outcome === "dry-run" ? { dryRun: true as const } : {}),
    ...(outcome === "blocked" ? { blocked: true as const } : {}),
  };
}

/** Whether a decision did (or would have done) something. */
function eventful(d: RawDecision): boolean {
  return (d.outcome !== undefined && d.outcome !== "none") || (d.actions?.length ?? 0) > 0;
}

function influxOf(
  history: PromiseSettledResult<{ influx?: string }>,
  metricService: string,
): DepState {
  if (history.status === "fulfilled") {
    const s = history.value?.influx;
    if (s === "ok" || s === "down" || s === "off") return s;
  }
  return metricService === "" || metricService.toLowerCase() === "none" ? "off" : "ok";
}

/**
 * Builds the overview of one cluster.
 *
 * @param deps The store and the agent clients.
 * @param cluster The cluster (must exist).
 * @param memo What outlives one overview: the eventful decisions seen so far (bounded), and
 *   each node's InfluxDB state with when it was asked.
 * @returns The overview; an unreachable node is listed with its error, never fails the whole.
 */
export async function buildOverview(
  deps: Pick<ConsoleDeps, "store" | "agents" | "now">,
  cluster: string,
  memo: OverviewMemo = newOverviewMemo(),
): Promise<Overview> {
  const { feed, influx } = memo;
  const now = (deps.now ?? Date.now)();
  const recorded = new Map<string, Recorded>();
  const histories = new Map<string, Promise<{ influx?: string }>>();
  const recorder = (agent: ConsoleAgent) => ({
    async get<T>(address: string, path: string): Promise<T> {
      const asked = path.startsWith("/decisions") ? `/decisions?limit=${OVERVIEW_DECISIONS}` : path;
      const value = await agent.get<T>(address, asked);
      const r = recorded.get(address) ?? {};
      if (path === "/node") r.node = value as NodeRecord;
      if (asked !== path && Array.isArray(value)) r.decisions = value as RawDecision[];
      recorded.set(address, r);
      if (path === "/node" && !histories.has(address)) {
        // Whether InfluxDB writes work changes slowly: asked every INFLUX_EVERY_MS per node.
        const hit = influx.get(address);
        const history = hit && now - hit.at < INFLUX_EVERY_MS
          ? hit.value
          : agent.get<{ influx?: string }>(address, "/history?minutes=0");
        history.catch(() => influx.delete(address));
        if (history !== hit?.value) influx.set(address, { at: now, value: history });
        histories.set(address, history);
      }
      return value;
    },
  });
  const [status, checked, config] = await Promise.all([
    collectStatus(
      { store: deps.store, agents: (t) => recorder(deps.agents(t)), now: deps.now },
      cluster,
    ),
    deps.store.checkServices(cluster),
    deps.store.getConfig(cluster).catch(() => undefined),
  ]);
  const metricService = config?.metric.metricService ?? "none";
  const nodes: OverviewNode[] = [];
  const decisions: OverviewDecision[] = [];
  for (const n of status.nodes) {
    const r = recorded.get(n.address) ?? {};
    const history = await Promise.allSettled([histories.get(n.address) ?? Promise.reject()]);
    const raw = [...(r.decisions ?? [])].sort((a, b) => (b.time ?? 0) - (a.time ?? 0));
    const newest = raw[0]?.inputs?.node;
    const usedCpus = n.instances.reduce((s, i) => s + (i.cpus?.length ?? 0), 0);
    const usedMemory = n.instances.reduce((s, i) => s + (i.memory ?? 0), 0);
    const total = n.resources;
    const h = n.health;
    const problems = n.problems ?? [];
    nodes.push({
      name: n.name,
      address: n.address,
      health: h,
      ...(n.error !== undefined ? { error: n.error } : {}),
      ...(n.problems !== undefined ? { problems: n.problems } : {}),
      active: n.active,
      cpusTotal: total.totalCpus,
      memoryTotal: total.totalMemory,
      cpusFree: newest?.freeCpus ?? Math.max(0, total.totalCpus - usedCpus),
      memoryFree: newest?.freeMemory ?? Math.max(0, total.totalMemory - usedMemory),
      baseServices: r.node?.constraints?.baseServices ?? [],
      deps: {
        etcd: h === "unreachable"
          ? "down"
          : problems.some((p) => p.startsWith("store:"))
          ? "down"
          : "ok",
        docker: h === "unreachable"
          ? "down"
          : problems.some((p) => p.startsWith("docker:"))
          ? "down"
          : "ok",
        influx: influxOf(history[0]!, metricService),
      },
    });
    for (const d of raw.filter(eventful)) {
      feed.set(`${n.name}#${d.seq}#${d.time}`, summariseDecision(n.name, d));
    }
    // The newest decision says why nothing happens now, when nothing does.
    if (raw[0] && !eventful(raw[0])) decisions.push(summariseDecision(n.name, raw[0]));
  }
  const kept = [...feed].sort(([, a], [, b]) => b.time - a.time).slice(0, OVERVIEW_MAX_DECISIONS);
  feed.clear();
  for (const [key, d] of kept) feed.set(key, d);
  decisions.push(...feed.values());
  decisions.sort((a, b) => b.time - a.time || a.node.localeCompare(b.node));
  const descriptors = new Map(
    checked.flatMap((d) => d.value === undefined ? [] : [[d.name, d.value] as const]),
  );
  const services = status.services.map((s): OverviewService => {
    const d = descriptors.get(s.name);
    const instances: Record<string, number> = {};
    const pending: Record<string, number> = {};
    let running = 0;
    for (const n of status.nodes) {
      for (const i of n.instances) {
        if (i.service !== s.name) continue;
        if (i.status === "running") {
          instances[n.name] = (instances[n.name] ?? 0) + 1;
          running++;
        } else if (i.status === "pending") pending[n.name] = (pending[n.name] ?? 0) + 1;
      }
    }
    return {
      name: s.name,
      image: d?.image ?? s.image,
      min: d?.minInstances ?? 0,
      max: d?.maxInstances ?? 0,
      instances,
      pending,
      total: running,
    };
  });
  return {
    cluster,
    time: now,
    nodes,
    services,
    decisions: decisions.slice(0, OVERVIEW_MAX_DECISIONS),
    ...(status.refused ? { refused: status.refused } : {}),
  };
}

/**
 * The overview, or a stand-in naming the error (for the event stream, which must not stop).
 *
 * @param deps The store and the agent clients.
 * @param cluster The cluster.
 * @returns The overview or `{error}`.
 */
export async function overviewOrError(
  deps: Pick<ConsoleDeps, "store" | "agents" | "now">,
  cluster: string,
  memo?: OverviewMemo,
): Promise<Overview | { error: string }> {
  try {
    return await buildOverview(deps, cluster, memo);
  } catch (err) {
    return { error: `overview of ${cluster}: ${errorMessage(err).slice(0, 300)}` };
  }
}
