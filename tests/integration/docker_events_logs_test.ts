/**
 * DockerRuntime.events and followLogs on the real engine: label filtering and order of
 * container events, demultiplexed stdout+stderr log lines, and resolution on abort. Also the
 * pure stream decoders behind them, fed awkward chunkings.
 */

import assert from "node:assert/strict";
import { DockerRuntime } from "../../src/adapters/docker/docker_runtime.ts";
import {
  JsonObjectSplitter,
  LineSplitter,
  LogDemuxer,
  toRuntimeEvent,
} from "../../src/adapters/docker/docker_streams.ts";
import type { RuntimeEvent } from "../../src/ports/container_runtime.ts";
import { LABEL_TEST_RUN } from "../../src/domain/model.ts";
import { dockerSocket, testRunId } from "../helpers/env.ts";
import { testRuntime } from "../helpers/docker.ts";

const IMAGE = "gru-test/busybox";
const enc = new TextEncoder();

async function eventually(check: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) assert.fail(`condition not met within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function frame(stream: number, text: string): Uint8Array {
  const payload = enc.encode(text);
  const out = new Uint8Array(8 + payload.length);
  out[0] = stream;
  new DataView(out.buffer).setUint32(4, payload.length);
  out.set(payload, 8);
  return out;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

Deno.test("JsonObjectSplitter: split and joined objects, strings with braces, garbage", () => {
  const text = '{"a":1}\n{"b":"x}{\\"y"}{"c":{"d":[1,2]}}\r\n  nonsense {"e":true}\n';
  for (let cut = 1; cut < 6; cut++) {
    const s = new JsonObjectSplitter();
    const got: unknown[] = [];
    for (let i = 0; i < text.length; i += cut) got.push(...s.push(text.slice(i, i + cut)));
    assert.deepEqual(got, [{ a: 1 }, { b: 'x}{"y' }, { c: { d: [1, 2] } }, { e: true }], `${cut}`);
  }
  const bytes = enc.encode('{"n":"é€"}');
  const s = new JsonObjectSplitter();
  const got = [...bytes].flatMap((b) => s.push(new Uint8Array([b])));
  assert.deepEqual(got, [{ n: "é€" }], "multi-byte characters across chunks");
  const small = new JsonObjectSplitter(16);
  assert.deepEqual(small.push('{"big":"' + "x".repeat(40)), []);
  assert.deepEqual(small.push('"}{"ok":1}'), [{ ok: 1 }], "an oversized object is dropped");
});

Deno.test("toRuntimeEvent: action suffixes and non-label attributes are stripped", () => {
  const e = toRuntimeEvent({
    Type: "container",
    Action: "exec_start: sh -c echo x",
    Actor: {
      ID: "c1",
      Attributes: { name: "n", image: "i", execID: "x", exitCode: "0", "gru.service": "web" },
    },
    time: 1700000000,
    timeNano: 1700000000123456789,
  });
  assert.deepEqual(e, {
    id: "c1",
    action: "exec_start",
    labels: { "gru.service": "web" },
    time: 1700000000123.4568,
  });
  assert.equal(
    toRuntimeEvent({ Type: "container", Action: "health_status: healthy", id: "c2" })?.action,
    "health_status",
  );
  assert.equal(toRuntimeEvent({ Type: "network", Action: "connect", id: "n" }), undefined);
  assert.equal(toRuntimeEvent({ Type: "container" }), undefined);
  assert.equal(toRuntimeEvent(null), undefined);
});

Deno.test("LineSplitter: lines across chunks, CRLF, 4096-byte cap on a character boundary", () => {
  const lines: string[] = [];
  const s = new LineSplitter();
  const emit = (l: string) => lines.push(l);
  s.push(enc.encode("ab"), emit);
  s.push(enc.encode("c\r\nde\n\nf"), emit);
  s.flush(emit);
  assert.deepEqual(lines, ["abc", "de", "", "f"]);

  lines.length = 0;
  const long = "x".repeat(4095) + "€" + "y".repeat(10_000); // € is 3 bytes, straddling 4096
  for (let i = 0; i < long.length; i += 1000) s.push(enc.encode(long.slice(i, i + 1000)), emit);
  s.push(enc.encode("\nnext\n"), emit);
  assert.deepEqual(lines, ["x".repeat(4095), "next"]);

  lines.length = 0;
  s.push(enc.encode("z".repeat(4096) + "\r\n"), emit);
  s.push(enc.encode("z".repeat(4097) + "\n"), emit);
  assert.deepEqual(lines, ["z".repeat(4096), "z".repeat(4096)]);
});

Deno.test("LogDemuxer: frames cut anywhere, stdout and stderr lines kept apart", () => {
  const { modem } = testRuntime().docker;
  const stream = concat(
    frame(1, "out1\nout"),
    frame(2, "err1\ne"),
    frame(1, "2\n"),
    frame(2, "rr2\n"),
    frame(1, ""),
    frame(2, "last err"),
    frame(1, "last out"),
  );
  for (let cut = 1; cut <= 9; cut++) {
    const lines: string[] = [];
    const d = new LogDemuxer((l) => lines.push(l), { modem });
    for (let i = 0; i < stream.length; i += cut) d.push(stream.subarray(i, i + cut));
    d.flush();
    assert.deepEqual(lines, ["out1", "err1", "out2", "err2", "last out", "last err"], `cut ${cut}`);
  }
  const whole: string[] = [];
  const d = new LogDemuxer((l) => whole.push(l), { modem });
  d.push(stream);
  assert.deepEqual(whole, ["out1", "err1", "out2", "err2"], "several frames in one chunk");
});

Deno.test("LogDemuxer: TTY and non-multiplexed streams are stdout lines", () => {
  const { modem } = testRuntime().docker;
  const raw: string[] = [];
  const r = new LogDemuxer((l) => raw.push(l), { modem, raw: true });
  r.push(enc.encode("tty line\r\nsecond"));
  r.flush();
  assert.deepEqual(raw, ["tty line", "second"]);

  // A stream that turns out not to be framed ("h" is no stream type) passes through whole.
  const plain: string[] = [];
  const p = new LogDemuxer((l) => plain.push(l), { modem });
  p.push(enc.encode("hello"));
  p.push(enc.encode(" world\nnext"));
  p.push(enc.encode(" line\n"));
  p.flush();
  assert.deepEqual(plain, ["hello world", "next line"]);
});

Deno.test("LogDemuxer: a long frame is cut to 4096 bytes; a throwing callback surfaces", () => {
  const { modem } = testRuntime().docker;
  const lines: string[] = [];
  const d = new LogDemuxer((l) => lines.push(l), { modem });
  const long = frame(1, "x".repeat(10_000) + "\nok\n");
  for (let i = 0; i < long.length; i += 700) d.push(long.subarray(i, i + 700));
  assert.deepEqual(lines, ["x".repeat(4096), "ok"]);

  const boom = new LogDemuxer(() => {
    throw new Error("callback failed");
  }, { modem });
  assert.throws(() => boom.push(frame(1, "line\n")), /callback failed/);
});

Deno.test("events: a labelled container's lifecycle in order, nothing unlabelled", async () => {
  const rt = testRuntime();
  const run = testRunId();
  const mark = `ev-${Math.floor(Math.random() * 1e9).toString(36)}`;
  const labels = { [LABEL_TEST_RUN]: run, "gru.test-mark": mark };
  const seen: RuntimeEvent[] = [];
  const ctl = new AbortController();
  const ids: string[] = [];
  const stream = rt.events(labels, (e) => seen.push(e), ctl.signal);
  let settled = false;
  stream.finally(() => settled = true).catch(() => {});
  try {
    await new Promise((r) => setTimeout(r, 300)); // the stream is open
    const other = await rt.create({
      name: `gru-test-${run}-${mark}-other`,
      image: IMAGE,
      cmd: ["true"],
      env: [],
      labels: { [LABEL_TEST_RUN]: run },
      cpusetCpus: "",
      memory: 0,
      portBindings: {},
    });
    ids.push(other);
    const id = await rt.create({
      name: `gru-test-${run}-${mark}`,
      image: IMAGE,
      cmd: ["sleep", "0.3"],
      env: [],
      labels,
      cpusetCpus: "",
      memory: 0,
      portBindings: {},
    });
    ids.push(id);
    await rt.start(other);
    await rt.start(id);
    await eventually(() => seen.some((e) => e.action === "die"));
    await rt.remove(id);
    await rt.remove(other);
    await eventually(() => seen.some((e) => e.action === "destroy"));
    await new Promise((r) => setTimeout(r, 200)); // nothing else trails in
    assert.deepEqual(seen.map((e) => e.action), ["create", "start", "die", "destroy"]);
    for (const e of seen) {
      assert.equal(e.id, id);
      assert.equal(e.labels["gru.test-mark"], mark);
      assert.equal(e.labels["name"], undefined);
      assert.ok(Math.abs(e.time - Date.now()) < 60_000, "time is in ms since the epoch");
    }
    assert.ok(seen.every((e, i) => i === 0 || e.time >= seen[i - 1]!.time), "in time order");
    assert.equal(settled, false);
    ctl.abort();
    await stream; // resolves
  } finally {
    ctl.abort();
    await stream.catch(() => {});
    await Promise.all(ids.map((i) => rt.remove(i)));
    await rt.close();
  }
});

Deno.test("events: a quiet stream outlives the request timeout", async () => {
  const rt = new DockerRuntime({
    endpoint: { kind: "socket", socketPath: dockerSocket() },
    timeoutMs: 300,
  });
  const run = testRunId();
  const mark = `quiet-${Math.floor(Math.random() * 1e9).toString(36)}`;
  const ctl = new AbortController();
  const seen: RuntimeEvent[] = [];
  let outcome = "pending";
  const stream = rt.events({ "gru.test-mark": mark }, (e) => seen.push(e), ctl.signal)
    .then(() => outcome = "resolved", (err) => outcome = `rejected: ${err}`);
  let id: string | undefined;
  try {
    await new Promise((r) => setTimeout(r, 1200));
    assert.equal(outcome, "pending");
    id = await rt.create({
      name: `gru-test-${run}-${mark}`,
      image: IMAGE,
      cmd: ["true"],
      env: [],
      labels: { [LABEL_TEST_RUN]: run, "gru.test-mark": mark },
      cpusetCpus: "",
      memory: 0,
      portBindings: {},
    });
    await eventually(() => seen.some((e) => e.action === "create"));
  } finally {
    ctl.abort();
    await stream;
    if (id) await rt.remove(id);
    await rt.close();
  }
  assert.equal(outcome, "resolved");
});

Deno.test("events: a stream the engine ends rejects with UnavailableError", async () => {
  const dir = await Deno.makeTempDir({ prefix: "gru-fake-docker-" });
  const path = `${dir}/docker.sock`;
  const body = '{"Type":"container","Action":"start","Actor":{"ID":"abc","Attributes":' +
    '{"name":"x","k":"v"}},"time":1700000000}\n{"Type":"container","Action":"di';
  const server = Deno.serve({ path, onListen: () => {} }, () =>
    new Response(
      new ReadableStream({
        async start(c) {
          c.enqueue(enc.encode(body.slice(0, 50)));
          await new Promise((r) => setTimeout(r, 50));
          c.enqueue(enc.encode(body.slice(50)));
          await new Promise((r) => setTimeout(r, 50));
          c.close();
        },
      }),
      { headers: { "content-type": "application/json" } },
    ));
  const rt = new DockerRuntime({ endpoint: { kind: "socket", socketPath: path } });
  try {
    const seen: RuntimeEvent[] = [];
    await assert.rejects(
      rt.events({ k: "v" }, (e) => seen.push(e), new AbortController().signal),
      (err: Error) => err.name === "UnavailableError",
    );
    assert.deepEqual(seen, [{ id: "abc", action: "start", labels: { k: "v" }, time: 17e11 }]);
  } finally {
    await rt.close();
    await server.shutdown();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("events: an already aborted signal resolves at once", async () => {
  const rt = testRuntime();
  const ctl = new AbortController();
  ctl.abort();
  await rt.events({ [LABEL_TEST_RUN]: testRunId() }, () => {}, ctl.signal);
  await rt.close();
});

Deno.test("followLogs: stdout and stderr lines, then resolves on abort", async () => {
  const rt = testRuntime();
  const run = testRunId();
  const ids: string[] = [];
  try {
    const id = await rt.create({
      name: `gru-test-${run}-logs-${Math.floor(Math.random() * 1e6).toString(36)}`,
      image: IMAGE,
      cmd: [
        "sh",
        "-c",
        "echo before; sleep 1; for i in 1 2 3; do echo gru:web:rt:$i:ms; echo oops$i >&2; " +
        "sleep 0.2; done; printf 'no newline'; sleep 30",
      ],
      env: [],
      labels: { [LABEL_TEST_RUN]: run },
      cpusetCpus: "",
      memory: 0,
      portBindings: {},
    });
    ids.push(id);
    await rt.start(id);
    await new Promise((r) => setTimeout(r, 300)); // "before" is history: not delivered
    const lines: string[] = [];
    const ctl = new AbortController();
    const follow = rt.followLogs(id, (l) => lines.push(l), ctl.signal);
    await eventually(() => lines.length >= 6);
    assert.deepEqual(lines.filter((l) => l.startsWith("gru:")), [
      "gru:web:rt:1:ms",
      "gru:web:rt:2:ms",
      "gru:web:rt:3:ms",
    ]);
    assert.deepEqual(lines.filter((l) => l.startsWith("oops")), ["oops1", "oops2", "oops3"]);
    assert.ok(!lines.includes("before"), "no history");
    const t0 = Date.now();
    ctl.abort();
    await follow;
    assert.ok(Date.now() - t0 < 1000, "abort resolves promptly");
  } finally {
    await Promise.all(ids.map((i) => rt.remove(i)));
    await rt.close();
  }
});

Deno.test("followLogs: resolves when the container exits; unknown container rejects", async () => {
  const rt = testRuntime();
  const run = testRunId();
  const ids: string[] = [];
  try {
    const id = await rt.create({
      name: `gru-test-${run}-logs-end-${Math.floor(Math.random() * 1e6).toString(36)}`,
      image: IMAGE,
      // The engine may drop output written in the instant before exit (a follow race in
      // dockerd), so the container pauses after its last line; partial last lines are covered
      // by the LogDemuxer tests.
      cmd: ["sh", "-c", "sleep 0.5; echo last; sleep 0.5"],
      env: [],
      labels: { [LABEL_TEST_RUN]: run },
      cpusetCpus: "",
      memory: 0,
      portBindings: {},
    });
    ids.push(id);
    await rt.start(id);
    const lines: string[] = [];
    await rt.followLogs(id, (l) => lines.push(l), new AbortController().signal);
    assert.deepEqual(lines, ["last"]);
    await assert.rejects(
      rt.followLogs("0".repeat(64), () => {}, new AbortController().signal),
      (err: Error) => err.name === "NotFoundError",
    );
  } finally {
    await Promise.all(ids.map((i) => rt.remove(i)));
    await rt.close();
  }
});
