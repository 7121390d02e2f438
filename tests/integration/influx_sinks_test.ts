/**
 * The metric sinks against real servers: InfluxDB 1.6 through the 1.x API (`/write`), and
 * VictoriaMetrics through the 2.x API (`/api/v2/write`, via `@influxdata/influxdb-client`).
 * Each server is private to its test, stopped and restarted on the same port and data to check
 * that no point is lost or written twice across an outage, and that overflow drops exactly what
 * exceeds the bound.
 */

import assert from "node:assert/strict";
import { createMetricSink } from "../../src/adapters/influx/create_sink.ts";
import type { BufferedSinkOptions } from "../../src/adapters/influx/buffered_sink.ts";
import type { MetricPoint, MetricSink } from "../../src/ports/metric_sink.ts";
import { InfluxServer, VictoriaMetricsServer } from "../helpers/influx_servers.ts";

const FAST: Omit<BufferedSinkOptions, "kind"> = {
  flushIntervalMs: 50,
  initialBackoffMs: 50,
  maxBackoffMs: 400,
  closeTimeoutMs: 2000,
};

async function eventually<T>(
  what: string,
  fn: () => Promise<T> | T,
  ok: (v: T) => boolean,
  ms = 15_000,
): Promise<T> {
  const end = Date.now() + ms;
  let last: T | undefined;
  let err: unknown;
  while (Date.now() < end) {
    try {
      last = await fn();
      if (ok(last)) return last;
    } catch (e) {
      err = e;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}: last ${JSON.stringify(last)} ${err ?? ""}`);
}

function seq(measurement: string, base: number, from: number, to: number): MetricPoint[] {
  const out: MetricPoint[] = [];
  for (let i = from; i < to; i++) {
    out.push({
      measurement,
      tags: { node: "n1", part: i % 2 ? "odd" : "even" },
      fields: { v: i + 0.5 },
      time: base + i,
    });
  }
  return out;
}

function v1Sink(server: InfluxServer, extra: Omit<BufferedSinkOptions, "kind"> = {}): MetricSink {
  return createMetricSink({
    metricService: "influxdb",
    configuration: {
      Url: server.url,
      DbName: "gru",
      Username: server.username,
      Password: server.password,
      TimeoutMs: "2000",
    },
  }, { ...FAST, ...extra });
}

function v2Sink(
  server: VictoriaMetricsServer,
  extra: Omit<BufferedSinkOptions, "kind"> = {},
): MetricSink {
  return createMetricSink({
    metricService: "influxdb",
    configuration: {
      Url: server.url,
      Token: "test-token",
      Org: "gru",
      Bucket: "gru",
      TimeoutMs: "2000",
    },
  }, { ...FAST, ...extra });
}

/** `i` of each point read back from InfluxDB (`v` = i + 0.5, time = base + i), sorted. */
async function influxIndexes(s: InfluxServer, m: string, base: number): Promise<number[]> {
  const rows = await s.select("gru", m);
  return rows.map((r) => {
    const i = (r.time as number) - base;
    assert.equal(r.v, i + 0.5, `value of point ${i}`);
    assert.equal(r.node, "n1");
    assert.equal(r.part, i % 2 ? "odd" : "even");
    return i;
  }).sort((a, b) => a - b);
}

/** `i` of each sample read back from VictoriaMetrics (`<m>_v`), sorted. */
async function vmIndexes(s: VictoriaMetricsServer, m: string, base: number): Promise<number[]> {
  const series = await s.export(`{__name__="${m}_v"}`);
  const out: number[] = [];
  for (const ser of series) {
    assert.equal(ser.metric["node"], "n1");
    ser.timestamps.forEach((t, k) => {
      const i = t - base;
      assert.equal(ser.values[k], i + 0.5, `value of point ${i}`);
      assert.equal(ser.metric["part"], i % 2 ? "odd" : "even");
      out.push(i);
    });
  }
  return out.sort((a, b) => a - b);
}

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from }, (_, k) => from + k);
}

Deno.test("influx v1 sink: points read back from InfluxDB 1.6 with tags, fields and times", async () => {
  const server = await InfluxServer.start();
  const sink = v1Sink(server);
  try {
    assert.equal(sink.kind, "influxdb-v1");
    const t = Date.now() - 60_000;
    sink.write([
      {
        measurement: "node load",
        tags: { node: "n,1", "the name": "a=b c" },
        fields: { cpu: 0.25, cores_total: 4, up: true, note: `say "hi" \\ there`, bad: NaN },
        time: t,
      },
      {
        measurement: "node load",
        tags: { node: "n2", "the name": "x" },
        fields: { cpu: 1 },
        time: t + 1,
      },
      { measurement: "node load", tags: {}, fields: { only: NaN }, time: t + 2 },
    ]);
    await sink.flush();
    assert.deepEqual(sink.stats(), {
      buffered: 0,
      written: 2,
      dropped: 0,
      failedWrites: 0,
      rejected: 0,
      lastError: undefined,
    });
    const rows = await server.select("gru", "node load");
    assert.deepEqual(rows, [
      {
        time: t,
        cores_total: 4,
        cpu: 0.25,
        node: "n,1",
        note: `say "hi" \\ there`,
        "the name": "a=b c",
        up: true,
      },
      {
        time: t + 1,
        cores_total: null,
        cpu: 1,
        node: "n2",
        note: null,
        "the name": "x",
        up: null,
      },
    ]);
  } finally {
    await sink.close();
    await server.destroy();
  }
});

Deno.test("influx v1 sink: wrong credentials (HTTP 401): the batch is dropped and counted, not retried", async () => {
  const server = await InfluxServer.start();
  const sink = createMetricSink({
    metricService: "influxdb",
    configuration: { Url: server.url, DbName: "gru", Username: "gru", Password: "wrong" },
  }, FAST);
  try {
    sink.write(seq("auth", Date.now(), 0, 3));
    await sink.flush();
    const st = sink.stats();
    assert.equal(st.rejected, 3);
    assert.equal(st.failedWrites, 0);
    assert.equal(st.buffered, 0);
    assert.match(st.lastError ?? "", /HTTP 401/);
    assert.ok(!(st.lastError ?? "").includes("wrong"), "no password in the error");
  } finally {
    await sink.close();
    await server.destroy();
  }
});

Deno.test("influx v1 sink: a database that does not exist (HTTP 404) drops each batch, export goes on", async () => {
  const server = await InfluxServer.start();
  const sink = createMetricSink({
    metricService: "influxdb",
    configuration: {
      Url: server.url,
      DbName: "missing",
      Username: server.username,
      Password: server.password,
    },
  }, FAST);
  try {
    const base = Date.now() - 60_000;
    sink.write(seq("nodb", base, 0, 3));
    await sink.flush();
    sink.write(seq("nodb", base, 3, 5));
    await sink.flush();
    // nothing is left to retry: no timer-driven attempt adds failures
    await new Promise((r) => setTimeout(r, 300));
    const st = sink.stats();
    assert.deepEqual(
      { rejected: st.rejected, failedWrites: st.failedWrites, buffered: st.buffered },
      { rejected: 5, failedWrites: 0, buffered: 0 },
    );
    assert.match(st.lastError ?? "", /HTTP 404.*database not found/);
  } finally {
    await sink.close();
    await server.destroy();
  }
});

Deno.test("influx v1 sink: a batch InfluxDB refuses (field type conflict, HTTP 400) never blocks the next ones", async () => {
  const server = await InfluxServer.start();
  const sink = v1Sink(server);
  try {
    const t = Date.now() - 60_000;
    sink.write([{ measurement: "conflict", tags: {}, fields: { v: 1 }, time: t }]);
    await sink.flush();
    sink.write([{ measurement: "conflict", tags: {}, fields: { v: "text" }, time: t + 1 }]);
    await sink.flush();
    sink.write([{ measurement: "conflict", tags: {}, fields: { v: 3 }, time: t + 2 }]);
    await sink.flush();
    const st = sink.stats();
    assert.equal(st.rejected, 1);
    assert.equal(st.written, 2);
    assert.equal(st.failedWrites, 0);
    assert.equal(st.buffered, 0);
    const rows = await server.select("gru", "conflict");
    assert.deepEqual(rows.map((r) => r.v), [1, 3]);
  } finally {
    await sink.close();
    await server.destroy();
  }
});

Deno.test("influx v2 sink: points read back from VictoriaMetrics via @influxdata/influxdb-client", async () => {
  const server = await VictoriaMetricsServer.start();
  const sink = v2Sink(server);
  try {
    assert.equal(sink.kind, "influxdb-v2");
    const t = Date.now() - 60_000;
    sink.write([
      {
        measurement: "svc",
        tags: { service: "web app", node: "n=1" },
        fields: { cpu: 0.75, up: true },
        time: t,
      },
      { measurement: "svc", tags: { service: "db", node: "n2" }, fields: { cpu: 2 }, time: t + 5 },
    ]);
    await sink.flush();
    assert.equal(sink.stats().written, 2);
    assert.equal(sink.stats().failedWrites, 0);
    const series = await eventually(
      "svc series",
      () => server.export(`{__name__=~"svc_.*"}`),
      (s) => s.length === 3,
    );
    const norm = series.map((s) => ({ ...s.metric, values: s.values, timestamps: s.timestamps }))
      .sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
    assert.deepEqual(norm, [
      { __name__: "svc_cpu", node: "n2", service: "db", values: [2], timestamps: [t + 5] },
      { __name__: "svc_cpu", node: "n=1", service: "web app", values: [0.75], timestamps: [t] },
      { __name__: "svc_up", node: "n=1", service: "web app", values: [1], timestamps: [t] },
    ]);
  } finally {
    await sink.close();
    await server.destroy();
  }
});

interface Target {
  name: string;
  start(): Promise<{
    stop(): Promise<void>;
    restart(): Promise<void>;
    destroy(): Promise<void>;
    sink(extra?: Omit<BufferedSinkOptions, "kind">): MetricSink;
    indexes(m: string, base: number): Promise<number[]>;
  }>;
}

const targets: Target[] = [
  {
    name: "v1 → InfluxDB 1.6",
    async start() {
      const s = await InfluxServer.start();
      return {
        stop: () => s.kill(),
        restart: () => s.restart(),
        destroy: () => s.destroy(),
        sink: (extra) => v1Sink(s, extra),
        indexes: (m, base) => influxIndexes(s, m, base),
      };
    },
  },
  {
    name: "v2 → VictoriaMetrics",
    async start() {
      const s = await VictoriaMetricsServer.start();
      return {
        stop: () => s.stop(),
        restart: () => s.restart(),
        destroy: () => s.destroy(),
        sink: (extra) => v2Sink(s, extra),
        indexes: (m, base) => vmIndexes(s, m, base),
      };
    },
  },
];

for (const target of targets) {
  Deno.test(`${target.name}: every point written before, during and after an outage arrives once`, async () => {
    const server = await target.start();
    const sink = server.sink();
    const base = Date.now() - 3_600_000;
    try {
      for (let k = 0; k < 4; k++) sink.write(seq("outage", base, k * 5, k * 5 + 5));
      await sink.flush();
      assert.equal(sink.stats().written, 20);

      await server.stop();
      for (let k = 0; k < 6; k++) {
        sink.write(seq("outage", base, 20 + k * 5, 25 + k * 5));
        await new Promise((r) => setTimeout(r, 60));
      }
      await eventually("failed writes", () => sink.stats(), (s) => s.failedWrites >= 2);
      const down = sink.stats();
      assert.equal(down.dropped, 0);
      assert.equal(down.buffered, 30);
      assert.equal(down.written, 20);
      assert.ok(down.lastError);

      await server.restart();
      await eventually("recovery", () => sink.stats(), (s) => s.buffered === 0);
      sink.write(seq("outage", base, 50, 70));
      await sink.flush();
      const st = sink.stats();
      assert.equal(st.written, 70);
      assert.equal(st.dropped, 0);
      assert.equal(st.lastError, undefined);

      const got = await eventually(
        "all points",
        () => server.indexes("outage", base),
        (ix) => ix.length >= 70,
      );
      assert.deepEqual(got, range(0, 70));
    } finally {
      await sink.close();
      await server.destroy();
    }
  });

  Deno.test(`${target.name}: overflow while down drops exactly the excess, oldest first`, async () => {
    const server = await target.start();
    const sink = server.sink({ maxBuffered: 10 });
    const base = Date.now() - 7_200_000;
    try {
      sink.write(seq("overflow", base, 0, 5));
      await sink.flush();
      assert.equal(sink.stats().written, 5);

      await server.stop();
      for (let i = 5; i < 30; i++) {
        sink.write(seq("overflow", base, i, i + 1));
        if (i % 5 === 0) await new Promise((r) => setTimeout(r, 30));
      }
      await sink.flush(); // fails: settles the bound
      const down = sink.stats();
      assert.equal(down.buffered, 10);
      assert.equal(down.dropped, 15);
      assert.equal(down.written, 5);

      await server.restart();
      await eventually("recovery", () => sink.stats(), (s) => s.buffered === 0);
      assert.equal(sink.stats().written, 15);
      assert.equal(sink.stats().dropped, 15);
      const got = await eventually(
        "kept points",
        () => server.indexes("overflow", base),
        (ix) => ix.length >= 15,
      );
      assert.deepEqual(got, [...range(0, 5), ...range(20, 30)]);
    } finally {
      await sink.close();
      await server.destroy();
    }
  });
}

Deno.test("influx v2 sink: a 4xx from VictoriaMetrics (wrong URL path) drops the batch, not retried", async () => {
  const server = await VictoriaMetricsServer.start();
  const sink = createMetricSink({
    metricService: "influxdb",
    configuration: { Url: `${server.url}/wrong/prefix`, Token: "t", Org: "gru", Bucket: "gru" },
  }, FAST);
  try {
    sink.write(seq("wrongpath", Date.now(), 0, 4));
    await sink.flush();
    await new Promise((r) => setTimeout(r, 300));
    const st = sink.stats();
    assert.deepEqual(
      { rejected: st.rejected, failedWrites: st.failedWrites, buffered: st.buffered },
      { rejected: 4, failedWrites: 0, buffered: 0 },
    );
    assert.match(st.lastError ?? "", /HTTP 400/);
  } finally {
    await sink.close();
    await server.destroy();
  }
});

/** Names that would break a line if not escaped: delimiters, trailing backslashes, line breaks. */
const NASTY: MetricPoint = {
  measurement: "nasty m,1",
  tags: {
    "k,=\\": "v \\",
    path: "C:\\dir",
    "nl\n": "a\nb",
    z: "\\\\x",
    "b\\,c": "d\\ e",
  },
  fields: { "f\\": 1, "g=h i,j": 2 },
  time: 0,
};

Deno.test("influx v1 sink: nasty names reach InfluxDB 1.6 in the same line, trailing backslashes as _", async () => {
  const server = await InfluxServer.start();
  const sink = v1Sink(server);
  try {
    const t = Date.now() - 60_000;
    sink.write([{ ...NASTY, fields: { ...NASTY.fields, s: "ends in \\", q: '\\"' }, time: t }]);
    await sink.flush();
    assert.equal(sink.stats().written, 1);
    assert.equal(sink.stats().rejected, 0);
    const rows = await server.select("gru", "nasty m,1");
    assert.deepEqual(rows, [{
      time: t,
      "b\\,c": "d\\ e",
      f_: 1,
      "g=h i,j": 2,
      "k,=_": "v _",
      "nl\\n": "a\\nb",
      path: "C:\\dir",
      q: '\\"',
      s: "ends in \\",
      z: "\\\\x",
    }]);
  } finally {
    await sink.close();
    await server.destroy();
  }
});

Deno.test("influx v2 sink: nasty names reach VictoriaMetrics exactly, in the same line", async () => {
  const server = await VictoriaMetricsServer.start();
  const sink = v2Sink(server);
  try {
    const t = Date.now() - 60_000;
    sink.write([{ ...NASTY, time: t }]);
    await sink.flush();
    assert.equal(sink.stats().written, 1);
    assert.equal(sink.stats().rejected, 0);
    const series = await eventually(
      "nasty series",
      () => server.export(`{__name__=~"nasty.*"}`),
      (s) => s.length === 2,
    );
    const labels = {
      "k,=\\": "v \\",
      path: "C:\\dir",
      "nl\\n": "a\\nb",
      z: "\\\\x",
      "b\\,c": "d\\ e",
    };
    const norm = series.map((s) => ({ ...s.metric, values: s.values, timestamps: s.timestamps }))
      .sort((a, b) => a.values[0]! - b.values[0]!);
    assert.deepEqual(norm, [
      { __name__: "nasty m,1_f\\", ...labels, values: [1], timestamps: [t] },
      { __name__: "nasty m,1_g=h i,j", ...labels, values: [2], timestamps: [t] },
    ]);
  } finally {
    await sink.close();
    await server.destroy();
  }
});
