import assert from "node:assert/strict";
import { measure, median, percentile, svgOf, table } from "./paper_report.ts";
import { rateAt, schedule } from "./paper_load.ts";
import type { LoadRecord } from "./paper_load.ts";

Deno.test("percentile by nearest rank, median", () => {
  const s = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
  assert.equal(percentile(s, 50), 5);
  assert.equal(percentile(s, 95), 10);
  assert.equal(percentile(s, 99), 10);
  assert.ok(Number.isNaN(percentile([], 50)));
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 2, 3]), 2.5);
});

Deno.test("measure: failed requests count as over MAX; instance-seconds; scale actions", () => {
  const rec = (at: number, status: number, latencyMs: number): LoadRecord => ({
    at,
    lagMs: 0,
    status,
    latencyMs,
  });
  const records = [rec(0, 200, 100), rec(1, 200, 600), rec(2, 503, 5), rec(3, 200, 200)];
  const samples = [
    { t: 0, ids: ["a"], up: 1 },
    { t: 4, ids: ["a", "b"], up: 2 },
    { t: 6, ids: ["b", "c"], up: 2 },
  ];
  const m = measure(records, samples, 10, 500);
  assert.equal(m.requests, 4);
  assert.equal(m.failed, 1);
  assert.equal(m.overMax, 0.5); // the 600 ms one and the 503
  assert.equal(m.instanceSeconds, 1 * 4 + 2 * 2 + 2 * 4);
  assert.equal(m.scaleOuts, 2);
  assert.equal(m.scaleIns, 1);
  assert.equal(m.maxInstances, 2);
  const run = {
    variant: "v",
    run: 1,
    config: "x",
    startedAt: "",
    durationS: 10,
    rateFrom: 1,
    rateTo: 2,
    maxRespMs: 500,
    ...m,
    records,
    samples,
  };
  assert.match(svgOf(run), /^<svg [^]*<\/svg>\n$/);
  assert.match(table([run, { ...run, run: 2, p50Ms: 300 }]), /\| v \| 2 \| 200 \(100–300\)/);
});

Deno.test("schedule: the same seed gives the same arrivals, about the rate's integral", () => {
  const o = { url: "", durationS: 100, rateFrom: 1, rateTo: 9, seed: 7 };
  const a = schedule(o);
  assert.deepEqual(schedule(o), a);
  assert.notDeepEqual(schedule({ ...o, seed: 8 }), a);
  assert.ok(a.every((t, i) => t >= 0 && t < 100 && (i === 0 || t >= a[i - 1]!)));
  // ∫ rate = 500 requests; a Poisson count is within ±15 % here with near certainty.
  assert.ok(a.length > 425 && a.length < 575, `${a.length}`);
  // more arrivals in the second half, where the rate is higher
  assert.ok(a.filter((t) => t >= 50).length > a.filter((t) => t < 50).length);
  assert.equal(rateAt(o, 50), 5);
});
