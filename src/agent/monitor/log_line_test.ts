import assert from "node:assert/strict";
import { MAX_GRU_LINE, parseGruLine } from "./log_line.ts";

const ok = (service: string, metric: string, value: number, unit: string) => ({
  service,
  metric,
  value,
  unit,
});

Deno.test("parseGruLine: valid lines", () => {
  const cases: [string, ReturnType<typeof ok>][] = [
    ["gru:service1:execution_time:123.5:ms", ok("service1", "execution_time", 123.5, "ms")],
    ["gru:web:rt:0:ms", ok("web", "rt", 0, "ms")],
    ["gru:web:rt:7:", ok("web", "rt", 7, "")],
    ["gru:web:rt:.5:s", ok("web", "rt", 0.5, "s")],
    ["gru:web:rt:3.:s", ok("web", "rt", 3, "s")],
    ["gru:web:rt:1.25:ms:extra:fields", ok("web", "rt", 1.25, "ms")],
    ["2024-01-01T00:00:00Z INFO gru:web:rt:12:ms", ok("web", "rt", 12, "ms")],
    ["gru:a:b:1:x then gru:web:rt:2:ms", ok("web", "rt", 2, "ms")],
    ["gru:web:rt:4:ms\r", ok("web", "rt", 4, "ms")],
    ["gru:my-svc.v2:queue_len:00042:items", ok("my-svc.v2", "queue_len", 42, "items")],
  ];
  for (const [line, want] of cases) assert.deepEqual(parseGruLine(line), want, line);
});

Deno.test("parseGruLine: lines without gru: are not metric lines", () => {
  for (const line of ["", "hello", "GRU:web:rt:1:ms", "gru web rt 1 ms", "agru", "gru"]) {
    assert.equal(parseGruLine(line), undefined, line);
  }
});

Deno.test("parseGruLine: malformed lines give a short error", () => {
  const cases: [string, RegExp][] = [
    ["gru:web:rt:1", /not well formed/],
    ["gru:", /not well formed/],
    ["gru:web:rt:5:ms gru:", /not well formed/],
    ["gru:web:rt:1,4:ms", /plain decimal/],
    ["gru:web:rt:NaN:ms", /plain decimal/],
    ["gru:web:rt:Infinity:ms", /plain decimal/],
    ["gru:web:rt:1e3:ms", /plain decimal/],
    ["gru:web:rt:0x10:ms", /plain decimal/],
    ["gru:web:rt:+1:ms", /plain decimal/],
    ["gru:web:rt::ms", /plain decimal/],
    ["gru:web:rt:1.2.3:ms", /plain decimal/],
    ["gru:web:rt:-1:ms", /Negative/],
    ["gru:web:rt:-0:ms", /Negative/],
    [`gru:web:rt:${"9".repeat(400)}:ms`, /out of range/],
    ["gru::rt:1:ms", /service name/],
    ["gru:we b:rt:1:ms", /service name/],
    [`gru:${"s".repeat(65)}:rt:1:ms`, /service name/],
    ["gru:web::1:ms", /metric name/],
    ["gru:web:r/t:1:ms", /metric name/],
    ["gru:web:5xx:1:ms", /metric name/],
    ["gru:web:.rt:1:ms", /metric name/],
    [`gru:web:${"m".repeat(65)}:1:ms`, /metric name/],
    [`gru:web:${"m".repeat(3000)}:1:ms`, /metric name/],
    ["gru:web:r\u001b[2Jt:1:ms", /metric name "r\\u001b\[2Jt"/],
    [`gru:web:rt:1:${"x".repeat(MAX_GRU_LINE)}`, /longer than 4096/],
  ];
  for (const [line, want] of cases) {
    const got = parseGruLine(line);
    assert.ok(got && "error" in got, `expected an error for ${line.slice(0, 60)}`);
    assert.match(got.error, want, line.slice(0, 60));
    assert.ok(got.error.length <= 140, `errors stay short: ${got.error}`);
  }
});

Deno.test("parseGruLine: a line of exactly 4096 characters is accepted", () => {
  const prefix = "gru:web:rt:1:";
  const line = prefix + "u".repeat(MAX_GRU_LINE - prefix.length);
  assert.equal(line.length, MAX_GRU_LINE);
  assert.deepEqual(
    parseGruLine(line),
    ok("web", "rt", 1, "u".repeat(MAX_GRU_LINE - prefix.length)),
  );
});
