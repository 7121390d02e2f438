import assert from "node:assert/strict";
import { type AgentApi, createApi, METRICS_CONTENT_TYPE } from "./app.ts";
import { PrometheusTelemetry } from "../adapters/prometheus/prometheus_telemetry.ts";

/** `/metrics` touches no part of the agent. */
const noAgent = {} as AgentApi;

Deno.test("GET /metrics serves the Prometheus text at the root", async () => {
  const telemetry = new PrometheusTelemetry();
  telemetry.decision("scaleout", "executed");
  const app = createApi(noAgent, { token: () => "t", metrics: () => telemetry.render() });
  const res = await app.request("/metrics");
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("content-type"), METRICS_CONTENT_TYPE);
  assert.match(res.headers.get("content-type") ?? "", /^text\/plain; version=0\.0\.4/);
  const text = await res.text();
  assert.match(text, /^# TYPE gru_decisions_total counter$/m);
  assert.match(text, /^gru_decisions_total\{outcome="executed",policy="scaleout"\} 1$/m);
  // Read at every request.
  telemetry.decision("scaleout", "executed");
  assert.match(await (await app.request("/metrics")).text(), /policy="scaleout"\} 2$/m);
  // Not under the API prefix, and no token needed.
  assert.equal((await app.request("/gru/v1/metrics")).status, 404);
});

Deno.test("GET /metrics is a JSON 404 when metrics are off", async () => {
  const app = createApi(noAgent, { token: () => undefined });
  const res = await app.request("/metrics");
  assert.equal(res.status, 404);
  const body = await res.json();
  assert.equal(body.error.code, "not_found");
});
