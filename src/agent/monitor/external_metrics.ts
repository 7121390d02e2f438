/**
 * Service metrics read from Prometheus-compatible servers (a service's `MetricSources`), as part
 * of the monitor phase.
 *
 * - **Cluster scope** (default): the value is the same for every node, so one node queries it per
 *   loop and gossips it with its age. The querier is the first of the active nodes that report
 *   the service (and of the active live members whose share has not arrived yet), ranked by a
 *   rendezvous hash of service and metric (every node computes the same ranking from its view,
 *   and the work of many metrics spreads over the nodes). The second in
 *   that ranking also queries while it sees no fresh value (the first is down, cut off, or cannot
 *   reach the server). Every node then uses the youngest reading it knows, its own or a peer's.
 * - **Node scope**: each node queries its own value every loop (`$node`, `$instance`), unshared.
 *
 * A reading is *fresh* when it holds a number and is at most `StaleAfter` old; otherwise the
 * metric is unknown (never 0) and the service's `OnSourceFailure` rule applies (planner,
 * `fallback.ts`). Ages follow the gossip ledger's rule: the origin states the age on its
 * monotonic clock when it publishes, and a receiver adds how long it has held the share, so no
 * two nodes' clocks are compared.
 *
 * @module
 */

import { getLogger } from "@logtape/logtape";
import type { Clock } from "../../domain/clock.ts";
import type { MetricSource, ServiceDescriptor } from "../../domain/model.ts";
import type { MetricQuerier } from "../../ports/metric_query.ts";
import type { NodeShare, SourceShare } from "../gossip/types.ts";
import type { SourceState, SourceStatus } from "../planner/fallback.ts";

export type { SourceState, SourceStatus };

const log = getLogger(["gru", "agent", "sources"]);

/** One reading: the result of a query, with its age. */
export interface Reading {
  origin: string;
  value?: number;
  ageMs: number;
  error?: string;
}

/** A peer's readings of one metric, already aged on this node's clock. */
export interface PeerState {
  origin: string;
  active: boolean;
  /** Services the peer reports. */
  services: ReadonlySet<string>;
  /** `service\u0000metric` → reading. */
  readings: ReadonlyMap<string, Reading>;
}

/** What the monitor phase hands on: values for the analysis, statuses, and this node's share. */
export interface SourcesView {
  /** Service → metric → fresh value (unknown metrics are absent). */
  values: Record<string, Record<string, number>>;
  /** Service → its sources' statuses (services without sources are absent). */
  statuses: Record<string, SourceStatus[]>;
  /** Service → metric → this node's own cluster-scope readings, for its gossip share. */
  share: Record<string, Record<string, SourceShare>>;
}

function key(service: string, metric: string): string {
  return `${service}\u0000${metric}`;
}

/** 32-bit FNV-1a with a murmur3 finaliser: a well-spread, platform-independent hash. */
export function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (const byte of new TextEncoder().encode(text)) {
    h ^= byte;
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * The nodes in rendezvous order for one metric: highest `hash32(service, metric, node)` first,
 * ties by name. Every node with the same members computes the same order.
 */
export function rendezvousOrder(
  service: string,
  metric: string,
  nodes: Iterable<string>,
): string[] {
  const scored = [...new Set(nodes)].map((n) => ({
    n,
    s: hash32(`${key(service, metric)}\u0000${n}`),
  }));
  scored.sort((a, b) => b.s - a.s || (a.n < b.n ? -1 : a.n > b.n ? 1 : 0));
  return scored.map((x) => x.n);
}

/** A PromQL regex matching exactly these names (`a|b\\.c`), inside a double-quoted string. */
function nameAlternation(names: readonly string[]): string {
  return names.map((n) => n.replace(/[\\.^$|?*+()[\]{}"]/g, (c) => `\\\\${c}`)).join("|");
}

/** The query with its placeholders filled in. */
export function fillQuery(
  query: string,
  values: { service: string; node: string; instances: readonly string[] },
): string {
  return query.replace(
    /\$(service|node|instance)\b/g,
    (_, name: string) =>
      name === "service"
        ? values.service
        : name === "node"
        ? values.node
        : nameAlternation(values.instances),
  );
}

/** The peers' readings from their gossip shares, aged by how long this node has held each. */
export function peerStates(peers: readonly { share: NodeShare; heldMs: number }[]): PeerState[] {
  return peers.map(({ share, heldMs }) => {
    const readings = new Map<string, Reading>();
    for (const [service, svc] of Object.entries(share.services)) {
      for (const [metric, r] of Object.entries(svc.sources ?? {})) {
        readings.set(key(service, metric), {
          origin: share.origin,
          ageMs: r.age + Math.max(0, heldMs),
          ...(r.value !== undefined ? { value: r.value } : {}),
          ...(r.error !== undefined ? { error: r.error } : {}),
        });
      }
    }
    return {
      origin: share.origin,
      active: share.active,
      services: new Set(Object.keys(share.services)),
      readings,
    };
  });
}

/**
 * The status of a metric from the readings known, one per origin (its last attempt): the
 * youngest value at most `StaleAfter` old; without one, the youngest reading says why not (a
 * failure, or its age). So while the first node's queries fail and its backup's succeed, every
 * node reads the backup's value.
 */
export function judge(
  metric: string,
  source: Pick<MetricSource, "staleAfter">,
  readings: readonly Reading[],
  queried: boolean,
): SourceStatus {
  const staleMs = source.staleAfter * 1000;
  const sorted = [...readings].sort((a, b) => a.ageMs - b.ageMs);
  const good = sorted.find((r) => r.value !== undefined && r.ageMs <= staleMs);
  if (good) {
    return {
      metric,
      state: "fresh",
      value: good.value!,
      ageMs: good.ageMs,
      origin: good.origin,
      queried,
    };
  }
  const youngest = sorted[0];
  if (!youngest) return { metric, state: "missing", reason: "no reading yet", queried };
  const seen = { ageMs: youngest.ageMs, origin: youngest.origin, queried };
  if (youngest.ageMs > staleMs) {
    return {
      metric,
      state: "stale",
      reason: `newest reading ${
        Math.round(youngest.ageMs / 1000)
      } s old (StaleAfter ${source.staleAfter} s)`,
      ...seen,
    };
  }
  return { metric, state: "failing", reason: youngest.error ?? "query failed", ...seen };
}

/** What `collect` reads. */
export interface CollectInput {
  self: string;
  services: ReadonlyMap<string, ServiceDescriptor>;
  peers: readonly PeerState[];
  /** This node's instance (container) names of a service, for `$instance`. */
  instanceNames: (service: string) => string[];
  /** Query nothing, judge the readings held (an extra, fast-path tick). */
  readOnly?: boolean;
  /**
   * The live members (etcd) with their `active` flag, when known: a member whose share has not
   * arrived yet still ranks (as etcd says), so a cluster starting at once does not query N times.
   */
  members?: readonly { name: string; active: boolean }[] | undefined;
}

interface Own {
  value?: number;
  error?: string;
  /** Monotonic ms of the answer. */
  at: number;
}

/** The metric sources of every service: queries, readings and statuses. */
export class ExternalMetrics {
  #querier: MetricQuerier;
  #clock: Clock;
  #own = new Map<string, Own>();
  #logged = new Map<string, SourceState>();
  /** Loops in a row in which a metric was not fresh here. */
  #streak = new Map<string, number>();

  constructor(querier: MetricQuerier, clock: Clock) {
    this.#querier = querier;
    this.#clock = clock;
  }

  /** Queries what this node should, and judges every source of every service. */
  async collect(input: CollectInput): Promise<SourcesView> {
    const jobs: Promise<void>[] = [];
    const plan: { service: string; metric: string; source: MetricSource; queried: boolean }[] = [];
    const configured = new Set<string>();
    for (const [service, descriptor] of input.services) {
      for (const [metric, source] of Object.entries(descriptor.metricSources ?? {})) {
        configured.add(key(service, metric));
        const queried = !input.readOnly &&
          (source.scope === "node" || this.#shouldQuery(input, service, metric, source));
        plan.push({ service, metric, source, queried });
        if (queried) jobs.push(this.#query(input, service, metric, source));
      }
    }
    for (const k of this.#own.keys()) if (!configured.has(k)) this.#own.delete(k);
    for (const k of this.#streak.keys()) if (!configured.has(k)) this.#streak.delete(k);
    await Promise.all(jobs);

    const view: SourcesView = { values: {}, statuses: {}, share: {} };
    const mono = this.#clock.monotonic();
    for (const { service, metric, source, queried } of plan) {
      const own = this.#own.get(key(service, metric));
      const mine: Reading[] = own ? [this.#reading(input.self, own, mono)] : [];
      const readings = source.scope === "node"
        ? mine
        : [...mine, ...input.peers.flatMap((p) => p.readings.get(key(service, metric)) ?? [])];
      const status = judge(metric, source, readings, queried);
      this.#count(key(service, metric), status, input.readOnly === true);
      (view.statuses[service] ??= []).push(status);
      if (status.state === "fresh") (view.values[service] ??= {})[metric] = status.value!;
      if (source.scope === "cluster" && own && mine[0]!.ageMs <= source.staleAfter * 1000) {
        const r = mine[0]!;
        (view.share[service] ??= {})[metric] = {
          age: Math.round(r.ageMs),
          ...(r.value !== undefined ? { value: r.value } : {}),
          ...(r.error !== undefined ? { error: r.error.slice(0, 200) } : {}),
        };
      }
      this.#logChange(service, status);
    }
    return view;
  }

  /** Whether this node queries a cluster-scope metric this loop (see the module doc). */
  #shouldQuery(
    input: CollectInput,
    service: string,
    metric: string,
    source: MetricSource,
  ): boolean {
    const candidates = [
      input.self,
      ...input.peers.filter((p) => p.active && p.services.has(service)).map((p) => p.origin),
    ];
    const shared = new Set(input.peers.map((p) => p.origin));
    for (const m of input.members ?? []) {
      if (m.active && !shared.has(m.name)) candidates.push(m.name);
    }
    const rank = rendezvousOrder(service, metric, candidates).indexOf(input.self);
    if (rank === 0) return true;
    if (rank !== 1) return false;
    const others = input.peers.flatMap((p) => p.readings.get(key(service, metric)) ?? []);
    return judge(metric, source, others, false).state !== "fresh";
  }

  async #query(input: CollectInput, service: string, metric: string, source: MetricSource) {
    const instances = input.instanceNames(service);
    if (instances.length === 0 && /\$instance\b/.test(source.query)) {
      // An empty alternation would match the series without the label: no query at all.
      const error = "missing: no running instance on this node for $instance";
      this.#own.set(key(service, metric), { error, at: this.#clock.monotonic() });
      return;
    }
    const query = fillQuery(source.query, { service, node: input.self, instances });
    const result = await this.#querier.query({
      url: source.url,
      query,
      headers: source.headers,
      basicAuth: source.basicAuth,
      caFile: source.tls?.ca,
      timeoutMs: source.timeout * 1000,
    });
    const at = this.#clock.monotonic();
    this.#own.set(
      key(service, metric),
      result.ok ? { value: result.value, at } : { error: `${result.failure}: ${result.error}`, at },
    );
  }

  #reading(self: string, own: Own, mono: number): Reading {
    return {
      origin: self,
      ageMs: Math.max(0, mono - own.at),
      ...(own.value !== undefined ? { value: own.value } : {}),
      ...(own.error !== undefined ? { error: own.error } : {}),
    };
  }

  /** Counts the loops in a row the metric is unknown (a fast-path tick does not count). */
  #count(k: string, status: SourceStatus, readOnly: boolean): void {
    if (status.state === "fresh") {
      if (!readOnly) this.#streak.delete(k);
      return;
    }
    const n = (this.#streak.get(k) ?? 0) + (readOnly ? 0 : 1);
    this.#streak.set(k, n);
    status.unknownLoops = Math.max(1, n);
  }

  #logChange(service: string, status: SourceStatus): void {
    const k = key(service, status.metric);
    const before = this.#logged.get(k);
    if (before === status.state) return;
    this.#logged.set(k, status.state);
    if (status.state === "fresh") {
      if (before !== undefined) {
        log.info("Metric source {service}/{metric} is back", { service, metric: status.metric });
      }
      return;
    }
    log.warn("Metric source {service}/{metric} is {state}: {reason}", {
      service,
      metric: status.metric,
      state: status.state,
      reason: status.reason ?? "",
    });
  }
}

/** The analysis's user metrics with the fresh source values laid over them. */
export function withSourceValues(
  userMetrics: Readonly<Record<string, Readonly<Record<string, number | undefined>>>>,
  view: SourcesView | undefined,
): Record<string, Record<string, number | undefined>> {
  const out: Record<string, Record<string, number | undefined>> = {};
  for (const [service, metrics] of Object.entries(userMetrics)) out[service] = { ...metrics };
  if (!view) return out;
  for (const [service, statuses] of Object.entries(view.statuses)) {
    const metrics = out[service] ??= {};
    for (const s of statuses) metrics[s.metric] = view.values[service]?.[s.metric];
  }
  return out;
}
