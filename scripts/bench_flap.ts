/**
 * Does the fast path add flapping? A real dockerd and an in-process agent with the demo's own
 * `examples/demo/config.json` and `policy.json` (loop 1 s, 5 s window, scale-out over 0.75,
 * scale-in under 0.35, `FastPath` as the demo sets it) manage `web` (gru-demo/web, 1 core,
 * MinInstances 1, MaxInstances 2). For each arm (fast path off, then on) an open-loop load with
 * exponential inter-arrival times (Poisson, seeded) runs for a fixed time at a mean CPU level
 * BELOW the scale-out threshold: whatever scales out is a spurious action, and each spurious
 * scale-out is followed by a scale-in, i.e. a flap. Three arms: fast path off, on with `Calm` 0
 * (the calm rule off), and on as the demo sets it. Counts the executed scale-outs (split into
 * fast-path and regular ticks), scale-ins (up to the return to one instance after the load) and
 * the mean `cpu_avg` the regular ticks saw.
 *
 * `deno run -A scripts/bench_flap.ts [seconds per arm=90] [cpu level=0.6] [seed=1] [work n=30000]`
 * (needs the engine at /var/run/docker.sock or GRU_TEST_DOCKER_SOCKET and the image
 * gru-demo/web).
 * Prints a table; asserts nothing.
 *
 * @module
 */

// deno-lint-ignore-file no-console

import {
  parseAgentConfig,
  parsePolicyConfig,
  parseServiceDescriptor,
} from "../src/config/documents.ts";
import { LABEL_SERVICE, LABEL_TEST_RUN } from "../src/domain/model.ts";
import { runOpenLoop } from "./paper_load.ts";
import { demoDocument, startTestAgent, waitFor } from "../tests/helpers/agent.ts";
import { removeRunContainers, testRuntime } from "../tests/helpers/docker.ts";

const SECONDS = Number(Deno.args[0] ?? 90);
const LEVEL = Number(Deno.args[1] ?? 0.6);
const SEED = Number(Deno.args[2] ?? 1);
/** The CGI's work per request (`n`): larger requests make a burstier CPU. */
const WORK = Number(Deno.args[3] ?? 30000);
const run = `bench-flap-${Date.now().toString(36)}`;
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

const DEMO_CONFIG = demoDocument("config.json");
const DEMO_POLICY = demoDocument("policy.json");

/** The demo's config with the fast path on or off, and `Calm` replaced when given. */
function configWith(fast: boolean, calm?: number) {
  const autonomic = DEMO_CONFIG.Autonomic!;
  const fastPath = {
    ...(autonomic.FastPath as Record<string, unknown>),
    Enable: fast,
    ...(calm === undefined ? {} : { Calm: calm }),
  };
  return parseAgentConfig(
    // Records for a whole arm (the count of actions is read from them).
    { ...DEMO_CONFIG, Autonomic: { ...autonomic, FastPath: fastPath, DecisionHistory: 1000 } },
    "examples/demo/config.json",
  );
}

const rt = testRuntime();
const t = await startTestAgent({
  cluster: "benchflap",
  run,
  baseServices: ["web"],
  docs: {
    config: configWith(false),
    policy: parsePolicyConfig(DEMO_POLICY, "examples/demo/policy.json"),
    services: [parseServiceDescriptor({
      Name: "web",
      Image: "gru-demo/web",
      MinInstances: 1,
      MaxInstances: 2,
      Configuration: { CpuNumber: 1, Ports: { "80": "29310-29319" }, StopTimeout: 1 },
    }, "web.json")],
  },
});
Deno.addSignalListener("SIGINT", () => {
  console.log("\ninterrupted: removing the bench's containers");
  t.close().catch(() => {}).then(() => removeRunContainers(run)).finally(() => Deno.exit(130));
});

async function ports(): Promise<number[]> {
  return (await rt.list({ [LABEL_TEST_RUN]: run, [LABEL_SERVICE]: "web" }))
    .filter((c) => c.state === "running").flatMap((c) => c.hostPorts);
}

async function request(port: number): Promise<number> {
  const t0 = performance.now();
  const res = await fetch(`http://127.0.0.1:${port}/cgi-bin/work?n=${WORK}`, {
    signal: AbortSignal.timeout(20_000),
  });
  await res.body?.cancel();
  return performance.now() - t0;
}

/** CPU seconds of one request: the median of 9 sequential requests on an idle instance. */
async function calibrate(): Promise<number> {
  const port = (await ports())[0]!;
  const xs: number[] = [];
  for (let i = 0; i < 9; i++) xs.push(await request(port));
  return [...xs].sort((a, b) => a - b)[4]! / 1000;
}

interface Arm {
  fast: boolean;
  calm: number | undefined;
  requests: number;
  fastOuts: number;
  regularOuts: number;
  ins: number;
  cpu: number;
  maxInstances: number;
}

async function arm(fast: boolean, perRequest: number, calm?: number): Promise<Arm> {
  await t.store.importDocs("benchflap", { config: configWith(fast, calm) });
  await t.agent.command({ name: "update", target: "agent" });
  await waitFor(async () => (await ports()).length === 1, 120_000, () => "1 instance");
  await sleep(6000); // a quiet window before the load
  const rate = LEVEL / perRequest; // requests per second for LEVEL of one core
  const start = Date.now();
  let maxInstances = 1;
  let targets = await ports();
  const refresh = setInterval(async () => {
    targets = await ports().catch(() => targets);
    maxInstances = Math.max(maxInstances, targets.length);
  }, 500);
  let turn = 0;
  // The paper experiment's open-loop Poisson sender, at a constant rate, round-robin.
  const sent = await runOpenLoop({
    url: () => `http://127.0.0.1:${targets[turn++ % targets.length]}/cgi-bin/work?n=${WORK}`,
    durationS: SECONDS,
    rateFrom: rate,
    rateTo: rate,
    seed: SEED,
    timeoutMs: 20_000,
  });
  const requests = sent.length;
  clearInterval(refresh);
  // A scale-in that follows within the settle time still belongs to this arm.
  await waitFor(async () => (await ports()).length === 1, 60_000, () => "back to 1 instance");
  const ds = t.agent.decisionsList().filter((d) => d.time >= start && d.time <= Date.now());
  const starts = ds.filter((d) => d.actions.some((a) => a.action === "start" && a.ok));
  const cpus = ds.filter((d) => !d.trigger).map((d) => d.inputs.services.web?.cpu_avg)
    .filter((v): v is number => typeof v === "number");
  return {
    fast,
    calm,
    requests,
    fastOuts: starts.filter((d) => d.trigger?.kind === "fast-path").length,
    regularOuts: starts.filter((d) => !d.trigger).length,
    ins: ds.filter((d) => d.actions.some((a) => a.action === "stop" && a.ok)).length,
    cpu: cpus.reduce((a, b) => a + b, 0) / Math.max(1, cpus.length),
    maxInstances,
  };
}

const arms: Arm[] = [];
let perRequest = 0;
try {
  await t.agent.command({ name: "start", target: "agent" });
  await waitFor(async () => (await ports()).length === 1, 60_000, () => "the first instance");
  perRequest = await calibrate();
  arms.push(await arm(false, perRequest));
  arms.push(await arm(true, perRequest, 0));
  arms.push(await arm(true, perRequest));
} finally {
  await t.close();
  await removeRunContainers(run);
  await rt.close();
}

const fp = JSON.stringify((DEMO_CONFIG.Autonomic as Record<string, unknown>).FastPath);
console.log(
  `\n${SECONDS} s of Poisson load per arm at ${LEVEL} of one core (one request ≈ ${
    perRequest.toFixed(3)
  } s of CPU at n=${WORK}, seed ${SEED}); the demo's config.json (FastPath ${fp}) and policy.json\n`,
);
console.log(
  "| fast path | requests | mean cpu_avg (regular ticks) | scale-outs: fast path | scale-outs: " +
    "regular | scale-ins | most instances |",
);
console.log("| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
for (const a of arms) {
  console.log(
    `| ${a.fast ? `on, Calm ${a.calm ?? "as the demo sets it"}` : "off"} | ${a.requests} | ${
      a.cpu.toFixed(2)
    } | ${a.fastOuts} | ${a.regularOuts} | ${a.ins} | ${a.maxInstances} |`,
  );
}
