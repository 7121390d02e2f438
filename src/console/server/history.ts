/**
 * A service's history over the cluster (`GET /api/services/:name/history`): each live node's
 * `GET /gru/v1/history` merged into buckets of one loop interval (running and pending summed,
 * `cpu_avg` and `memory_avg` weighted by running instances, each analytic averaged over the nodes
 * that computed it), the policy's thresholds, and every node's decision markers.
 *
 * @module
 */

import { errorMessage } from "../../domain/errors.ts";
import type { PolicyConfig } from "../../domain/model.ts";
import type { HistoryMarker, HistoryView, SeriesView } from "../../agent/record/history.ts";

/** One merged sample. */
export interface MergedSample {
  t: number;
  running: number;
  pending: number;
  cpuAvg: number | null;
  memoryAvg: number | null;
  analytics: Record<string, number | null>;
}

/** A threshold line of the charts. */
export interface Threshold {
  name: "scaleout" | "scalein";
  value: number;
  kind: "scale-out" | "scale-in";
  metrics: string[];
  analytics: string[];
}

/** A marker with the node that decided. */
export type NodeMarker = Omit<HistoryMarker, "service"> & { node: string };

/** `GET /api/services/:name/history`. */
export interface ServiceHistoryAnswer {
  service: string;
  from: number;
  to: number;
  intervalMs: number;
  samples: MergedSample[];
  thresholds: Threshold[];
  markers: NodeMarker[];
  nodes: { name: string; ok: boolean; error?: string | undefined }[];
}

/** One node's answer, or why there is none. */
export type NodeHistory =
  | { node: string; view: HistoryView }
  | { node: string; error: unknown };

/**
 * The thresholds of the enabled scaling policies.
 *
 * @param policy The policy in force.
 * @returns Scale-out and scale-in lines, when enabled.
 */
export function thresholdsOf(policy: PolicyConfig): Threshold[] {
  const out: Threshold[] = [];
  const rules = [["scaleout", "scale-out"], ["scalein", "scale-in"]] as const;
  for (const [name, kind] of rules) {
    const r = policy[name];
    if (!r.enable) continue;
    out.push({
      name,
      value: r.threshold,
      kind,
      metrics: [...r.metrics],
      analytics: [...r.analytics],
    });
  }
  return out;
}

interface Acc {
  running: number;
  pending: number;
  cpu: number;
  cpuWeight: number;
  mem: number;
  memWeight: number;
  analytics: Map<string, { sum: number; n: number }>;
}

function lastPerBucket(series: SeriesView, intervalMs: number): Map<number, number> {
  const out = new Map<number, number>();
  series.t.forEach((t, i) => out.set(Math.floor(t / intervalMs), i));
  return out;
}

/**
 * Merges the nodes' histories of one service.
 *
 * @param o The service, the nodes' answers, the loop interval, the window and the policy.
 * @returns The answer of the route.
 */
export function mergeHistories(o: {
  service: string;
  nodes: readonly NodeHistory[];
  intervalMs: number;
  from: number;
  to: number;
  policy: PolicyConfig;
}): ServiceHistoryAnswer {
  const interval = Math.max(1000, o.intervalMs);
  const buckets = new Map<number, Acc>();
  const markers: NodeMarker[] = [];
  const nodes: ServiceHistoryAnswer["nodes"] = [];
  for (const n of o.nodes) {
    if (!("view" in n)) {
      nodes.push({ name: n.node, ok: false, error: errorMessage(n.error).slice(0, 300) });
      continue;
    }
    nodes.push({ name: n.node, ok: true });
    for (const m of n.view.markers) {
      if (m.service !== o.service || m.t < o.from) continue;
      const { service: _, ...rest } = m;
      markers.push({ ...rest, node: n.node });
    }
    const s = n.view.services[o.service];
    if (!s) continue;
    for (const [bucket, i] of lastPerBucket(s, interval)) {
      if (s.t[i]! < o.from) continue;
      let acc = buckets.get(bucket);
      if (!acc) {
        acc = {
          running: 0,
          pending: 0,
          cpu: 0,
          cpuWeight: 0,
          mem: 0,
          memWeight: 0,
          analytics: new Map(),
        };
        buckets.set(bucket, acc);
      }
      const running = s.running[i] ?? 0;
      acc.running += running;
      acc.pending += s.pending[i] ?? 0;
      const weight = Math.max(1, running);
      const cpu = s.cpuAvg[i];
      if (cpu !== null && cpu !== undefined) {
        acc.cpu += cpu * weight;
        acc.cpuWeight += weight;
      }
      const mem = s.memoryAvg[i];
      if (mem !== null && mem !== undefined) {
        acc.mem += mem * weight;
        acc.memWeight += weight;
      }
      for (const [name, col] of Object.entries(s.analytics)) {
        const a = acc.analytics.get(name) ?? { sum: 0, n: 0 };
        const v = col[i];
        if (v !== null && v !== undefined) {
          a.sum += v;
          a.n++;
        }
        acc.analytics.set(name, a);
      }
    }
  }
  const names = new Set<string>();
  for (const acc of buckets.values()) for (const name of acc.analytics.keys()) names.add(name);
  const round = (v: number) => Math.round(v * 1e4) / 1e4;
  const samples = [...buckets.entries()].sort(([a], [b]) => a - b).map(([bucket, acc]) => {
    const analytics: Record<string, number | null> = {};
    for (const name of [...names].sort()) {
      const a = acc.analytics.get(name);
      analytics[name] = a && a.n > 0 ? round(a.sum / a.n) : null;
    }
    return {
      t: bucket * interval,
      running: acc.running,
      pending: acc.pending,
      cpuAvg: acc.cpuWeight > 0 ? round(acc.cpu / acc.cpuWeight) : null,
      memoryAvg: acc.memWeight > 0 ? round(acc.mem / acc.memWeight) : null,
      analytics,
    };
  });
  markers.sort((a, b) => a.t - b.t || a.node.localeCompare(b.node));
  return {
    service: o.service,
    from: o.from,
    to: o.to,
    intervalMs: interval,
    samples,
    thresholds: thresholdsOf(o.policy),
    markers,
    nodes,
  };
}
