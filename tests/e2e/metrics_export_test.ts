/**
 * Issue #5 end to end: an agent's loop exports the original's measurements and its decisions
 * to a real InfluxDB 1.6, through the sink chosen by the seed's `Metric.Configuration` keys.
 */

import assert from "node:assert/strict";
import { InfluxServer } from "../helpers/influx_servers.ts";
import { startTestAgent, waitFor } from "../helpers/agent.ts";
import { createMetricSink } from "../../src/adapters/influx/create_sink.ts";
import { parseAgentConfig, parseServiceDescriptor } from "../../src/config/documents.ts";
import { testRunId } from "../helpers/env.ts";
import { removeRunContainers } from "../helpers/docker.ts";

Deno.test("the loop's measurements and decisions land in InfluxDB 1.6", async () => {
  const influx = await InfluxServer.start(["gru"]);
  const run = `${testRunId()}-influx`;
  const config = parseAgentConfig({
    Autonomic: { LoopTimeInterval: 0.5, Warmup: 0 },
    Metric: {
      MetricService: "influxdb",
      Configuration: {
        Url: influx.url,
        DbName: "gru",
        Username: influx.username,
        Password: influx.password,
        FlushIntervalMs: "200",
      },
    },
  }, "config.json");
  const sink = createMetricSink(config.metric);
  const t = await startTestAgent({
    cluster: "influx",
    run,
    sink,
    baseServices: ["keep"],
    docs: {
      config,
      services: [parseServiceDescriptor({
        Name: "keep",
        Type: "worker",
        Image: "gru-test/busybox",
        Configuration: { Cmd: ["sleep", "3600"] },
      }, "keep.json")],
    },
  });
  try {
    assert.equal(sink.kind, "influxdb-v1");
    await t.agent.command({ name: "start", target: "agent" });
    await waitFor(
      async () => {
        const rows = await influx.select("gru", "instance_status");
        return rows.some((r) => r.running === 1);
      },
      20_000,
      () => JSON.stringify(sink.stats()),
    );
    const status = (await influx.select("gru", "instance_status")).at(-1)!;
    assert.equal(status.service_name, "keep");
    assert.equal(status.service_type, "worker");
    assert.equal(status.node, "n1");
    const node = (await influx.select("gru", "node")).at(-1)!;
    assert.equal(node.name, "n1");
    assert.ok(typeof node.cores_total === "number" && node.cores_total > 0);
    const decisions = await influx.select("gru", "decision");
    assert.ok(decisions.length >= 2);
    assert.ok(decisions.every((d) => typeof d.outcome === "string" && typeof d.seq === "number"));
    assert.equal(sink.stats().dropped, 0);
  } finally {
    await t.close();
    await sink.close();
    await removeRunContainers(run);
    await influx.destroy();
  }
});
