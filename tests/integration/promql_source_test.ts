/**
 * The PromQL metric source against a real VictoriaMetrics (the Prometheus query API), private to
 * this test: its own free loopback port and temporary storage, stopped at the end. Data goes in
 * through its import API (`/api/v1/import`). Covered: a value, an empty result, several series,
 * a slow server (timeout, through a delaying proxy in front of the real server), and the server
 * down, each through the real querier and the agent's `ExternalMetrics`.
 */

import assert from "node:assert/strict";
import { PromqlQuerier } from "../../src/adapters/prometheus/promql_source.ts";
import { ExternalMetrics } from "../../src/agent/monitor/external_metrics.ts";
import { systemClock } from "../../src/domain/clock.ts";
import type { MetricSource, ServiceDescriptor } from "../../src/domain/model.ts";
import { descriptor } from "../helpers/planner_fixtures.ts";
import { VictoriaMetricsServer } from "../helpers/influx_servers.ts";

/** Writes one sample per series through the JSON-lines import API, then makes it searchable. */
async function importSamples(
  vm: VictoriaMetricsServer,
  series: { metric: Record<string, string>; value: number }[],
): Promise<void> {
  // A little in the past: an instant query evaluates at a whole second, and a sample later
  // than that is not seen yet.
  const now = Date.now() - 2000;
  const body = series.map((s) =>
    JSON.stringify({ metric: s.metric, values: [s.value], timestamps: [now] })
  ).join("\n");
  const res = await fetch(`${vm.url}/api/v1/import`, { method: "POST", body });
  await res.body?.cancel();
  assert.ok(res.ok, `import: HTTP ${res.status}`);
  await vm.forceFlush();
}

function service(name: string, source: Partial<MetricSource> & { url: string }): ServiceDescriptor {
  return {
    ...descriptor(name),
    metricSources: {
      inflight: {
        type: "prometheus",
        query: 'sum(gru_test_inflight{service="$service"})',
        scope: "cluster",
        headers: {},
        timeout: 2,
        staleAfter: 30,
        ...source,
      },
    },
  };
}

/** One loop of a single node over these services: the statuses of the source `inflight`. */
async function collect(sources: ExternalMetrics, svc: ServiceDescriptor) {
  const view = await sources.collect({
    self: "n1",
    services: new Map([[svc.name, svc]]),
    peers: [],
    instanceNames: () => [],
  });
  return { status: view.statuses[svc.name]![0]!, values: view.values };
}

Deno.test("PromQL source against VictoriaMetrics", async (t) => {
  const vm = await VictoriaMetricsServer.start();
  const querier = new PromqlQuerier();
  const sources = new ExternalMetrics(querier, systemClock);
  let proxy: Deno.HttpServer<Deno.NetAddr> | undefined;
  try {
    await importSamples(vm, [
      { metric: { __name__: "gru_test_inflight", service: "web", pod: "a" }, value: 10 },
      { metric: { __name__: "gru_test_inflight", service: "web", pod: "b" }, value: 7 },
    ]);

    await t.step("value: the query's number, placeholders filled in", async () => {
      const web = service("web", { url: vm.url });
      const { status, values } = await collect(sources, web);
      assert.equal(status.state, "fresh", status.reason);
      assert.equal(status.value, 17);
      assert.deepEqual(values, { web: { inflight: 17 } });
    });

    await t.step("empty result: unknown (not 0), with the reason", async () => {
      const { status, values } = await collect(sources, service("nothing", { url: vm.url }));
      assert.equal(status.state, "failing");
      assert.equal(status.value, undefined);
      assert.match(status.reason!, /^empty: no series matched/);
      assert.deepEqual(values, {});
    });

    await t.step("several series: unknown, asking for an aggregation", async () => {
      const r = await querier.query({
        url: vm.url,
        query: 'gru_test_inflight{service="web"}',
        headers: {},
        timeoutMs: 2000,
      });
      assert.deepEqual(r.ok ? r : { failure: r.failure }, { failure: "ambiguous" });
    });

    await t.step("slow server: timeout is a failure; a longer timeout gets the value", async () => {
      // A proxy in front of the real server that holds every request until released.
      const release = Promise.withResolvers<void>();
      proxy = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
        await release.promise;
        const u = new URL(req.url);
        return await fetch(`${vm.url}${u.pathname}${u.search}`);
      });
      const web = service("web", { url: `http://127.0.0.1:${proxy.addr.port}`, timeout: 0.3 });
      const { status, values } = await collect(new ExternalMetrics(querier, systemClock), web);
      assert.equal(status.state, "failing");
      assert.match(status.reason!, /^timeout: no answer within 300 ms/);
      assert.deepEqual(values, {});
      release.resolve();
      const patient = {
        ...web,
        metricSources: { inflight: { ...web.metricSources!.inflight!, timeout: 5 } },
      };
      const through = await collect(new ExternalMetrics(querier, systemClock), patient);
      assert.equal(through.status.value, 17, "the same query through the proxy answers");
    });

    await t.step("server down: unknown, with the connection error", async () => {
      await vm.stop();
      const { status, values } = await collect(sources, service("web", { url: vm.url }));
      assert.equal(status.state, "failing");
      assert.match(status.reason!, /^error: /);
      assert.deepEqual(values, {});
    });
  } finally {
    querier.close();
    await proxy?.shutdown();
    await vm.destroy();
  }
});
