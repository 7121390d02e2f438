import assert from "node:assert/strict";
import { ValidationError } from "../../domain/errors.ts";
import { createMetricSink, NoSink } from "./create_sink.ts";

Deno.test("createMetricSink: none → NoSink that counts nothing and never errors", async () => {
  for (const metricService of ["none", "", "NONE"]) {
    const s = createMetricSink({ metricService, configuration: {} });
    assert.ok(s instanceof NoSink);
    assert.equal(s.kind, "none");
    s.write([{ measurement: "m", tags: {}, fields: { v: 1 }, time: 1 }]);
    await s.flush();
    assert.deepEqual(s.stats(), {
      buffered: 0,
      written: 0,
      dropped: 0,
      failedWrites: 0,
      rejected: 0,
    });
    await s.close();
  }
});

Deno.test("createMetricSink: the seed's 1.x keys give a v1 sink", async () => {
  const s = createMetricSink({
    metricService: "influxdb",
    configuration: { Url: "http://127.0.0.1:8086", DbName: "gru", Username: "u", Password: "p" },
  });
  assert.equal(s.kind, "influxdb-v1");
  await s.close();
});

Deno.test("createMetricSink: Token, Org or Bucket give a v2 sink", async () => {
  const confs: Record<string, string>[] = [
    { Token: "t", Org: "o", Bucket: "b" },
    { Org: "o", Bucket: "b" },
    { Token: "t", DbName: "b" },
  ];
  for (const conf of confs) {
    const s = createMetricSink({
      metricService: "influxdb",
      configuration: { Url: "http://127.0.0.1:8086", ...conf },
    });
    assert.equal(s.kind, "influxdb-v2");
    await s.close();
  }
});

Deno.test("createMetricSink: configuration errors are ValidationErrors naming the key", () => {
  const cases: [Record<string, string>, RegExp][] = [
    [{ DbName: "gru" }, /Metric\.Configuration\.Url/],
    [{ Url: "", DbName: "gru" }, /Metric\.Configuration\.Url/],
    [{ Url: "not a url", DbName: "gru" }, /Metric\.Configuration\.Url/],
    [{ Url: "ftp://x", DbName: "gru" }, /Metric\.Configuration\.Url/],
    [{ Url: "http://127.0.0.1:1" }, /Metric\.Configuration\.DbName/],
    [{ Url: "http://127.0.0.1:1", Token: "t" }, /Metric\.Configuration\.Bucket/],
    [
      { Url: "http://127.0.0.1:1", DbName: "g", TimeoutMs: "-1" },
      /Metric\.Configuration\.TimeoutMs/,
    ],
  ];
  for (const [configuration, re] of cases) {
    assert.throws(
      () => createMetricSink({ metricService: "influxdb", configuration }),
      (e: unknown) => e instanceof ValidationError && re.test(e.message),
      JSON.stringify(configuration),
    );
  }
  assert.throws(
    () => createMetricSink({ metricService: "prometheus", configuration: {} }),
    ValidationError,
  );
});
