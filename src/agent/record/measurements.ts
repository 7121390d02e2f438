/**
 * The points one loop iteration exports (the original's InfluxDB measurements, docs/compat.md#keep-influx, plus decisions): `node`,
 * `instance_status`, `cpu_service`, `memory_service`, `user_stat_service`,
 * `user_analytics_service`, `user_shared_service`, `policy` and `decision`. Pure. Unknown values
 * are left out of a point rather than written as 0.
 *
 * @module
 */

import type { MetricPoint } from "../../ports/metric_sink.ts";
import type { NodeCapacity, ServiceDescriptor } from "../../domain/model.ts";
import type { DecisionRecord } from "./decisions.ts";

function defined(fields: Record<string, number | undefined>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(fields)) {
    if (v !== undefined && Number.isFinite(v)) out[k] = v;
  }
  return out;
}

/**
 * The node's figures: `cpu` = cores used by the services' running instances ÷ the node's cores,
 * `memory` = memory reserved ÷ the node's memory (undefined without totals).
 */
export function systemFigures(
  services: readonly { cpu_cores: number | undefined }[],
  n: NodeCapacity,
): { cpu: number | undefined; memory: number | undefined } {
  const coresUsed = services.reduce((s, i) => s + (i.cpu_cores ?? 0), 0);
  return {
    cpu: n.totalCpus > 0 ? coresUsed / n.totalCpus : undefined,
    memory: n.totalMemory > 0 ? (n.totalMemory - n.freeMemory) / n.totalMemory : undefined,
  };
}

/** The points of one decision record. */
export function measurements(
  record: DecisionRecord,
  options: { uuid: string; services: ReadonlyMap<string, ServiceDescriptor> },
): MetricPoint[] {
  const time = record.time;
  const node = record.node;
  const n = record.inputs.node;
  const out: MetricPoint[] = [];
  const services = Object.entries(record.inputs.services);
  const system = systemFigures(services.map(([, i]) => i), n);
  out.push({
    measurement: "node",
    tags: { node: options.uuid, name: node },
    fields: defined({
      cpu: system.cpu,
      memory: system.memory,
      cores_total: n.totalCpus,
      cores_free: n.freeCpus,
      active_services: services.filter(([, i]) => i.running + i.pending > 0).length,
    }),
    time,
  });
  for (const [name, i] of services) {
    const d = options.services.get(name);
    const tags = {
      node,
      service_name: name,
      service_type: d?.type ?? "",
      service_image: d?.image ?? "",
    };
    out.push({
      measurement: "instance_status",
      tags,
      fields: {
        all: i.running + i.pending + i.stopped + i.paused,
        pending: i.pending,
        running: i.running,
        stopped: i.stopped,
        paused: i.paused,
      },
      time,
    });
    const cpu = defined({
      stats_value: i.cpu_avg,
      analytics_value: i.cpu_avg,
      shared_value: i.cluster?.cpu_avg,
    });
    if (Object.keys(cpu).length) out.push({ measurement: "cpu_service", tags, fields: cpu, time });
    const mem = defined({
      stats_value: i.memory_avg,
      analytics_value: i.memory_avg,
      shared_value: i.cluster?.memory_avg,
    });
    if (Object.keys(mem).length) {
      out.push({ measurement: "memory_service", tags, fields: mem, time });
    }
    for (
      const [measurement, values] of [
        ["user_stat_service", i.metrics],
        ["user_analytics_service", i.analytics],
        ["user_shared_service", i.cluster?.analytics ?? {}],
      ] as const
    ) {
      const fields = defined(values);
      if (Object.keys(fields).length) out.push({ measurement, tags, fields, time });
    }
  }
  out.push({
    measurement: "policy",
    tags: { node, name: record.chosen.policy },
    fields: { weight: record.chosen.weight },
    time,
  });
  out.push({
    measurement: "decision",
    tags: { node, policy: record.chosen.policy, outcome: record.outcome },
    fields: defined({
      seq: record.seq,
      weight: record.chosen.weight,
      draw: record.draw,
      actions: record.actions.length,
      duration_ms: Object.values(record.phasesMs).reduce((a, b) => a + b, 0),
    }),
    time,
  });
  return out;
}
