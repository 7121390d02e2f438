/** The `Scaling`, `FastPath` and `ShadowStrategies` settings: values read, bad ones named. */

import assert from "node:assert/strict";
import {
  checkAgentConfig,
  checkServiceDescriptor,
  parseAgentConfig,
  parseServiceDescriptor,
} from "./documents.ts";
import { validateClusterDocs } from "./validate.ts";
import { isCron, isTimeZone, parseMaxStep } from "./scaling.ts";

function errors(scaling: unknown): string[] {
  return checkServiceDescriptor({ Name: "web", Image: "i", Scaling: scaling }, "services/web.json")
    .problems.filter((p) => p.severity === "error").map((p) =>
      `${p.file}: ${p.path}: ${p.message}`
    );
}

Deno.test("Scaling: a full block is read, PascalCase keys, MaxStep as count or percent", () => {
  const c = checkServiceDescriptor({
    Name: "web",
    Image: "i",
    Scaling: {
      Target: { Metric: "cpu_avg", Value: 0.6 },
      ScaleOut: { Tolerance: 0, Cooldown: 5, MaxStep: 4 },
      ScaleIn: { Tolerance: 0.05, StabilizationWindow: 300, MaxStep: "50%" },
      Schedules: [{
        Name: "office-hours",
        Start: "0 8 * * 1-5",
        End: "0 18 * * 1-5",
        TimeZone: "Europe/Berlin",
        MinInstances: 3,
      }],
    },
  }, "services/web.json");
  assert.deepEqual(c.problems, []);
  const s = c.value!.scaling!;
  assert.deepEqual(s.target, { metric: "cpu_avg", value: 0.6 });
  assert.deepEqual(s.scaleOut, { tolerance: 0, cooldown: 5, maxStep: { count: 4 } });
  assert.deepEqual(s.scaleIn?.maxStep, { percent: 50 });
  assert.equal(s.schedules[0]?.timeZone, "Europe/Berlin");
  const none = checkServiceDescriptor({ Name: "web", Image: "i" }, "web.json");
  assert.equal(none.value?.scaling, undefined, "absent stays absent");
});

Deno.test("Scaling: each bad value is an error naming the file, the path and the expectation", () => {
  const cases: { name: string; scaling: unknown; match: RegExp }[] = [
    {
      name: "target value",
      scaling: { Target: { Metric: "cpu_avg", Value: 0 } },
      match:
        /services\/web\.json: \$\.Scaling\.Target\.Value: expected a number greater than 0, found 0/,
    },
    {
      name: "target metric",
      scaling: { Target: { Metric: "rps", Value: 10 } },
      match:
        /\$\.Scaling\.Target\.Metric: expected cpu_avg, memory_avg or one of the service's Analytics \(none\), found "rps"/,
    },
    {
      name: "tolerance",
      scaling: { ScaleIn: { Tolerance: 2 } },
      match: /\$\.Scaling\.ScaleIn\.Tolerance: expected a number from 0 to 1, found 2/,
    },
    {
      name: "max step",
      scaling: { ScaleOut: { MaxStep: "lots" } },
      match:
        /\$\.Scaling\.ScaleOut\.MaxStep: expected a whole number of instances >= 1 or a percent/,
    },
    {
      name: "cron",
      scaling: { Schedules: [{ Name: "x", Start: "8 * *", Duration: 60, MinInstances: 1 }] },
      match: /\$\.Scaling\.Schedules\[0\]\.Start: expected a 5-field cron expression/,
    },
    {
      name: "time zone",
      scaling: {
        Schedules: [{
          Name: "x",
          Start: "0 8 * * *",
          Duration: 60,
          TimeZone: "Mars/Base",
          MinInstances: 1,
        }],
      },
      match: /TimeZone: expected an IANA time zone .*found "Mars\/Base"/,
    },
    {
      name: "end or duration",
      scaling: { Schedules: [{ Name: "x", Start: "0 8 * * *", MinInstances: 1 }] },
      match:
        /Schedules\[0\]: expected a schedule with exactly one of End \(a cron expression\) or Duration \(seconds\), found "neither"/,
    },
    {
      name: "no bound",
      scaling: { Schedules: [{ Name: "x", Start: "0 8 * * *", Duration: 60 }] },
      match: /Schedules\[0\]: expected a schedule with MinInstances, MaxInstances or both/,
    },
    {
      name: "duplicate name",
      scaling: {
        Schedules: [
          { Name: "x", Start: "0 8 * * *", Duration: 60, MinInstances: 1 },
          { Name: "x", Start: "0 9 * * *", Duration: 60, MinInstances: 1 },
        ],
      },
      match: /Schedules\[1\]\.Name: expected a schedule name not used earlier/,
    },
  ];
  for (const c of cases) {
    const found = errors(c.scaling);
    assert.ok(found.some((m) => c.match.test(m)), `${c.name}: ${found.join(" | ")}`);
  }
});

Deno.test("FastPath and ShadowStrategies: defaults when given, errors when wrong", () => {
  const ok = checkAgentConfig({
    Autonomic: { ShadowStrategies: ["target", "probdelta"], FastPath: { Enable: true } },
  }, "config.json");
  assert.deepEqual(ok.problems, []);
  assert.deepEqual(ok.value?.autonomic.fastPath, {
    enable: true,
    margin: 0.1,
    window: 1,
    checkInterval: 0.25,
    calm: 20,
  });
  assert.deepEqual(ok.value?.autonomic.shadowStrategies, ["target", "probdelta"]);
  const bad = checkAgentConfig({
    Autonomic: { ShadowStrategies: ["hpa-ish"], FastPath: { Window: 0, Calm: "soon" } },
  }, "config.json").problems.map((p) => `${p.path}: ${p.message}`).join("\n");
  assert.match(bad, /\$\.Autonomic\.ShadowStrategies\[0\]: expected a list of strategy names/);
  assert.match(bad, /\$\.Autonomic\.FastPath\.Window: expected a number of seconds greater than 0/);
  assert.match(bad, /\$\.Autonomic\.FastPath\.Calm: expected a number of seconds >= 0/);
});

Deno.test("isCron(), isTimeZone(), parseMaxStep()", () => {
  assert.equal(isCron("0 8 * * 1-5"), true);
  assert.equal(isCron("0 0 8 * * 1-5"), false, "six fields");
  assert.equal(isCron("61 * * * *"), false);
  assert.equal(isTimeZone("America/New_York"), true);
  assert.equal(isTimeZone(""), false);
  assert.deepEqual(parseMaxStep(" 25 % "), { percent: 25 });
  assert.equal(parseMaxStep(0), undefined);
  assert.equal(parseMaxStep("0%"), undefined);
});

Deno.test("validateClusterDocs() warns when the strategy is target and no service has a Target", async () => {
  const config = parseAgentConfig({ Autonomic: { PlannerStrategy: "target" } }, "config.json");
  const plain = parseServiceDescriptor({ Name: "web", Image: "i" }, "web.json");
  const found = await validateClusterDocs({ config, services: [plain] });
  assert.equal(found.length, 1);
  assert.equal(found[0]!.severity, "warning");
  assert.match(found[0]!.message, /a service with Scaling\.Target when the strategy is "target"/);
  const tracked = parseServiceDescriptor({
    Name: "web",
    Image: "i",
    Scaling: { Target: { Metric: "cpu_avg", Value: 0.5 } },
  }, "web.json");
  assert.deepEqual(await validateClusterDocs({ config, services: [tracked] }), []);
});

Deno.test("a service with MaxStep round-trips through its stored (parsed) form", async () => {
  const { parseServiceDescriptor } = await import("./documents.ts");
  const { parseJsonc } = await import("./jsonc.ts");
  assert.deepEqual(parseMaxStep({ count: 4 }), { count: 4 });
  assert.deepEqual(parseMaxStep({ Percent: 50 }), { percent: 50 });
  assert.equal(parseMaxStep({ count: 0 }), undefined);
  assert.equal(parseMaxStep({ count: 1, percent: 2 }), undefined);
  const dir = new URL("../../examples/target-tracking/services/", import.meta.url);
  for await (const f of Deno.readDir(dir)) {
    const text = await Deno.readTextFile(new URL(f.name, dir));
    const once = parseServiceDescriptor(parseJsonc(text, f.name).value, f.name);
    const again = parseServiceDescriptor(JSON.parse(JSON.stringify(once)), `stored ${f.name}`);
    assert.deepEqual(again, once);
  }
});
