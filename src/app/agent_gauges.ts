/**
 * The agent's gauges on `/metrics`: the measurement buffer, user metrics, instances, and
 * whether the loop runs and the node is registered. Read when `/metrics` is scraped.
 *
 * @module
 */

import type { Agent } from "../agent/agent.ts";
import type { PrometheusTelemetry } from "../adapters/prometheus/prometheus_telemetry.ts";
import type { ReloadingSink } from "./reloading_sink.ts";

/** Registers the gauges of `agent` and its measurement sink. */
export function agentGauges(telemetry: PrometheusTelemetry, agent: Agent, sink: ReloadingSink) {
  telemetry.gauge("gru_metric_points_buffered", "Measurements waiting to be written.", () => [{
    value: sink.stats().buffered,
  }]);
  telemetry.gauge(
    "gru_metric_points_dropped_total",
    "Measurements dropped because the buffer was full.",
    () => [{ value: sink.stats().dropped }],
  );
  telemetry.gauge("gru_metric_points_written_total", "Measurements written.", () => [{
    value: sink.stats().written,
  }]);
  telemetry.gauge(
    "gru_metric_points_rejected_total",
    "Measurements dropped because the database refused their batch (HTTP 4xx but 429).",
    () => [{ value: sink.stats().rejected }],
  );
  telemetry.gauge("gru_user_metrics", "User metrics kept, all services together.", () => [{
    value: agent.parts.monitor.userMetricStats().metrics,
  }]);
  telemetry.gauge(
    "gru_user_metrics_refused_total",
    "User-metric pushes refused: bad name, or a new metric beyond the per-service bound.",
    () => {
      const st = agent.parts.monitor.userMetricStats();
      return [
        { labels: { reason: "name" }, value: st.refusedNames },
        { labels: { reason: "limit" }, value: st.refusedOverLimit },
      ];
    },
  );
  telemetry.gauge(
    "gru_user_metrics_pruned_total",
    "User metrics dropped after going stale or with their service.",
    () => [{ value: agent.parts.monitor.userMetricStats().pruned }],
  );
  telemetry.gauge("gru_instances", "Instances on this node by service and status.", () => {
    const counts = new Map<string, number>();
    for (const i of agent.parts.instances.list()) {
      const k = `${i.service}\u0000${i.status}`;
      counts.set(k, (counts.get(k) ?? 0) + 1);
    }
    return [...counts].map(([k, value]) => {
      const [service, status] = k.split("\u0000");
      return { labels: { service: service!, status: status! }, value };
    });
  });
  telemetry.gauge("gru_active", "1 when the autonomic loop runs.", () => [{
    value: agent.active ? 1 : 0,
  }]);
  telemetry.gauge("gru_registered", "1 when the node is registered in etcd.", () => [{
    value: agent.registered ? 1 : 0,
  }]);
}
