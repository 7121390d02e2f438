import assert from "node:assert/strict";
import { simulateCommand } from "./simulate.ts";
import { memoryOutput } from "../context.ts";
import { cliDeps, failure, runCommand } from "./_testing.ts";

function harness() {
  const out = memoryOutput();
  const deps = cliDeps("gru simulate", out);
  const run = async (...args: string[]) => {
    await runCommand(simulateCommand(deps), ["simulate", ...args]);
  };
  return { out, run };
}

const EXAMPLE = `${import.meta.dirname}/../../../examples/simulate/burst.csv`;

Deno.test("gru simulate --json: one object per strategy, byte-identical for the same seed", async () => {
  const a = harness();
  await a.run("--trace", "spike", "--strategies", "probdelta,hpa", "--seed", "5", "--json");
  const b = harness();
  await b.run("--trace", "spike", "--strategies", "probdelta,hpa", "--seed", "5", "--json");
  assert.equal(a.out.stdout.join("\n"), b.out.stdout.join("\n"));
  const parsed = JSON.parse(a.out.stdout.join("\n"));
  assert.deepEqual(parsed.map((o: { strategy: string }) => o.strategy), ["probdelta", "hpa"]);
  for (const o of parsed) {
    assert.deepEqual(Object.keys(o), [
      "trace",
      "seed",
      "strategy",
      "instanceSeconds",
      "sloViolationSeconds",
      "actions",
      "maxInstances",
    ]);
    assert.equal(o.trace, "spike");
    assert.ok(o.instanceSeconds >= 1200, "at least one instance every second of 20 minutes");
  }
});

Deno.test("gru simulate: a CSV trace, the table and the SVG plot", async () => {
  const dir = await Deno.makeTempDir({ prefix: "gru-simulate-" });
  try {
    const h = harness();
    const plot = `${dir}/out.svg`;
    await h.run(
      "--trace",
      EXAMPLE,
      "--strategies",
      "threshold,hpa",
      "--plot",
      plot,
      "--nodes",
      "2",
    );
    const table = h.out.stdout.join("\n");
    assert.match(table, /^trace .*burst\.csv: \d+ s, seed 1, 2 node\(s\) of 16 cores/);
    assert.match(table, /\nstrategy +instance-s +mean inst\. +SLO-viol\. s +actions +max inst\.\n/);
    assert.match(table, /\nthreshold +\d+ /);
    assert.match(table, /\nhpa +\d+ /);
    assert.deepEqual(h.out.stderr, [`Wrote ${plot}`]);
    const svg = await Deno.readTextFile(plot);
    assert.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
    assert.equal(svg.match(/<path /g)?.length, 4, "load and instances for each strategy");
    assert.match(svg, />threshold: \d+ instance-s/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("gru simulate: unknown trace, unknown strategy, bad flags and a bad CSV exit 2", async () => {
  const h = harness();
  const unknownTrace = await failure(h.run("--trace", "flat"));
  assert.equal(unknownTrace.exitCode, 2);
  assert.match(
    unknownTrace.message,
    /^Cannot read --trace "flat": no such file; expected one of step, ramp, diurnal, spike, paper/,
  );
  const unknownStrategy = await failure(h.run("--trace", "spike", "--strategies", "hpa,magic"));
  assert.equal(unknownStrategy.exitCode, 2);
  assert.match(
    unknownStrategy.message,
    /^Invalid --strategies "hpa,magic": unknown strategy "magic"; expected .*probdelta.*hpa/,
  );
  assert.match((await failure(h.run("--strategies", ","))).message, /: no strategy;/);
  assert.match(
    (await failure(h.run("--seed", "x"))).message,
    /^Invalid --seed "x": expected a whole/,
  );
  assert.match((await failure(h.run("--nodes", "0"))).message, /^Invalid --nodes "0"/);
  assert.match((await failure(h.run("--target", "2"))).message, /^Invalid --target "2"/);
  const dir = await Deno.makeTempDir({ prefix: "gru-simulate-" });
  try {
    const bad = `${dir}/bad.csv`;
    await Deno.writeTextFile(bad, "seconds,rps\n60,0.5\n60,lots\n");
    const csv = await failure(h.run("--trace", bad));
    assert.equal(csv.exitCode, 2);
    assert.equal(csv.message, `${bad}:3: rps must be a number from 0 to 100000, got "lots"`);
    const json = `${dir}/d.json`;
    await Deno.writeTextFile(json, "[]");
    assert.match(
      (await failure(h.run("--trace", json))).message,
      /d\.json: expected a non-empty JSON array of decision records/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
  assert.deepEqual(h.out.stdout, [], "nothing printed on failure");
});
