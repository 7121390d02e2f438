import assert from "node:assert/strict";
import { parseDecisionTrace } from "./decision_trace.ts";
import { BUILTIN_TRACES, builtinTrace, parseCsvTrace, TraceError } from "./traces.ts";

Deno.test("traces: the built-in ones have the documented shape", () => {
  assert.deepEqual(Object.keys(BUILTIN_TRACES), ["step", "ramp", "diurnal", "spike", "paper"]);
  const paper = builtinTrace("paper").rps;
  assert.equal(paper.length, 3600);
  assert.ok(paper[0]! >= 0.1 && paper[0]! < 0.101 && paper.at(-1)! > 1.999 && paper.at(-1)! <= 2);
  const step = builtinTrace("step").rps;
  assert.deepEqual([step.length, step[0], step[600], step[1800]], [2400, 0.4, 1.6, 0.4]);
  const spike = builtinTrace("spike").rps;
  assert.deepEqual([spike[479], spike[480], spike[599], spike[600]], [0.3, 2, 2, 0.3]);
  assert.throws(() => builtinTrace("flat"), /Unknown trace "flat": expected one of step, ramp/);
});

Deno.test("traces: a CSV is segments of seconds at a rate; comments and blank lines skipped", () => {
  const t = parseCsvTrace("# two segments\nseconds,rps\n\n3, 0.5\r\n2,1\n", "t.csv");
  assert.deepEqual(t, { name: "t.csv", rps: [0.5, 0.5, 0.5, 1, 1] });
});

Deno.test("traces: a bad CSV names the file and the line", () => {
  const cases: [string, RegExp][] = [
    ["", /^t\.csv: empty trace: expected the header "seconds,rps"$/],
    ["time,load\n1,1\n", /^t\.csv:1: expected the header "seconds,rps", got "time,load"$/],
    ["seconds,rps\n", /^t\.csv: no segment after the header/],
    ["seconds,rps\n10,1\n5\n", /^t\.csv:3: expected 2 columns "seconds,rps", got 1: "5"$/],
    ["seconds,rps\n1.5,1\n", /^t\.csv:2: seconds must be a whole number ≥ 1, got "1\.5"$/],
    ["seconds,rps\n0,1\n", /^t\.csv:2: seconds must be a whole number ≥ 1/],
    [
      "# c\nseconds,rps\n10,fast\n",
      /^t\.csv:3: rps must be a number from 0 to 100000, got "fast"$/,
    ],
    ["seconds,rps\n10,-1\n", /^t\.csv:2: rps must be a number/],
    ["seconds,rps\n999999999,1\n", /^t\.csv:2: the trace would last more than 604800 seconds$/],
  ];
  for (const [text, message] of cases) {
    assert.throws(() => parseCsvTrace(text, "t.csv"), (err: Error) => {
      assert.ok(err instanceof TraceError, String(err));
      assert.match(err.message, message);
      return true;
    });
  }
  const long = `seconds,rps\n1,${"9".repeat(300)}\n`;
  assert.throws(() => parseCsvTrace(long, "t.csv"), (err: Error) => err.message.length < 200);
});

function record(time: number, services: Record<string, unknown>) {
  return { seq: 1, time, node: "n1", inputs: { services, node: {} }, chosen: {} };
}

Deno.test("traces: exported decision records become a trace (busy instances / service time)", () => {
  // Records at 0 s, 5 s and 15 s. Cluster figures win over the node's: 4 running at 0.5 busy
  // = 2 busy instances; with S = 5 s and capacity 1 that is 2 / 5 = 0.4 rps for 5 s. The next
  // record has no cpu_avg: 0.4 rps holds 10 s more. The last one, 2 × 0.25 = 0.5 busy → 0.1
  // rps, holds as long as the gap before it (10 s).
  const text = JSON.stringify([
    record(15_000, { web: { running: 2, cpu_avg: 0.25 } }),
    record(0, {
      web: { running: 1, cpu_avg: 0.9, cluster: { running: 4, cpu_avg: 0.5 } },
      db: { running: 1, cpu_avg: 1 },
    }),
    record(5_000, { web: { running: 4, cpu_avg: null } }),
  ]);
  const t = parseDecisionTrace(text, "d.json", { serviceTime: 5, capacity: 1 });
  assert.equal(t.name, "d.json (web)");
  assert.deepEqual(t.rps, [...new Array(15).fill(0.4), ...new Array(10).fill(0.1)]);
  const db = parseDecisionTrace(text, "d.json", { serviceTime: 5, capacity: 1, service: "db" });
  assert.equal(db.rps[0], 0.2);
});

Deno.test("traces: bad decision records name the file and the JSON path", () => {
  const parse = (text: string) =>
    parseDecisionTrace(text, "d.json", { serviceTime: 5, capacity: 1 });
  assert.throws(() => parse("{"), /^TraceError: d\.json: not JSON/);
  assert.throws(() => parse("[]"), /d\.json: expected a non-empty JSON array of decision records/);
  assert.throws(() => parse('[{"time": 1}]'), /d\.json: \$\[0\]: expected a decision record/);
  assert.throws(
    () =>
      parseDecisionTrace(JSON.stringify([record(0, { web: {} })]), "d.json", {
        serviceTime: 5,
        capacity: 1,
      }),
    /d\.json: no record has figures of service "web"/,
  );
});
