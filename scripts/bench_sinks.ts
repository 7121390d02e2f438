/**
 * How many points per second the metric sinks sustain into local servers: the v1 sink into a
 * private InfluxDB 1.6, and the v2 sink (through `@influxdata/influxdb-client`) into a private
 * VictoriaMetrics. Points look like the agent's per-service points (4 tags, 3 float fields).
 * The writer keeps the buffer under its bound (it waits for a flush when 5000 points are
 * queued), so nothing is dropped and the figure is the sink's sustained rate.
 *
 * Usage: `deno run -A scripts/bench_sinks.ts [points=200000]`. Prints figures; no asserts.
 *
 * @module
 */

// deno-lint-ignore-file no-console -- a script that prints figures

import { createMetricSink } from "../src/adapters/influx/create_sink.ts";
import type { MetricPoint, MetricSink } from "../src/ports/metric_sink.ts";
import { InfluxServer, VictoriaMetricsServer } from "../tests/helpers/influx_servers.ts";

const total = Number(Deno.args[0] ?? 200_000);

function chunk(base: number, from: number, n: number): MetricPoint[] {
  const out: MetricPoint[] = [];
  for (let i = from; i < from + n; i++) {
    out.push({
      measurement: "cpu_service",
      tags: {
        node: `node-${i % 4}`,
        service_name: `svc-${i % 10}`,
        service_type: "webserver",
        service_image: "gru-test/busybox",
      },
      fields: { stats_value: Math.random(), analytics_value: i % 100 / 100, shared_value: 0.5 },
      time: base + Math.floor(i / 40),
    });
  }
  return out;
}

async function run(name: string, sink: MetricSink): Promise<void> {
  const base = Date.now() - 24 * 3_600_000;
  const t0 = performance.now();
  for (let i = 0; i < total; i += 1000) {
    sink.write(chunk(base, i, Math.min(1000, total - i)));
    if (sink.stats().buffered >= 5000) await sink.flush();
  }
  await sink.flush();
  const secs = (performance.now() - t0) / 1000;
  const st = sink.stats();
  console.log(
    `${name.padEnd(34)} ${st.written} points in ${secs.toFixed(2)} s = ` +
      `${Math.round(st.written / secs).toLocaleString("en")} points/s ` +
      `(dropped ${st.dropped}, failed writes ${st.failedWrites})`,
  );
  await sink.close();
}

console.log(`${total} points per run, batches of 1000 lines`);
const influx = await InfluxServer.start();
try {
  await run(
    "v1 sink → InfluxDB 1.6 (/write)",
    createMetricSink({
      metricService: "influxdb",
      configuration: {
        Url: influx.url,
        DbName: "gru",
        Username: influx.username,
        Password: influx.password,
      },
    }),
  );
} finally {
  await influx.destroy();
}
const vm = await VictoriaMetricsServer.start();
try {
  await run(
    "v2 sink → VictoriaMetrics (client)",
    createMetricSink({
      metricService: "influxdb",
      configuration: { Url: vm.url, Token: "t", Org: "gru", Bucket: "gru" },
    }),
  );
  await run(
    "v1 sink → VictoriaMetrics (/write)",
    createMetricSink({
      metricService: "influxdb",
      configuration: { Url: vm.url, DbName: "gru" },
    }),
  );
} finally {
  await vm.destroy();
}
